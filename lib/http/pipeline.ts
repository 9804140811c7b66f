import type { z } from 'zod';
import type { AuditRunner } from '../audit/runner.js';
import type { AppServices, Steward } from '../services.js';
import { ConcurrentChangeRefusal } from '../domain/errors.js';
import type { ApiRequest, ApiResponse, AppRole, RouteContract, RouteDefinition } from './api.js';
import { IdempotencyStore, requestHash, type IdempotencyClaim } from './idempotency.js';
import { cleanTarget, outcomeOf, writeOperationLog } from './operation-log.js';
import {
  PROBLEM_CONTENT_TYPE,
  forbiddenProblem,
  problem,
  problemFromError,
  readOnlyProblem,
  unauthorizedProblem,
  validationProblem,
} from './problem.js';
import { publicOrigin } from './public-origin.js';
import { parseRequest } from './validation.js';
import { logEvent, withLogContext } from '../telemetry/log.js';
import { inRequestSpan } from '../telemetry/request.js';

/**
 * What every route goes through, in this order, whichever host carried the request (Functions or
 * `steward serve`):
 *
 * 1. authorization — with Entra authentication on (STEWARD_REQUIRE_APP_ROLES) the platform's
 *    principal must carry the route's app role (401 without a principal, 403 without the role);
 *    the function key itself is checked by the host before we are called. An anonymous route
 *    (health: a liveness probe carries no token) has no role and is not an operation;
 * 2. read-only mode — every mutation is refused with 409 (STEWARD_READ_ONLY);
 * 3. validation — params, query and body with zod, 400 naming every bad field;
 * 4. Idempotency-Key — mutations only: a replay answers the first answer and runs nothing;
 * 5. the use case, its errors mapped to problem+json (never a 500 for bad input);
 * 6. the operation log — who, what, target, outcome, duration, trace id; never a body or a secret.
 *
 * All of it runs inside the call's span (lib/telemetry/request.ts), which continues the caller's
 * trace; every problem+json answer carries its `traceId`, and so does the operation log row.
 */

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: ApiRequest;
  services: AppServices;
  /** The audit's front door (start, read runs and findings, suppress). */
  audit: AuditRunner;
  /**
   * Absolute URL of a route (for `Location`), from the public origin (public-origin.ts), never the Host header.
   * Takes the route with or without its `/api/` prefix: `audits/1` and `/api/audits/1` are the same.
   */
  link(path: string): string;
}

type Out<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;
type Schema = z.ZodType | undefined;

export interface RouteSpec<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  name: string;
  /**
   * The route's contract for the OpenAPI document and the connector (lib/http/api.ts
   * `RouteContract`): operation id, summary, description, the answer's schema and where it is offered.
   */
  doc: RouteDoc;
  methods: RouteDefinition['methods'];
  route: string;
  /** Anonymous routes (health) take no role and are not written to the operation log. */
  authLevel?: RouteDefinition['authLevel'];
  role?: AppRole;
  mutation: boolean;
  params?: P;
  query?: Q;
  /** Omitted: the route takes no body (none, `null` or `{}`). */
  body?: B;
  /** Extra ids for the operation log besides the path parameters (never secrets). */
  target?(input: RouteInput<Out<P>, Out<Q>, Out<B>>): Record<string, string | undefined>;
  /** Top-level answer fields that must never be stored with an idempotent answer (U1). */
  secretFields?: readonly string[];
  run(input: RouteInput<Out<P>, Out<Q>, Out<B>>): Promise<ApiResponse>;
}

/** What a route says about itself; defaults: success 200, no polling, offered in the connector. */
export type RouteDoc = Pick<RouteContract, 'operationId' | 'summary' | 'description'> &
  Partial<Pick<RouteContract, 'answer' | 'success' | 'accepted' | 'polls' | 'visibility' | 'connector' | 'browserOnly'>>;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers }, body };
}

export function apiLink(base: string, path: string): string {
  return `${base}/api/${path.replace(/^\/+/, '').replace(/^api\//i, '')}`;
}

/** A route of the HTTP API, with the whole pipeline around its use case. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): RouteDefinition {
  if (!spec.role && !isAnonymous(spec)) throw new Error(`route ${spec.name}: a route with a function key needs an app role`);
  return {
    name: spec.name,
    methods: spec.methods,
    route: spec.route,
    authLevel: spec.authLevel ?? 'function',
    role: spec.role,
    mutation: spec.mutation,
    contract: {
      success: [200],
      polls: false,
      connector: true,
      ...spec.doc,
      params: spec.params,
      query: spec.query,
      body: spec.body,
    },
    handle: (request, app) => executeRoute(spec, request, app),
  };
}

/** What the operation log learns as the call goes through the pipeline. */
interface CallRecord {
  /** The path parameters, then the route's own ids once the request is valid. */
  target: Record<string, unknown>;
  replayed: boolean;
}

