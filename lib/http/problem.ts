import { isServiceError, type ServiceError } from '../gateways/http/service-error.js';
import { NotFoundError, RuleRefusal, UpstreamRefusal } from '../domain/errors.js';
import type { ApiResponse } from './api.js';

/**
 * RFC 9457 problem details. Every error Steward answers is one of these, whatever went wrong:
 * Power Automate flows branch on `status`, `type` and (for rule refusals) `factId`, and a person
 * reading the run history gets a sentence in `detail`.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are URNs: stable identifiers, not links to follow. */
export const problemType = (slug: string) => `urn:steward:problem:${slug}`;

/** One bad input, located RFC 9457 style: `in` says which part of the request, `pointer` where in it. */
export interface FieldError {
  in: 'body' | 'path' | 'query' | 'header';
  /** JSON pointer (RFC 6901) inside that part, `#` for the part itself: `#/licenses/0`, `#/user`. */
  pointer: string;
  detail: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  /** The seed fact a refusal rests on (SPEC §1), e.g. `T3`. */
  factId?: string;
  /** A short stable code for the refusal, e.g. `non-interactive-cap`. */
  code?: string;
  [extension: string]: unknown;
}

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ApiResponse {
  const body: ProblemDetails = { type: problemType(slug), title, status, ...(detail ? { detail } : {}), ...extensions };
  return { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers }, body };
}

export function validationProblem(errors: FieldError[]): ApiResponse {
  const named = errors.map((e) => `${e.in} ${e.pointer}`).join(', ');
  return problem(400, 'validation', 'The request is not valid', `Check these fields: ${named}.`, { errors });
}

export function notFoundProblem(kind: string, id: string, detail?: string): ApiResponse {
  return problem(404, 'not-found', `Unknown ${kind.replace('-', ' ')}`, detail ?? `No ${kind.replace('-', ' ')} '${id}'.`, { kind, id });
}

export function conflictProblem(code: string, detail: string, factId?: string, extensions: Record<string, unknown> = {}): ApiResponse {
  return problem(409, code, 'The operation is refused', detail, { code, ...(factId ? { factId } : {}), ...extensions });
}

export function readOnlyProblem(): ApiResponse {
  return conflictProblem(
    'read-only',
    'Steward runs in read-only mode (setting STEWARD_READ_ONLY): it changes nothing. Ask an administrator to switch the mode off.',
  );
}

export function unauthorizedProblem(detail: string): ApiResponse {
  return problem(401, 'unauthorized', 'Authentication is required', detail);
}

export function forbiddenProblem(role: string): ApiResponse {
  return problem(403, 'forbidden', 'The caller lacks the app role this call needs', `This call needs the app role ${role}.`, { requiredRole: role });
}

/** Seconds a caller should wait after an upstream service throttled us beyond our retries. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

const SERVICE_LABEL: Record<string, string> = {
  graph: 'Microsoft Graph',
  powerplatform: 'the Power Platform admin API',
  dataverse: 'the Dataverse Web API',
  salesforce: 'Salesforce',
  storage: 'Azure Table Storage',
  alerts: 'the alert Logic App',
  identity: 'Microsoft Entra ID (token endpoint)',
};

/** The daily limit counts the last 24 hours: an hour frees a share of it. */
const DAILY_LIMIT_RETRY_AFTER_SECONDS = 3600;

/**
 * An upstream failure after the gateway's retries: 404 stays 404 (the thing is not there),
 * throttling, unavailability and a spent Salesforce daily API limit (R6) become 503 with
 * `Retry-After` (the caller may try again later), anything else is a 502 that names the service
 * and the call, never a 500.
 */

export function serviceErrorProblem(error: ServiceError): ApiResponse {
  const label = SERVICE_LABEL[error.service] ?? error.service;
  const where = { service: error.service, operation: error.operation, ...(error.target ? { target: error.target } : {}) };
  if (error.isNotFound) {
    return problem(404, 'not-found', 'Not found upstream', `${label} has no such resource (${error.operation}).`, where);
  }
  if (error.isDailyApiLimit) {
    return problem(
      503,
      'upstream-limit-reached',
      'The Salesforce org has used its daily API request limit',
      `Salesforce refused the call ${error.operation}: the org${error.target ? ` ${error.target}` : ''} has used its daily API request limit (REQUEST_LIMIT_EXCEEDED). Try again in ${DAILY_LIMIT_RETRY_AFTER_SECONDS / 3600} h, or raise the limit.`,
      { ...where, upstreamStatus: 403, upstreamCode: 'REQUEST_LIMIT_EXCEEDED' },
      { 'retry-after': String(DAILY_LIMIT_RETRY_AFTER_SECONDS) },
    );
  }
  if (error.isTransient) {
    const retryAfter = Math.max(1, error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
    return problem(
      503,
      'upstream-unavailable',
      'An upstream service is busy or unavailable',
      `${label} throttled or refused the call ${error.operation} even after retries; try again in ${retryAfter} s.`,
      where,
      { 'retry-after': String(retryAfter) },
    );
  }
  return problem(
    502,
    'upstream-failed',
    'An upstream service failed',
    `${label} failed the call ${error.operation}${error.status !== undefined ? ` with HTTP ${error.status}` : ''}${error.code ? ` (${error.code})` : ''}.`,
    { ...where, ...(error.status !== undefined ? { upstreamStatus: error.status } : {}), ...(error.code ? { upstreamCode: error.code } : {}) },
  );
}

/**
 * The catch-all: whatever was thrown becomes problem+json. Domain refusals and service errors get
 * their own statuses; only a genuine bug is a 500, and even then nothing internal (stack, message)
 * leaks into the answer.
 */
export function problemFromError(error: unknown): ApiResponse {
  if (error instanceof NotFoundError) return notFoundProblem(error.kind, error.id, error.message);
  if (error instanceof RuleRefusal) return conflictProblem(error.code, error.message, error.factId, error.details ?? {});
  if (error instanceof UpstreamRefusal) {
    return problem(422, 'upstream-refused', 'The request was refused upstream', error.message, {
      service: error.service,
      operation: error.operation,
      ...(error.serviceCode ? { upstreamCode: error.serviceCode } : {}),
    });
  }
  if (isServiceError(error)) return serviceErrorProblem(error);
  return problem(500, 'internal', 'Steward failed unexpectedly', 'The failure was written to the operation log and the host log; try again later or contact the administrator.');
}

export function isProblem(response: ApiResponse): boolean {
  return response.headers?.['content-type'] === PROBLEM_CONTENT_TYPE;
}
