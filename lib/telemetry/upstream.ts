import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

/**
 * One span per upstream call (Graph, Dataverse, the Power Platform admin API, Salesforce, the
 * alert Logic App), opened by each service's transport around its retry loop: the span covers
 * every attempt, and says how many retries the call took and how long it waited because the
 * service asked (`Retry-After`). The operation is the method and the path with its ids replaced
 * (`GET /api/data/v9.2/systemusers({key})`); a query string is never recorded, so a SOQL text, a
 * `$skiptoken` or a delta token never reaches the telemetry.
 *
 * Only `@opentelemetry/api` is used here: without a registered SDK (the CLI, tests that do not ask
 * for telemetry) every span is a no-op.
 */

export const TRACER_NAME = 'steward';

/** Attribute names of an upstream span (the `http.*`, `url.*` and `server.*` ones are OpenTelemetry's). */
export const UPSTREAM_ATTRIBUTES = {
  service: 'steward.upstream.service',
  operation: 'steward.upstream.operation',
  call: 'steward.upstream.call',
  target: 'steward.upstream.target',
  retries: 'steward.upstream.retries',
  composite: 'steward.upstream.composite',
  throttleWaitMs: 'steward.upstream.throttle_wait_ms',
  method: 'http.request.method',
  urlTemplate: 'url.template',
  serverAddress: 'server.address',
  status: 'http.response.status_code',
} as const;

export interface UpstreamCallInit {
  service: string;
  method: string;
  /** The URL or path called; only its path, as a template, is recorded. */
  url: string;
  /** The gateway's name for the call (`listSystemUsers`), when it has one. */
  call?: string;
  /** The environment or org id the call was for. */
  target?: string;
  /**
   * A call made of other calls (a Graph `$batch` whose throttled items are sent again in new
   * batches): its retries are those of the items, its HTTP requests are counted by the inner spans.
   */
  composite?: boolean;
}

/** A call about to wait before its next try: what the upstream span counts and the CLI's progress names. */
export interface RetryWait {
  service: string;
  operation: string;
  status: number | undefined;
  /** The try that failed (1 = the first). */
  attempt: number;
  /** How long until the next try: the service's `Retry-After`, else the back-off's lower bound. */
  waitMs: number;
  /** The wait the service asked for (`Retry-After`), when it named one. */
  retryAfterMs: number | undefined;
}

/** What the transport tells the span while the call runs (the retry loop's observer). */
export interface UpstreamCall {
  /** Another attempt follows, after `wait.retryAfterMs` when the service said so. */
  retrying(wait: RetryWait): void;
  /** The HTTP status of the latest attempt. */
  answered(status: number): void;
}

/** Counts the upstream HTTP requests (attempts) made inside `countUpstreamRequests`. */
export interface RequestTally {
  requests: number;
}

const tallies = new AsyncLocalStorage<RequestTally[]>();

let retryListener: ((wait: RetryWait) => void) | undefined;

/**
 * Tells `listener` of every retry of every upstream call, until the returned function is called.
 * One listener: the CLI's progress, which names the target that waits (issue 14).
 */
export function onUpstreamRetry(listener: (wait: RetryWait) => void): () => void {
  retryListener = listener;
  return () => {
    if (retryListener === listener) retryListener = undefined;
  };
}

/**
 * Runs `work`, counting into `tally` every upstream attempt it makes (an enclosing tally counts
 * them too). The tally holds the count whether `work` succeeds or throws.
 */
export function tallyUpstreamRequests<T>(tally: RequestTally, work: () => Promise<T>): Promise<T> {
  return tallies.run([...(tallies.getStore() ?? []), tally], work);
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** A Salesforce record id (15 or 18 characters, letters and digits), or a query locator (`01g…-2000`). */
const SALESFORCE_ID = /^(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{15}([A-Za-z0-9]{3})?(-\d+)?$/;

/**
 * The path of a URL with its ids replaced: `{id}` for a segment holding a GUID, a UPN or mail, a
 * Salesforce id or a number; `name({key})` for an OData key. No query string, no fragment.
 */
export function pathTemplate(url: string): string {
  let path: string;
  try {
    path = new URL(url, 'https://relative.invalid').pathname;
  } catch {
    path = url.split(/[?#]/)[0] ?? '';
  }
  return path
    .split('/')
    .map((raw) => {
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        segment = raw;
      }
      const key = /^([^(]+)\(.*\)$/.exec(segment);
      if (key) return `${key[1]}({key})`;
      if (GUID.test(segment) || segment.includes('@') || SALESFORCE_ID.test(segment) || /^\d+$/.test(segment)) return '{id}';
      return raw;
    })
    .join('/');
}

function hostOf(url: string): string | undefined {
  try {
    return /^https?:\/\//i.test(url) ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one upstream call (all its attempts) inside a client span of its own, the active span
 * while it runs, so the token request and a nested call are its children.
 */
export function traceUpstream<T>(init: UpstreamCallInit, work: (call: UpstreamCall) => Promise<T>): Promise<T> {
  const method = init.method.toUpperCase();
  const template = pathTemplate(init.url);
  const host = hostOf(init.url);
  const attributes: Attributes = {
    [UPSTREAM_ATTRIBUTES.service]: init.service,
    [UPSTREAM_ATTRIBUTES.operation]: `${method} ${template}`,
    [UPSTREAM_ATTRIBUTES.method]: method,
    [UPSTREAM_ATTRIBUTES.urlTemplate]: template,
    ...(init.call ? { [UPSTREAM_ATTRIBUTES.call]: init.call } : {}),
    ...(init.target ? { [UPSTREAM_ATTRIBUTES.target]: init.target } : {}),
    ...(init.composite ? { [UPSTREAM_ATTRIBUTES.composite]: true } : {}),
    ...(host ? { [UPSTREAM_ATTRIBUTES.serverAddress]: host } : {}),
  };
  const counting = tallies.getStore() ?? [];
  return trace.getTracer(TRACER_NAME).startActiveSpan(`${init.service} ${method} ${template}`, { kind: SpanKind.CLIENT, attributes }, async (span: Span) => {
    let retries = 0;
    let waitedMs = 0;
    let status: number | undefined;
    const countRequest = () => {
      if (!init.composite) for (const tally of counting) tally.requests++;
    };
    countRequest();
    const call: UpstreamCall = {
      retrying(wait) {
        retries++;
        waitedMs += wait.retryAfterMs ?? 0;
        countRequest();
        retryListener?.(wait);
      },
      answered(answer) {
        status = answer;
      },
    };
    const close = () => {
      span.setAttribute(UPSTREAM_ATTRIBUTES.retries, retries);
      span.setAttribute(UPSTREAM_ATTRIBUTES.throttleWaitMs, waitedMs);
      if (status !== undefined) span.setAttribute(UPSTREAM_ATTRIBUTES.status, status);
    };
    try {
      const result = await work(call);
      close();
      if (status !== undefined && status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return result;
    } catch (error) {
      const failed = (error ?? {}) as { status?: unknown; code?: unknown; name?: unknown };
      if (typeof failed.status === 'number') status = failed.status;
      close();
      // The error's class and the service's code, never its message (it may quote a request).
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof failed.code === 'string' ? failed.code : String(failed.name ?? 'Error') });
      if (typeof failed.code === 'string') span.setAttribute('error.type', failed.code);
      throw error;
    } finally {
      span.end();
    }
  });
}
