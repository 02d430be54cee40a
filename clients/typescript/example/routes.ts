// Every route of the OpenAPI document, called through the typed client, each answer read as its own type.
// Type-checked by `make client-check` (no server needed); `make client-example` runs it against `make run`.
import { createSquelchClient, toSquelchError, type Route, type SquelchClient, type SquelchError } from "../src/index.js";

/** What the steps share: the customer, and the session that the workflow start opens. */
export interface Run {
  customer: string;
  sessionId?: string;
}

/**
 * One route's call: a line saying what came back, or the error (either shape, told apart by `toSquelchError`).
 * openapi-fetch answers `{ data, error, response }`; `data` is there (and typed) exactly when the call succeeded.
 */
export type Step = (api: SquelchClient, run: Run) => Promise<string | SquelchError>;

/**
 * One step per route, run in this order. `satisfies Record<Route, Step>` makes tsc fail when the OpenAPI document
 * gains a route that is missing here (add a step for it) or loses one that is still here.
 */
export const steps = {
  // Presenters only: needs a demo-group token (Authorization: Bearer …); without one, a 401.
  // In the client's sandbox (X-Demo-Sandbox; the default story without one), created when new.
  "POST /api/demo/reset": async (api) => {
    const { data, error, response } = await api.POST("/api/demo/reset", {
      body: { confirm: true, checkpoint: "act1-start" },
    });
    if (!data) return toSquelchError(error, response);
    return `${data.message}: ${data.sandbox} at ${data.checkpoint}${data.created ? " (new)" : ""}, anchor ${data.anchor_date}, ${data.duration_ms} ms, by ${data.requested_by}`;
  },

  // Presenters only, too.
  "GET /api/demo/sandboxes": async (api) => {
    const { data, error, response } = await api.GET("/api/demo/sandboxes");
    if (!data) return toSquelchError(error, response);
    return data.sandboxes.map((s) => `${s.name} (${s.checkpoint}, ${s.story_age_days} days old)`).join("; ");
  },

  // Presenters only; the default sandbox cannot be deleted (409), so this one asks for a sandbox that is not there.
  "DELETE /api/demo/sandboxes/{name}": async (api) => {
    const { error, response } = await api.DELETE("/api/demo/sandboxes/{name}", {
      params: { path: { name: "example-that-is-not-there" } },
    });
    if (response.status === 204) return "deleted";
    return toSquelchError(error, response);
  },

  "GET /api/customers/{customer_ref}": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    return `${data.name}: ARR ${data.arr}, renewal ${data.renewal_date} (${data.days_to_renewal} days), health ${data.health_score}`;
  },

  "GET /api/customers/{customer_ref}/contacts": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}/contacts", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    return data.contacts.map((c) => `${c.name} (${c.title}, satisfaction ${c.satisfaction})`).join("; ");
  },

  "GET /api/customers/{customer_ref}/operations": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}/operations", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    return `${data.operations.length} operations: ${data.operations.map((o) => o.name).join(", ")}`;
  },

  "GET /api/customers/{customer_ref}/health": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}/health", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    return `health ${data.overall_health_score}, churn ${data.churn_probability}, risk ${data.risk_level}`;
  },

  "GET /api/customers/{customer_ref}/tickets": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}/tickets", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    const { total_tickets_2_weeks, normal_rate, spike_multiplier } = data.summary;
    return `${data.tickets.length} tickets; ${total_tickets_2_weeks} in two weeks, normal ${normal_rate}, spike ×${spike_multiplier ?? "-"}`;
  },

  "GET /api/customers/{customer_ref}/opportunities": async (api, run) => {
    const { data, error, response } = await api.GET("/api/customers/{customer_ref}/opportunities", {
      params: { path: { customer_ref: run.customer } },
    });
    if (!data) return toSquelchError(error, response);
    return data.opportunities.map((o) => `${o.name} (${o.value})`).join("; ");
  },

  // 201 when it opens a session, 200 when this customer already has an open one of this type.
  "POST /api/workflows/start": async (api, run) => {
    const { data, error, response } = await api.POST("/api/workflows/start", {
      body: { customer_id: run.customer, workflow_type: "strategic_planning" },
    });
    if (!data) return toSquelchError(error, response);
    run.sessionId = data.session_id;
    return `${response.status === 201 ? "started" : "resumed"} ${data.session_id}, step ${data.current_step} of ${data.total_steps}`;
  },

  "PUT /api/workflows/{session_id}/step": async (api, run) => {
    if (!run.sessionId) return "skipped: no session was started";
    const { data, error, response } = await api.PUT("/api/workflows/{session_id}/step", {
      params: { path: { session_id: run.sessionId } },
      body: { step: 1, data: { reviewed: ["health", "tickets"], note: "typed client example" } },
    });
    if (!data) return toSquelchError(error, response);
    return `saved; now at step ${data.current_step} of ${data.total_steps}, completed: ${data.completed}`;
  },

  "GET /api/workflows/{session_id}/context": async (api, run) => {
    if (!run.sessionId) return "skipped: no session was started";
    const { data, error, response } = await api.GET("/api/workflows/{session_id}/context", {
      params: { path: { session_id: run.sessionId } },
    });
    if (!data) return toSquelchError(error, response);
    return `step ${data.current_step}, saved steps: ${Object.keys(data.data).join(", ") || "none"}`;
  },

  "POST /api/ai/risk-analysis": async (api, run) => {
    const { data, error, response } = await api.POST("/api/ai/risk-analysis", { body: { customer_id: run.customer } });
    if (!data) return toSquelchError(error, response);
    return `risk ${data.risk_level}, churn ${data.churn_probability} (${data.provider}): ${data.recommendation}`;
  },

  "POST /api/ai/opportunity-analysis": async (api, run) => {
    const { data, error, response } = await api.POST("/api/ai/opportunity-analysis", {
      body: { customer_id: run.customer },
    });
    if (!data) return toSquelchError(error, response);
    return `${data.opportunities.length} opportunities (${data.provider}): ${data.recommendation}`;
  },

  // `context` and `purpose` are optional (the server defaults them to ""); `customer_id` too (the demo customer).
  "POST /api/ai/email-draft": async (api, run) => {
    const { data, error, response } = await api.POST("/api/ai/email-draft", {
      body: { customer_id: run.customer, recipient: "Marcus Castellan", purpose: "acknowledge concerns and request call" },
    });
    if (!data) return toSquelchError(error, response);
    return `to ${data.recipient.name}: "${data.subject}" (${data.provider})`;
  },
} satisfies Record<Route, Step>;

