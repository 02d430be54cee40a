// Type test, compiled and never run, against the built package as a consumer sees it (dist/*.d.ts, by the
// package's name): `unwrap(call)` is the data of the route's 2xx answer, exactly (never
// `| undefined`, never `any`), under a plain `"strict": true` (tsconfig.strict.json) and with
// `exactOptionalPropertyTypes` (tsconfig.exact.json). `npm run typecheck` compiles it with both.
import { createSquelchClient, unwrap, type paths, type Schema } from "@squelch/act1-client";

/** The JSON body of a route's answer with this status, as the OpenAPI document declares it. */
type Body<P extends keyof paths, M extends "get" | "put" | "post" | "delete", S extends number> =
  NonNullable<paths[P][M]> extends { responses: Record<S, { content: { "application/json": infer B } }> } ? B : never;

type IsAny<T> = 0 extends 1 & T ? true : false;
/** true when A and B are assignable both ways and neither is `any`; `never` and `T | undefined` are not T. */
type Same<A, B> = IsAny<A> extends true ? false : IsAny<B> extends true ? false
  : [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function expectSame<A, B>(same: Same<A, B>): void {
  void same;
}

const api = createSquelchClient({ baseUrl: "http://127.0.0.1:3000" });
const customer = { params: { path: { customer_ref: "aco" } } };

// A GET whose route also answers 304 (no body): the data is the 200's body.
const profile = await unwrap(api.GET("/api/customers/{customer_ref}", customer));
const profileAsDeclared: Body<"/api/customers/{customer_ref}", "get", 200> = profile;
const profileBySchemaName: Schema<"CustomerProfile"> = profile;
expectSame<typeof profile, Schema<"CustomerProfile">>(true);
console.log(profileAsDeclared.name, profileBySchemaName.renewal_date, profile.days_to_renewal);

// A POST that answers 200 or 201 with the same schema.
const started = await unwrap(api.POST("/api/workflows/start", {
  body: { customer_id: "aco", workflow_type: "strategic_planning" },
}));
const startedAsDeclared: Body<"/api/workflows/start", "post", 201> = started;
expectSame<typeof started, Schema<"StartedWorkflow">>(true);

// A PUT with path parameters and a body.
const saved = await unwrap(api.PUT("/api/workflows/{session_id}/step", {
  params: { path: { session_id: startedAsDeclared.session_id } },
  body: { step: 1, data: { note: "type test" } },
}));
expectSame<typeof saved, Body<"/api/workflows/{session_id}/step", "put", 200>>(true);

// A route without parameters, and the reset's body.
const sandboxes: Schema<"SandboxList"> = await unwrap(api.GET("/api/demo/sandboxes"));
const reset = await unwrap(api.POST("/api/demo/reset", { body: { confirm: true } }));
expectSame<typeof reset, Schema<"ResetResponse">>(true);
console.log(sandboxes.sandboxes.length, reset.sandbox);

// A 204: the document declares no body (null), and unwrap answers null.
const deleted = await unwrap(api.DELETE("/api/demo/sandboxes/{name}", { params: { path: { name: "gone" } } }));
expectSame<typeof deleted, null>(true);
