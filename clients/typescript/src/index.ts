// The typed client of the Squelch Act 1 demo API. Only schema.d.ts is generated (`make client`); this file is
// written by hand and depends on nothing but openapi-fetch and the generated types.
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** A schema of the OpenAPI document by name: `Schema<"CustomerProfile">`, `Schema<"WorkflowContext">`, … */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

type Method = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

/** Every route of the OpenAPI document as "METHOD /path", e.g. "GET /api/customers/{customer_ref}". */
export type Route = {
  [P in keyof paths]: {
    [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : `${Uppercase<M>} ${P}`;
  }[Method];
}[keyof paths];

/** The client: `api.GET(path, { params })`, `api.POST(path, { body })`, each answering `{ data, error, response }`. */
export type SquelchClient = Client<paths>;

/** A bearer token, or a function giving the current one (called before every request). */
export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

export interface SquelchClientOptions {
  /** `http://127.0.0.1:3000` locally (`make run`); the stack's `ApiUrl` output in AWS. Paths start with /api. */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer …` on every request when present: the reset route needs a token of the
   * demo group (a Cognito access token in AWS, `make -s demo-token` locally); with `RequireSignIn=true` every route does.
   */
  token?: TokenSource;
  /**
   * The presenter's sandbox (a named copy of the story), sent as `X-Demo-Sandbox` on every request; without it,
   * the default story. A presenter creates it with `POST /api/demo/reset` under the same header.
   */
  sandbox?: string;
  /** Another fetch (tests, SSR, retries); defaults to the global one. */
  fetch?: ClientOptions["fetch"];
  /** Headers added to every request. */
  headers?: ClientOptions["headers"];
}

export function createSquelchClient(options: SquelchClientOptions): SquelchClient {
  const { baseUrl, token, fetch, sandbox } = options;
  const headers = { ...(options.headers ?? {}), ...(sandbox ? { "X-Demo-Sandbox": sandbox } : {}) };
  const client = createClient<paths>({ baseUrl, headers, ...(fetch ? { fetch } : {}) });
  if (token !== undefined) client.use(bearer(token));
  return client;
}

function bearer(token: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === "function" ? await token() : token;
      if (value && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  };
}

// ---- errors --------------------------------------------------------------------------------------------------

/**
 * Our API's one error shape, answered by our code on every 4xx and 5xx (`ErrorResponse` in the OpenAPI document):
 * `{"error": {"code": "customer_not_found", "message": "…", "details": []}}`. The codes are in docs/API-CONTRACT.md.
 */
export type ApiError = Schema<"ErrorResponse">;

/** One entry of `ApiError.error.details`; for 422 `invalid_request`: `{ loc, msg, type }`. */
export type ApiErrorDetail = NonNullable<ApiError["error"]["details"]>[number];

/**
 * API Gateway's own error body, NOT in the OpenAPI document: in AWS the HttpApi answers it before our code runs,
 * so it can come back from any route whatever its typed `error` says. Chiefly 401 `{"message": "Unauthorized"}`
 * from the JWT authorizer (missing, expired or wrong token; the local server answers an `ApiError` instead), and
 * the gateway's own failures such as `{"message": "Not Found"}` or `{"message": "Internal Server Error"}`.
 */
export interface GatewayError {
  message: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for our API's error shape (`{"error": {"code", "message", …}}`). */
export function isApiError(body: unknown): body is ApiError {
  return isObject(body) && isObject(body.error)
    && typeof body.error.code === "string" && typeof body.error.message === "string";
}

/** True for API Gateway's own `{"message": "…"}` (and not our shape). */
export function isGatewayError(body: unknown): body is GatewayError {
  return isObject(body) && typeof body.message === "string" && !("error" in body);
}

/** A failed answer, told apart by who wrote it. Every kind has `status` and a `message` to show a person. */
export type SquelchError =
  | { kind: "api"; status: number; code: string; message: string; details: ApiErrorDetail[]; body: ApiError }
  | { kind: "gateway"; status: number; message: string; body: GatewayError; wwwAuthenticate: string | null }
  | { kind: "unknown"; status: number; message: string; body: unknown };

/**
 * What a failed call answered: pass openapi-fetch's `error` and `response`. Use it rather than the typed `error`
 * alone, which cannot know about API Gateway's answers or bodies that are not JSON (a proxy's HTML page).
 */
export function toSquelchError(error: unknown, response: Response): SquelchError {
  const status = response.status;
  if (isApiError(error)) {
    const { code, message, details = [] } = error.error;
    return { kind: "api", status, code, message, details, body: error };
  }
  if (isGatewayError(error)) {
    const wwwAuthenticate = response.headers.get("WWW-Authenticate");
    return { kind: "gateway", status, message: error.message, body: error, wwwAuthenticate };
  }
  return { kind: "unknown", status, message: `HTTP ${status} ${response.statusText}`.trim(), body: error };
}

/**
 * True when the token was good and its time is up, so the presenter should sign in again (rather than being told
 * the token is wrong): our 401 `token_expired` (the local server), or API Gateway's 401 `{"message": "Unauthorized"}`
 * whose `WWW-Authenticate` header says `error="invalid_token"` and that the token has expired (the HttpApi's CORS
 * configuration exposes that header to pages of allowed origins).
 */
export function isTokenExpired(detail: SquelchError): boolean {
  if (detail.status !== 401) return false;
  if (detail.kind === "api") return detail.code === "token_expired";
  return detail.kind === "gateway" && /error="invalid_token"/.test(detail.wwwAuthenticate ?? "")
    && /expired/i.test(detail.wwwAuthenticate ?? "");
}

/** Thrown by `unwrap`. */
export class SquelchRequestError extends Error {
  readonly detail: SquelchError;

  constructor(detail: SquelchError) {
    super(detail.kind === "api" ? `${detail.status} ${detail.code}: ${detail.message}` : `${detail.status} ${detail.message}`);
    this.name = "SquelchRequestError";
    this.detail = detail;
  }
}

/**
 * The data of a route's 2xx answer, from what openapi-fetch's call answers (`{ data, error?, response }` or
 * `{ data?, error, response }`). Picked from the member whose `data` is required, not inferred from `data`
 * across both: there the failure's `data?: never` would add `| undefined` unless the consumer compiles with
 * `exactOptionalPropertyTypes`.
 */
export type DataOf<Answer> = Answer extends { data: infer Data } ? Data : never;

/**
 * The data of a successful call, or a thrown `SquelchRequestError` (for code that prefers exceptions, such as
 * TanStack Query): `const profile = await unwrap(api.GET("/api/customers/{customer_ref}", …))`. A 204 answers
 * `null` (the document's type for its empty body); any other 2xx without a body throws, since its type promises one.
 */
export async function unwrap<Answer extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<Answer>,
): Promise<DataOf<Answer>> {
  const { data, error, response } = await call;
  if (!response.ok) throw new SquelchRequestError(toSquelchError(error, response));
  if (data !== undefined) return data as DataOf<Answer>;
  if (response.status === 204) return null as DataOf<Answer>;
  const status = response.status;
  throw new SquelchRequestError({ kind: "unknown", status, message: `HTTP ${status} without the body its route declares`, body: undefined });
}
