// Every route of the OpenAPI document, called through the typed client as a front end would: imported by the
// package's name, each answer read with `unwrap` (the data of the 2xx answer, or a thrown SquelchRequestError).
// Type-checked by `make client-check` (no server needed); `make client-example` runs it against `make run`, and
// `make client-package-check` runs it from the packed client installed into a scratch project.
import {
  createSquelchClient,
  SquelchRequestError,
  toSquelchError,
  unwrap,
  type Route,
  type SquelchClient,
  type SquelchError,
} from "@squelch/act1-client";

/** What the steps share: the customer, the presenter's sandbox, and the session that the workflow start opens. */
export interface Run {
  customer: string;
  /** A sandbox the reset makes (or resets) and the delete removes: the default story stays as it was. */
  sandbox: string;
  sessionId?: string;
}

/**
 * One route's call, answering a line saying what came back. A failed call throws: `unwrap` throws a
 * `SquelchRequestError` for any answer that is not 2xx (its `detail` tells our error shape from API Gateway's).
 */
export type Step = (api: SquelchClient, run: Run) => Promise<string>;

/**
 * One step per route, run in this order. `satisfies Record<Route, Step>` makes tsc fail when the OpenAPI document
 * gains a route that is missing here (add a step for it) or loses one that is still here.
 */
export const steps = {
  // Presenters only: needs a demo-group token (Authorization: Bearer …); without one, a 401.
  // In the sandbox its X-Demo-Sandbox header names, created when new (a client made with `sandbox` sends the
  // header on every call; without it, the default story).
  "POST /api/demo/reset": async (api, run) => {
    const data = await unwrap(api.POST("/api/demo/reset", {
      params: { header: { "X-Demo-Sandbox": run.sandbox } },
      body: { confirm: true, checkpoint: "act1-start" },
    }));
    return `${data.message}: ${data.sandbox} at ${data.checkpoint}${data.created ? " (new)" : ""}, anchor ${data.anchor_date}, ${data.duration_ms} ms, by ${data.requested_by}`;
  },

  // Presenters only, too.
  "GET /api/demo/sandboxes": async (api) => {
    const data = await unwrap(api.GET("/api/demo/sandboxes"));
    return data.sandboxes.map((s) => `${s.name} (${s.checkpoint}, ${s.story_age_days} days old)`).join("; ");
  },

  // Presenters only, too: the stories a reset's `story` may name, each with its checkpoints.
  "GET /api/demo/stories": async (api) => {
    const data = await unwrap(api.GET("/api/demo/stories"));
    return data.stories.map((s) => `${s.name} (${s.checkpoints.map((c) => c.name).join(", ")})`).join("; ");
  },

  // Presenters only, too: Get ready for the sandbox the reset made (every function warmed, the story checked).
  "POST /api/demo/preflight": async (api, run) => {
    const data = await unwrap(api.POST("/api/demo/preflight", {
      params: { header: { "X-Demo-Sandbox": run.sandbox } },
    }));
    return `${data.verdict}: ${data.functions.length} functions in ${data.duration_ms} ms, story of ${data.sandbox.anchor_date}`;
  },

  // Presenters only; deletes the sandbox the reset made (the default one cannot be deleted: 409). A 204 has no
  // body: `unwrap` answers null.
  "DELETE /api/demo/sandboxes/{name}": async (api, run) => {
    await unwrap(api.DELETE("/api/demo/sandboxes/{name}", { params: { path: { name: run.sandbox } } }));
    return `deleted ${run.sandbox}`;
  },

  "GET /api/customers/{customer_ref}": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}", {
      params: { path: { customer_ref: run.customer } },
    }));
    return `${data.name}: ARR ${data.arr}, renewal ${data.renewal_date} (${data.days_to_renewal} days), health ${data.health_score}`;
  },

  "GET /api/customers/{customer_ref}/contacts": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}/contacts", {
      params: { path: { customer_ref: run.customer } },
    }));
    return data.contacts.map((c) => `${c.name} (${c.title}, satisfaction ${c.satisfaction})`).join("; ");
  },

  "GET /api/customers/{customer_ref}/operations": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}/operations", {
      params: { path: { customer_ref: run.customer } },
    }));
    return `${data.operations.length} operations: ${data.operations.map((o) => o.name).join(", ")}`;
  },

  "GET /api/customers/{customer_ref}/health": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}/health", {
      params: { path: { customer_ref: run.customer } },
    }));
    return `health ${data.overall_health_score}, churn ${data.churn_probability}, risk ${data.risk_level}`;
  },

  "GET /api/customers/{customer_ref}/tickets": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}/tickets", {
      params: { path: { customer_ref: run.customer } },
    }));
    const { total_tickets_2_weeks, normal_rate, spike_multiplier } = data.summary;
    return `${data.tickets.length} tickets; ${total_tickets_2_weeks} in two weeks, normal ${normal_rate}, spike ×${spike_multiplier ?? "-"}`;
  },

  "GET /api/customers/{customer_ref}/opportunities": async (api, run) => {
    const data = await unwrap(api.GET("/api/customers/{customer_ref}/opportunities", {
      params: { path: { customer_ref: run.customer } },
    }));
    return data.opportunities.map((o) => `${o.name} (${o.value})`).join("; ");
  },

  // 201 when it opens a session, 200 when this customer already has an open one of this type: the one step that
  // reads the status, so it takes openapi-fetch's answer apart itself (`data` is there exactly when it succeeded).
  "POST /api/workflows/start": async (api, run) => {
    const { data, error, response } = await api.POST("/api/workflows/start", {
      body: { customer_id: run.customer, workflow_type: "strategic_planning" },
    });
    if (!data) throw new SquelchRequestError(toSquelchError(error, response));
    run.sessionId = data.session_id;
    return `${response.status === 201 ? "started" : "resumed"} ${data.session_id}, step ${data.current_step} of ${data.total_steps}`;
  },

  "PUT /api/workflows/{session_id}/step": async (api, run) => {
    if (!run.sessionId) throw new Error("no session: the workflow start failed");
    const data = await unwrap(api.PUT("/api/workflows/{session_id}/step", {
      params: { path: { session_id: run.sessionId } },
      body: { step: 1, data: { reviewed: ["health", "tickets"], note: "typed client example" } },
    }));
    return `saved; now at step ${data.current_step} of ${data.total_steps}, completed: ${data.completed}`;
  },

  "GET /api/workflows/{session_id}/context": async (api, run) => {
    if (!run.sessionId) throw new Error("no session: the workflow start failed");
    const data = await unwrap(api.GET("/api/workflows/{session_id}/context", {
      params: { path: { session_id: run.sessionId } },
    }));
    return `step ${data.current_step}, saved steps: ${Object.keys(data.data).join(", ") || "none"}`;
  },

  "POST /api/ai/risk-analysis": async (api, run) => {
    const data = await unwrap(api.POST("/api/ai/risk-analysis", { body: { customer_id: run.customer } }));
    return `risk ${data.risk_level}, churn ${data.churn_probability} (${data.provider}): ${data.recommendation}`;
  },

  "POST /api/ai/opportunity-analysis": async (api, run) => {
    const data = await unwrap(api.POST("/api/ai/opportunity-analysis", {
      body: { customer_id: run.customer },
    }));
    return `${data.opportunities.length} opportunities (${data.provider}): ${data.recommendation}`;
  },

  // `context` and `purpose` are optional (the server defaults them to ""); `customer_id` too (the demo customer).
  "POST /api/ai/email-draft": async (api, run) => {
    const data = await unwrap(api.POST("/api/ai/email-draft", {
      body: { customer_id: run.customer, recipient: "Marcus Castellan", purpose: "acknowledge concerns and request call" },
    }));
    return `to ${data.recipient.name}: "${data.subject}" (${data.provider})`;
  },
} satisfies Record<Route, Step>;

