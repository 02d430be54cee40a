// toSquelchError and isTokenExpired over the answers each writer gives: our code (locally and in Lambda) and
// API Gateway's JWT authorizer, whose 401 body is the same for every refusal and whose header says why.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isTokenExpired, toSquelchError } from "../src/index.js";

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return { body, response: Response.json(body, { status, headers }) };
}

const gatewayRefusal = (description: string) =>
  answer(401, { message: "Unauthorized" }, {
    "WWW-Authenticate": `Bearer scope="" error="invalid_token" error_description="${description}"`,
  });

test("our 401 token_expired is an expired token", () => {
  const { body, response } = answer(401, { error: { code: "token_expired", message: "sign in again", details: [] } });
  const detail = toSquelchError(body, response);
  assert.equal(detail.kind, "api");
  assert.equal(isTokenExpired(detail), true);
});

test("our 401 unauthenticated is not", () => {
  const { body, response } = answer(401, { error: { code: "unauthenticated", message: "no token", details: [] } });
  assert.equal(isTokenExpired(toSquelchError(body, response)), false);
});

test("API Gateway's 401 says expired only in its header", () => {
  const { body, response } = gatewayRefusal("the token has expired");
  const detail = toSquelchError(body, response);
  assert.equal(detail.kind, "gateway");
  assert.equal(detail.kind === "gateway" && detail.wwwAuthenticate?.includes("expired"), true);
  assert.equal(isTokenExpired(detail), true);
});

test("API Gateway's 401 for another reason, or with the header unreadable, is not an expired token", () => {
  for (const { body, response } of [
    gatewayRefusal("the token does not have a valid audience"),
    answer(401, { message: "Unauthorized" }),
  ]) {
    assert.equal(isTokenExpired(toSquelchError(body, response)), false);
  }
});

test("only a 401 can be an expired token", () => {
  const { body, response } = answer(403, { error: { code: "token_expired", message: "odd", details: [] } });
  assert.equal(isTokenExpired(toSquelchError(body, response)), false);
});