export function executeRoute<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  request: ApiRequest,
  app: Steward,
): Promise<ApiResponse> {
  const attributes = { 'http.request.method': request.method, 'http.route': `/api/${spec.route}`, 'steward.route': spec.name };
  return inRequestSpan(`${request.method} /api/${spec.route}`, request.traceParent, attributes, (traceId, span) =>
    withLogContext({ traceId, ...(request.invocationId ? { invocationId: request.invocationId } : {}) }, async () => {
      const response = await executeInSpan(spec, request, app, traceId);
      span.setAttribute('http.response.status_code', response.status);
      return response;
    }),
  );
}

async function executeInSpan<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  request: ApiRequest,
  app: Steward,
  traceId: string,
): Promise<ApiResponse> {
  const { services } = app;
  const started = performance.now();
  const at = services.now();
  const call: CallRecord = { target: { ...request.params }, replayed: false };
  let response: ApiResponse;
  try {
    response = await answer(spec, request, app, call);
  } catch (error) {
    response = problemOf(spec.name, error);
  }
  response = withTraceId({ ...response, headers: { 'content-type': JSON_CONTENT_TYPE, ...response.headers } }, traceId);
  logEvent(response.status >= 500 ? 'warn' : 'info', 'http.request', {
    route: spec.name,
    method: request.method,
    status: response.status,
    durationMs: Math.round(performance.now() - started),
    ...(response.status >= 400 && typeof (response.body as { type?: unknown })?.type === 'string' ? { problemType: (response.body as { type: string }).type } : {}),
  });
  if (isAnonymous(spec)) return response;
  await logOperation(spec.name, request, services, { ...call, at, started, response, traceId });
  return response;
}

/** A problem+json answer names the call's trace (a replayed one too: the trace of this call). */
function withTraceId(response: ApiResponse, traceId: string): ApiResponse {
  if (response.headers?.['content-type'] !== PROBLEM_CONTENT_TYPE || !response.body || typeof response.body !== 'object') return response;
  return { ...response, body: { ...(response.body as object), traceId } };
}

/** Stages 1 to 5, each of which may answer in place of the use case. */
async function answer<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  request: ApiRequest,
  { services, audit }: Steward,
  call: CallRecord,
): Promise<ApiResponse> {
  const refusal = authorize(spec, request, services);
  if (refusal) return refusal;
  const valid = validate(spec, request);
  if (!valid.ok) return valid.response;

  const { parsed, idempotencyKey } = valid;
  const input = {
    params: parsed.params,
    query: parsed.query,
    body: parsed.body,
    request,
    services,
    audit,
    link: (path: string) => apiLink(publicOrigin(request, services.settings), path),
  } as RouteInput<Out<P>, Out<Q>, Out<B>>;
  call.target = { ...(parsed.params as Record<string, unknown>), ...(spec.target?.(input) ?? {}) };

  if (idempotencyKey === undefined) return spec.run(input);
  return runOnce(spec, input, idempotencyKey, call);
}

function isAnonymous(route: { authLevel?: RouteDefinition['authLevel'] }): boolean {
  return route.authLevel === 'anonymous';
}

/** 1 and 2: the platform principal's app role (STEWARD_REQUIRE_APP_ROLES), then read-only mode. */
function authorize(
  route: { role?: AppRole; mutation: boolean; authLevel?: RouteDefinition['authLevel'] },
  request: ApiRequest,
  services: AppServices,
): ApiResponse | null {
  const principal = request.principal;
  if (services.settings.requireAppRoles && !isAnonymous(route)) {
    if (!principal.authenticated) {
      return unauthorizedProblem('Entra authentication is required: call through the Function App with a token of an app registration that has a Steward app role.');
    }
    if (!route.role || !principal.roles.includes(route.role)) return forbiddenProblem(route.role ?? 'Steward.Manage');
  }
  if (route.mutation && services.settings.readOnly) return readOnlyProblem();
  return null;
}

/** 3: params, query, body and a mutation's Idempotency-Key header, every bad one named in one 400. */
function validate<P extends Schema, Q extends Schema, B extends Schema>(spec: RouteSpec<P, Q, B>, request: ApiRequest) {
  const parsed = parseRequest(request, { params: spec.params, query: spec.query, body: spec.body });
  const idempotencyKey = spec.mutation ? request.headers['idempotency-key'] : undefined;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    const errors = [...(parsed.ok ? [] : parsed.errors), { in: 'header' as const, pointer: '#/Idempotency-Key', detail: 'expected 1 to 255 visible ASCII characters' }];
    return { ok: false as const, response: validationProblem(errors) };
  }
  if (!parsed.ok) return { ok: false as const, response: parsed.response };
  return { ok: true as const, parsed, idempotencyKey };
}