/** The clients the failures use: `anonymous` has no token. */
export interface Clients {
  api: SquelchClient;
  anonymous: SquelchClient;
}

/** A failure on purpose: the error it must answer, and the call. */
export interface Failure {
  expect: { kind: SquelchError["kind"]; status: number };
  call: (clients: Clients) => Promise<unknown>;
}

/**
 * Failures on purpose, to show both error shapes, caught as a front end catches them: `unwrap` throws, and the
 * error's `detail` says who answered. Without a token, the local server answers the reset with our shape
 * (401 `unauthenticated`); in AWS the JWT authorizer answers first, with API Gateway's `{"message": "Unauthorized"}`,
 * which the last one simulates with a `fetch` of its own.
 */
export const failures: Record<string, Failure> = {
  "unknown customer: 404 customer_not_found": {
    expect: { kind: "api", status: 404 },
    call: ({ api }) => unwrap(api.GET("/api/customers/{customer_ref}", { params: { path: { customer_ref: "nobody" } } })),
  },
  "reset without a token: 401": {
    expect: { kind: "api", status: 401 },
    call: ({ anonymous }) => unwrap(anonymous.POST("/api/demo/reset", { body: { confirm: true } })),
  },
  "reset without a token in AWS: 401 from the JWT authorizer (simulated)": {
    expect: { kind: "gateway", status: 401 },
    call: () => {
      const aws = createSquelchClient({
        baseUrl: "https://api.example.invalid",
        fetch: async () => Response.json({ message: "Unauthorized" }, { status: 401 }),
      });
      return unwrap(aws.POST("/api/demo/reset", { body: { confirm: true } }));
    },
  },
};

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
