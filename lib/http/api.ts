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
  /**
   * What the route accepts and answers, for the OpenAPI document and the connector package: the
   * same zod schemas validate the requests, and the tests check every success body against `answer`.
   */
  contract: RouteContract;
  /** Runs the route's whole pipeline over the composed app (its gateways and the audit runner). */
  handle(request: ApiRequest, app: Steward): Promise<ApiResponse>;
}

/** Where an operation is offered: `x-ms-visibility` of the connector (important, advanced or internal). */
export type OperationVisibility = 'important' | 'advanced' | 'internal';

export interface RouteContract {
  /** PascalCase, unique: the connector's operation id (`CreateUser`). */
  operationId: string;
  /** Sentence case, no trailing period, at most 80 characters: the action's name in a flow. */
  summary: string;
  /** A full sentence: what the operation does and answers. */
  description: string;
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
  /** The success answer's body (objects open to extra fields); undefined: no body (204) or not JSON. */
  answer?: ZodType;
  /** Success statuses that carry `answer` (default 200); a 202 poll is described separately. */
  success: number[];
  /** The body of a 202 answer when it is not `answer` (POST /audits: the run started, poll Location). */
  accepted?: ZodType;
  /** The 202 + Location + Retry-After pattern Power Automate polls. */
  polls: boolean;
  visibility?: OperationVisibility;
  /** False: in /api/openapi.json only, not an action of the connector (health, the document itself, a duplicate). */
  connector: boolean;
  /** A page or file for browsers (`text/html`, `text/csv`): in /api/openapi.json, never in the connector. */
  browserOnly?: string;
}