/** The clients the failures use: `anonymous` has no token. */
export interface Clients {
  api: SquelchClient;
  anonymous: SquelchClient;
}

/**
 * Failures on purpose, to show both error shapes. Without a token, the local server answers the reset with our
 * shape (401 `unauthenticated`); in AWS the JWT authorizer answers first, with API Gateway's `{"message": "Unauthorized"}`,
 * which the last one simulates with a `fetch` of its own.
 */
export const failures = {
  "unknown customer: 404 customer_not_found": async ({ api }: Clients) => {
    const { error, response } = await api.GET("/api/customers/{customer_ref}", {
      params: { path: { customer_ref: "nobody" } },
    });
    return response.ok ? "unexpectedly found" : toSquelchError(error, response);
  },
  "reset without a token: 401": async ({ anonymous }: Clients) => {
    const { error, response } = await anonymous.POST("/api/demo/reset", { body: { confirm: true } });
    return response.ok ? "unexpectedly reset" : toSquelchError(error, response);
  },
  "reset without a token in AWS: 401 from the JWT authorizer (simulated)": async () => {
    const aws = createSquelchClient({
      baseUrl: "https://api.example.invalid",
      fetch: async () => Response.json({ message: "Unauthorized" }, { status: 401 }),
    });
    const { error, response } = await aws.POST("/api/demo/reset", { body: { confirm: true } });
    return response.ok ? "unexpectedly reset" : toSquelchError(error, response);
  },
} satisfies Record<string, (clients: Clients) => Promise<string | SquelchError>>;

/** How a front end might show either error shape. */
export function describe(error: SquelchError): string {
  switch (error.kind) {
    case "api": {
      const details = error.details.map((d) => JSON.stringify(d)).join("; ");
      return `${error.status} ${error.code}: ${error.message}${details ? ` [${details}]` : ""}`;
    }
    case "gateway":
      return `${error.status} from API Gateway: ${error.message}${error.status === 401 ? " (sign in again)" : ""}`;
    case "unknown":
      return `${error.message}: ${JSON.stringify(error.body)}`;
  }
}
