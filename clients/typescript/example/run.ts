// Runs the example against a server: `make client-example` (against `make run`, with a demo token), or
//   npm run example -- http://127.0.0.1:3000     (SQUELCH_TOKEN=<token> to reset the demo too)
// With a token it makes (or resets) the sandbox client-example, lists the sandboxes and deletes it; the default
// story is only read. Exits 1 when any route failed, or a failure on purpose did not
// answer the error it should.
import { createSquelchClient, SquelchRequestError } from "@squelch/act1-client";
import { describe, failures, steps, type Run } from "./routes.js";

const baseUrl = process.argv[2] ?? process.env.SQUELCH_BASE_URL ?? "http://127.0.0.1:3000";
const token = process.env.SQUELCH_TOKEN || undefined;

const api = createSquelchClient({ baseUrl, ...(token ? { token } : {}) });
const anonymous = createSquelchClient({ baseUrl });
const run: Run = { customer: "aco", sandbox: "client-example" };

/** What went wrong, in one line: either error shape of the API, or anything else a step threw. */
function explain(thrown: unknown): string {
  if (thrown instanceof SquelchRequestError) return `${thrown.detail.kind}: ${describe(thrown.detail)}`;
  return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
}

console.log(`${baseUrl}${token ? "" : " (no SQUELCH_TOKEN: the reset and the sandbox routes will answer 401)"}`);
let failed = 0;
for (const [route, step] of Object.entries(steps)) {
  try {
    console.log(`ok    ${route}\n        ${await step(api, run)}`);
  } catch (thrown) {
    failed += 1;
    console.log(`FAIL  ${route}\n        ${explain(thrown)}`);
  }
}

console.log("\nerrors on purpose:");
let unexpected = 0;
for (const [what, { expect, call }] of Object.entries(failures)) {
  try {
    await call({ api, anonymous });
    unexpected += 1;
    console.log(`FAIL  ${what}\n        answered 2xx`);
  } catch (thrown) {
    const { kind, status } = thrown instanceof SquelchRequestError ? thrown.detail : { kind: "thrown", status: 0 };
    const as = kind === expect.kind && status === expect.status ? "ok  " : "FAIL";
    if (as === "FAIL") unexpected += 1;
    console.log(`${as}  ${what}\n        ${explain(thrown)}`);
  }
}
console.log(`\n${Object.keys(steps).length - failed} routes answered, ${failed} failed; ${unexpected} failures on purpose went wrong`);
process.exitCode = failed || unexpected ? 1 : 0;
