import type { LimitFunction } from 'p-limit';
import { DEFAULT_TIMEOUT_MS } from './options.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, RetryableError, parseRetryAfter, withRetry, type RetryPolicy } from './retry.js';
import { ServiceError, type ServiceName } from './service-error.js';
import { traceUpstream, type UpstreamCall } from '../../telemetry/upstream.js';

export interface JsonRequest {
  /** The gateway's name for the call (`listSystemUsers`); it goes into every error. */
  operation: string;
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Absolute URL (paging links are absolute) or a path relative to the client's base URL. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  target?: string;
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface JsonClientOptions {
  service: ServiceName;
  baseUrl: string;
  /** Bearer token for each attempt (a fresh one if the cached one expired meanwhile). */
  getToken?: () => Promise<string>;
  retry?: RetryPolicy;
  /** Per attempt. */
  timeoutMs?: number;
  /** Shared bound on calls in flight to this service. */
  limit?: LimitFunction;
  /** Reads the service's error body into a code and a message. */
  readError?: (body: unknown) => { code?: string; message?: string };
}

/** Reads `{ error: { code, message } }` (OData, Graph, BAP) and `[{ errorCode, message }]` (Salesforce). */
export function readStandardError(body: unknown): { code?: string; message?: string } {
  if (Array.isArray(body) && body[0] && typeof body[0] === 'object') {
    const first = body[0] as { errorCode?: string; message?: string };
    return { code: first.errorCode, message: first.message };
  }
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object') {
      const e = error as { code?: unknown; message?: unknown };
      return {
        code: typeof e.code === 'string' ? e.code : undefined,
        message: typeof e.message === 'string' ? e.message : undefined,
      };
    }
  }
  return {};
}

/**
 * A small JSON-over-HTTPS client for the REST APIs that have no Node SDK (Dataverse Web API,
 * Power Platform admin API, Logic Apps triggers): bearer token, bounded concurrency, a timeout per
 * attempt, retries on 429/503/504 honouring `Retry-After`, and errors that name service and call.
 */
export class JsonClient {
  private readonly options: JsonClientOptions;

  constructor(options: JsonClientOptions) {
    this.options = options;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  resolve(url: string): string {
    if (/^https?:\/\//i.test(url)) return url;
    return this.options.baseUrl.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
  }

  async send<T = unknown>(request: JsonRequest): Promise<JsonResponse<T>> {
    // One span per call, around all its attempts (lib/telemetry/upstream.ts).
    const run = () =>
      traceUpstream(
        { service: this.options.service, method: request.method ?? 'GET', url: this.resolve(request.url), call: request.operation, target: request.target },
        (call) => withRetry(() => this.attempt<T>(request, call), this.options.retry ?? DEFAULT_RETRY_POLICY, undefined, call),
      );
    return this.options.limit ? this.options.limit(run) : run();
  }

  private async attempt<T>(request: JsonRequest, call: UpstreamCall): Promise<JsonResponse<T>> {
    const { service } = this.options;
    const errorInit = { service, operation: request.operation, target: request.target };
    const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
    if (this.options.getToken) headers.Authorization = `Bearer ${await this.options.getToken()}`;
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.resolve(request.url), {
        method: request.method ?? 'GET',
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (cause) {
      const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
      const error = new ServiceError(
        { ...errorInit, status: timedOut ? 504 : undefined, code: timedOut ? 'Timeout' : 'NetworkError', cause },
        timedOut ? 'no answer in time' : String((cause as Error)?.cause ?? cause),
      );
      // A timeout or a dropped connection is as transient as a 504.
      throw new RetryableError(error, undefined);
    }
    call.answered(response.status);
    const text = await response.text();
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (response.ok) return { status: response.status, headers: response.headers, body: body as T };
    const { code, message = refusedToken(response) } = (this.options.readError ?? readStandardError)(body);
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const error = new ServiceError(
      {
        ...errorInit,
        status: response.status,
        code,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      },
      message,
    );
    if (RETRYABLE_STATUSES.has(response.status)) throw new RetryableError(error, retryAfterMs);
    throw error;
  }
}

/**
 * A 401 without a body (Dataverse refuses a token of another audience with an empty body and a
 * `WWW-Authenticate` challenge naming the resource it expects, R3): say so, naming that resource.
 */
function refusedToken(response: Response): string | undefined {
  if (response.status !== 401) return undefined;
  const resource = /resource_id="?([^",\s]+)/i.exec(response.headers.get('www-authenticate') ?? '')?.[1];
  return `the access token was refused${resource ? `; the resource expects a token for ${resource}` : ''}`;
}
