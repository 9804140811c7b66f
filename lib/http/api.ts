import type { ZodType } from 'zod';
import type { Steward } from '../services.js';

/** The app roles of SPEC §4: read (GET), manage (user operations), audit (audits, suppressions). */
export type AppRole = 'Steward.Read' | 'Steward.Manage' | 'Steward.Audit';

export interface Principal {
  /** Object id or name of the caller, for the operation log; `function-key` when only a key was used. */
  id: string;
  roles: AppRole[];
  /** True when the platform (App Service authentication) vouched for the principal. */
  authenticated: boolean;
}

/** An HTTP request as the use-case layer sees it, whichever host carried it (Functions, `steward serve`). */
export interface ApiRequest {
  method: string;
  /** Absolute URL as received. */
  url: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body; `undefined` when empty; a `SyntaxError` instance when it is not JSON. */
  body: unknown;
  principal: Principal;
  /** The W3C `traceparent` of the caller (the Functions host's trace context, or the header). */
  traceParent?: string;
  /** The Functions invocation id (absent under `steward serve`). */
  invocationId?: string;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised; problem+json when `headers['content-type']` says so. */
  body?: unknown;
  /** Sent as it is, in place of `body`, with its own content type (the report page, CSV). */
  text?: string;
}

/** The bytes of an answer: its `text` as it is, else its body as JSON; undefined when it has none. */
export function responsePayload(response: ApiResponse): string | undefined {
  if (response.text !== undefined) return response.text;
  return response.body === undefined ? undefined : JSON.stringify(response.body);
}

export interface RouteDefinition {
  /** The Azure Function's name, e.g. `users-create`. */
  name: string;
  methods: ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[];
  /** Functions route template under `/api`, e.g. `environments/{env}/users/{user}/enable`. */
  route: string;
  authLevel: 'anonymous' | 'function';
  /** The app role needed when Entra authentication is on; undefined for health. */
  role?: AppRole;
  /** True for calls that change something (refused in read-only mode, idempotency keys apply). */
  mutation: boolean;
  /** What the route accepts, for the OpenAPI document (the same schemas validate the requests). */
  contract?: { summary?: string; params?: ZodType; query?: ZodType; body?: ZodType };
  /** Runs the route's whole pipeline over the composed app (its gateways and the audit runner). */
  handle(request: ApiRequest, app: Steward): Promise<ApiResponse>;
}
