// unwrap over the answers a call can get: the 2xx body, a 204, a 2xx without the body its route declares, and
// failures of either writer. The client's fetch is replaced, so nothing listens anywhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSquelchClient, SquelchRequestError, unwrap } from "../src/index.js";

function clientAnswering(answer: () => Response) {
  return createSquelchClient({ baseUrl: "http://api.test", fetch: async () => answer() });
}

const sandbox = { params: { path: { name: "rehearsal" } } };

test("a 2xx answers its body", async () => {
  const api = clientAnswering(() => Response.json({ sandboxes: [] }));
  assert.deepEqual(await unwrap(api.GET("/api/demo/sandboxes")), { sandboxes: [] });
});

test("a 204 answers null, the type its route declares", async () => {
  const api = clientAnswering(() => new Response(null, { status: 204 }));
  assert.equal(await unwrap(api.DELETE("/api/demo/sandboxes/{name}", sandbox)), null);
});

test("a 200 without a body throws rather than answer undefined as the route's type", async () => {
  const api = clientAnswering(() => new Response("", { status: 200, headers: { "Content-Length": "0" } }));
  await assert.rejects(unwrap(api.GET("/api/demo/sandboxes")), (thrown: unknown) => {
    assert.ok(thrown instanceof SquelchRequestError);
    assert.equal(thrown.detail.kind, "unknown");
    assert.equal(thrown.detail.status, 200);
    return true;
  });
});

test("our error throws a SquelchRequestError whose detail has our code", async () => {
  const body = { error: { code: "sandbox_not_found", message: "no such sandbox", details: [] } };
  const api = clientAnswering(() => Response.json(body, { status: 404 }));
  await assert.rejects(unwrap(api.GET("/api/demo/sandboxes")), (thrown: unknown) => {
    assert.ok(thrown instanceof SquelchRequestError);
    assert.equal(thrown.message, "404 sandbox_not_found: no such sandbox");
    assert.deepEqual(thrown.detail.kind === "api" && thrown.detail.code, "sandbox_not_found");
    return true;
  });
});

test("API Gateway's 401 throws a SquelchRequestError of the gateway kind", async () => {
  const api = clientAnswering(() => Response.json({ message: "Unauthorized" }, { status: 401 }));
  await assert.rejects(unwrap(api.GET("/api/demo/sandboxes")), (thrown: unknown) => {
    assert.ok(thrown instanceof SquelchRequestError);
    assert.equal(thrown.detail.kind, "gateway");
    return true;
  });
});

test("a 304 throws: there is no body to answer", async () => {
  const api = clientAnswering(() => new Response(null, { status: 304 }));
  const customer = { params: { path: { customer_ref: "aco" } } };
  await assert.rejects(unwrap(api.GET("/api/customers/{customer_ref}", customer)), SquelchRequestError);
});
