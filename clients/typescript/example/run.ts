// Runs the example against a server: `make client-example` (against `make run`, with a demo token), or
//   npm run example -- http://127.0.0.1:3000     (SQUELCH_TOKEN=<token> to reset the demo too)
// It resets the demo data when given a token. Exits 1 when any route answered an error.
import { createSquelchClient } from "../src/index.js";
import { describe, failures, steps, type Run } from "./routes.js";

const baseUrl = process.argv[2] ?? process.env.SQUELCH_BASE_URL ?? "http://127.0.0.1:3000";
const token = process.env.SQUELCH_TOKEN || undefined;

const api = createSquelchClient({ baseUrl, ...(token ? { token } : {}) });
const anonymous = createSquelchClient({ baseUrl });
const run: Run = { customer: "aco" };

console.log(`${baseUrl}${token ? "" : " (no SQUELCH_TOKEN: the reset will answer 401)"}`);
let failed = 0;
for (const [route, step] of Object.entries(steps)) {
  const outcome = await step(api, run);
  if (typeof outcome === "string") {
    console.log(`ok    ${route}\n        ${outcome}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${route}\n        ${describe(outcome)}`);
  }
}
console.log("\nerrors on purpose:");
for (const [what, call] of Object.entries(failures)) {
  const outcome = await call({ api, anonymous });
  console.log(`      ${what}\n        ${typeof outcome === "string" ? outcome : `${outcome.kind}: ${describe(outcome)}`}`);
}
console.log(`\n${Object.keys(steps).length - failed} routes answered, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