/** 4: the first call with a key runs; a replay answers the first answer and runs nothing. */
async function runOnce<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  input: RouteInput<Out<P>, Out<Q>, Out<B>>,
  idempotencyKey: string,
  call: CallRecord,
): Promise<ApiResponse> {
  const { services, request } = input;
  const store = new IdempotencyStore(services.tables, services.now, services.settings.idempotencyTtlHours);
  const claim = await store.claim(
    { route: spec.name, principal: request.principal.id, key: idempotencyKey },
    requestHash({ params: input.params, query: input.query, body: input.body }),
    spec.secretFields ?? [],
  );
  switch (claim.kind) {
    case 'replay':
      call.replayed = true;
      return claim.response;
    case 'mismatch':
      return problem(
        422,
        'idempotency-key-reused',
        'The Idempotency-Key was already used for another request',
        'This key was first used with different parameters or body; use a new key for a new request.',
      );
    case 'in-progress':
      return problem(409, 'idempotency-in-progress', 'A request with this Idempotency-Key is still running', 'Wait for it to finish, then retry to get its answer.', { code: 'idempotency-in-progress' }, { 'retry-after': '1' });
    case 'first':
      return runAndKeep(spec, input, claim);
  }
}

/** Runs the use case under a claimed key and keeps its answer for replays. */
async function runAndKeep<P extends Schema, Q extends Schema, B extends Schema>(
  spec: RouteSpec<P, Q, B>,
  input: RouteInput<Out<P>, Out<Q>, Out<B>>,
  claim: Extract<IdempotencyClaim, { kind: 'first' }>,
): Promise<ApiResponse> {
  let result: ApiResponse;
  let thrown: unknown;
  try {
    result = await spec.run(input);
  } catch (error) {
    result = problemFromError(error);
    if (result.status >= 500) {
      await claim.release().catch(() => undefined);
      throw error;
    }
    thrown = error;
  }
  if (!isLastingAnswer(result, thrown)) await claim.release();
  else {
    try {
      await claim.commit(result);
    } catch (error) {
      logEvent('warn', 'idempotency.not-stored', { route: spec.name, message: (error as Error)?.message?.split('\n')[0] ?? String(error) });
    }
  }
  return result;
}

/**
 * Which answers an Idempotency-Key keeps: those a retry cannot change — successes, and refusals of
 * the request itself or of a rule (400, 404, 409 from Steward's checks, 422). Not kept, so a retry
 * with the same key runs again: upstream failures (5xx), throttling (429), and refusals caused by
 * a change made meanwhile by someone else (`ConcurrentChangeRefusal`, e.g. `sync-refused`).
 */
function isLastingAnswer(result: ApiResponse, thrown: unknown): boolean {
  if (result.status >= 500 || result.status === 429 || result.status === 408) return false;
  return !(thrown instanceof ConcurrentChangeRefusal);
}

/** 5: an error the use case threw, as problem+json (never a 500 for bad input). */
function problemOf(routeName: string, error: unknown): ApiResponse {
  const response = problemFromError(error);
  if (response.status >= 500 && !(error as { service?: string })?.service) {
    // A bug, not an upstream failure: say which route and what kind of error, nothing more.
    logEvent('error', 'http.unexpected-error', { route: routeName, errorType: (error as Error)?.name ?? typeof error, message: (error as Error)?.message ?? '' });
  }
  return response;
}

/** 6: who, what, target, outcome, duration; never a body or a secret. */
async function logOperation(
  routeName: string,
  request: ApiRequest,
  services: AppServices,
  call: CallRecord & { at: Date; started: number; response: ApiResponse; traceId: string },
): Promise<void> {
  const { response } = call;
  const body = response.body as { type?: unknown; factId?: unknown } | undefined;
  const isProblem = response.headers?.['content-type'] === PROBLEM_CONTENT_TYPE;
  try {
    await writeOperationLog(services.tables, {
      at: call.at,
      principal: request.principal.id,
      authenticated: request.principal.authenticated,
      route: routeName,
      method: request.method,
      target: cleanTarget(call.target),
      status: response.status,
      outcome: outcomeOf(response.status, call.replayed),
      ...(isProblem && typeof body?.type === 'string' ? { problemType: body.type } : {}),
      ...(isProblem && typeof body?.factId === 'string' ? { factId: body.factId } : {}),
      durationMs: performance.now() - call.started,
      traceId: call.traceId,
      ...(request.invocationId ? { invocationId: request.invocationId } : {}),
    });
  } catch (error) {
    // The call has happened; a log that cannot be written must not turn its answer into an error.
    logEvent('warn', 'operation-log.not-written', { route: routeName, message: (error as Error)?.message?.split('\n')[0] ?? String(error) });
  }
}
