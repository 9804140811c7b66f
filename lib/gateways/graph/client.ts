import type { TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  TelemetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { readStandardError } from '../http/json-client.js';
import type { ODataCollection } from '../http/odata.js';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, type TransportOptions } from '../http/options.js';
import { allPages, linkedPages, type Pages } from '../http/pages.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, RetryableError, parseRetryAfter, withRetry, type RetryPolicy } from '../http/retry.js';
import { ServiceError } from '../http/service-error.js';
import { traceUpstream, type UpstreamCall } from '../../telemetry/upstream.js';
import type { BatchRequestItem, BatchResponseBody, BatchResponseItem } from './dto.js';

/**
 * The transport of the Graph gateway: the official Graph client with its middleware chain (token,
 * telemetry, our retry and timeout), the concurrency bound, paging, JSON `$batch`, and every
 * failure as a `ServiceError` of service `graph` (or `identity` when no token could be had).
 */

/** The token audience of Microsoft Graph (application permissions: `/.default`). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Graph's largest page for directory collections. */
export const GRAPH_PAGE_SIZE = 999;
/** Graph refuses a JSON batch of more than 20 requests. */
export const GRAPH_BATCH_LIMIT = 20;

/** Errors `@azure/identity` raises when it cannot get a token (they reach us wrapped in a GraphError). */
const IDENTITY_ERRORS = new Set(['AuthenticationError', 'AggregateAuthenticationError', 'CredentialUnavailableError', 'AuthenticationRequiredError']);

/** `concurrency` bounds the requests in flight to Graph, for this client. */
export interface GraphClientOptions extends TransportOptions {
  /** `https://graph.microsoft.com` (or a national cloud, or the simulator). */
  baseUrl: string;
  credential: TokenCredential;
  /** Default `GRAPH_SCOPE`. */
  scope?: string;
}

/**
 * Which share of the concurrency a call takes: `chain` is the lane of the `/users` pages, a
 * sequential chain and the longest read of an audit, so that it never waits behind the group and
 * role reads issued beside it; `shared` is the rest.
 */
export type Lane = 'shared' | 'chain';

export const isOk = (status: number) => status >= 200 && status < 300;

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

const retryAfterSeconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.ceil(ms / 1000));

/**
 * The Graph client's last middleware before the network: one timeout per attempt and retries of
 * 429/503/504 and dropped connections, honouring `Retry-After` (the shared `withRetry` policy, so
 * every gateway retries alike). When the retries run out, the last answer goes back up the chain and
 * the client turns it into a `GraphError` carrying Graph's status, code and headers.
 */
class RetryAndTimeoutHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly timeoutMs: number,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  /** One span per Graph request, around all its attempts (lib/telemetry/upstream.ts). */
  execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const method = context.options?.method ?? (typeof context.request === 'string' ? 'GET' : context.request.method);
    return traceUpstream({ service: 'graph', method, url }, (call) => this.attempts(context, call));
  }

  private async attempts(context: Context, call: UpstreamCall): Promise<void> {
    const next = this.next;
    if (!next) throw new Error('RetryAndTimeoutHandler must not be the last middleware');
    let lastAnswer: Response | undefined;
    try {
      await withRetry(async () => {
        lastAnswer = undefined;
        context.options = { ...context.options, signal: AbortSignal.timeout(this.timeoutMs) };
        try {
          await next.execute(context);
        } catch (cause) {
          throw this.networkFailure(cause);
        }
        const response = context.response;
        if (response) call.answered(response.status);
        if (response && RETRYABLE_STATUSES.has(response.status)) {
          // Keep the body: if this was the last try, the client reads Graph's error from it.
          const text = await response.text();
          lastAnswer = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
          context.response = lastAnswer;
          throw new RetryableError(
            new ServiceError({ service: 'graph', operation: 'fetch', status: response.status }),
            parseRetryAfter(response.headers.get('retry-after')),
          );
        }
      }, this.policy, undefined, call);
    } catch (error) {
      if (lastAnswer) {
        context.response = lastAnswer;
        return;
      }
      const cause = error instanceof ServiceError ? error.cause : error;
      throw cause instanceof Error ? cause : error;
    }
  }

  /** A timeout or a dropped connection: as transient as a 504. */
  private networkFailure(cause: unknown): RetryableError {
    const timedOut = cause instanceof DOMException && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    const error = new Error(timedOut ? `no answer in ${this.timeoutMs} ms` : String((cause as Error)?.cause ?? cause), { cause });
    // The Graph client reports a thrown error's name as the GraphError's code.
    error.name = timedOut ? 'TimeoutError' : 'NetworkError';
    return new RetryableError(new ServiceError({ service: 'graph', operation: 'fetch', status: timedOut ? 504 : undefined, code: error.name, cause: error }), undefined);
  }
}

/** Microsoft Graph v1.0 calls: one per method, each inside the concurrency bound, errors as `ServiceError`. */
export class GraphClient {
  private readonly client: Client;
  private readonly lanes: Record<Lane, LimitFunction>;
  private readonly retry: RetryPolicy;
  private readonly scope: string;
  /** The configured Graph base URL, without a trailing slash. */
  readonly baseUrl: string;

  constructor(options: GraphClientOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.scope = options.scope ?? GRAPH_SCOPE;
    // In all, at most `concurrency` requests are in flight: one for the chain, the rest shared.
    const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    const shared = pLimit(Math.max(1, concurrency - 1));
    this.lanes = { shared, chain: concurrency > 1 ? pLimit(1) : shared };
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const auth = new TokenCredentialAuthenticationProvider(options.credential, { scopes: [this.scope] });
    const chain: Middleware[] = [
      new AuthenticationHandler(auth),
      new TelemetryHandler(),
      new RetryAndTimeoutHandler(this.retry, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      new HTTPMessageHandler(),
    ];
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext?.(chain[i + 1]!);
    this.client = Client.initWithMiddleware({
      baseUrl: this.baseUrl,
      defaultVersion: 'v1.0',
      middleware: chain,
      // The client sends the token only to hosts it knows: Graph's own, and these.
      customHosts: new Set([new URL(this.baseUrl).hostname]),
    });
  }

  get<T>(operation: string, url: string, target?: string, lane: Lane = 'shared', headers?: Record<string, string>): Promise<T> {
    return this.call(operation, () => (headers ? this.client.api(url).headers(headers) : this.client.api(url)).get(), target, lane);
  }

  post<T>(operation: string, url: string, body: unknown, target?: string): Promise<T> {
    return this.call(operation, () => this.client.api(url).post(body), target);
  }

  delete(operation: string, url: string, target?: string): Promise<void> {
    return this.call(operation, () => this.client.api(url).delete(), target);
  }

  /** Every page of a collection (`@odata.nextLink`), as Graph answers them. */
  pages<T>(operation: string, url: string, target?: string, options: { lane?: Lane; prefetch?: boolean } = {}): Pages<T> {
    return linkedPages(
      url,
      async (link) => {
        const page = await this.get<ODataCollection<T>>(operation, link, target, options.lane);
        return { items: page.value ?? [], next: page['@odata.nextLink'] };
      },
      { prefetch: options.prefetch },
    );
  }

  /** Every item of a collection, all pages. */
  collect<T>(operation: string, url: string, target?: string): Promise<T[]> {
    return allPages(this.pages<T>(operation, url, target));
  }

  /** A collection answered inside a batch, with any further pages fetched directly. */
  async itemCollection<T>(operation: string, response: BatchResponseItem, target?: string): Promise<T[]> {
    if (!isOk(response.status)) throw this.itemError(operation, response, target);
    const page = (response.body ?? {}) as ODataCollection<T>;
    const out = [...(page.value ?? [])];
    if (page['@odata.nextLink']) out.push(...(await this.collect<T>(operation, page['@odata.nextLink'], target)));
    return out;
  }

  /**
   * Sends items in JSON batches of at most 20, in parallel within the concurrency bound. Items
   * answered 429/503/504 are sent again in a new batch after the longest `Retry-After` among them,
   * under the same retry policy as single calls. Returns every item's final answer by id.
   */
  async batch(operation: string, items: readonly BatchRequestItem[], target?: string): Promise<Map<string, BatchResponseItem>> {
    const results = new Map<string, BatchResponseItem>();
    const chunks: BatchRequestItem[][] = [];
    for (let i = 0; i < items.length; i += GRAPH_BATCH_LIMIT) chunks.push(items.slice(i, i + GRAPH_BATCH_LIMIT));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending = chunk;
        // A span around the chunk's batches, counting the rounds its throttled items took (each
        // batch sent is a span of its own inside it).
        await traceUpstream({ service: 'graph', method: 'POST', url: `${this.baseUrl}/v1.0/$batch`, call: operation, target, composite: true }, (call) =>
          withRetry(async () => {
            const body = await this.post<BatchResponseBody>(operation, '/$batch', { requests: pending }, target);
            const settled = this.settleBatch(operation, pending, body, results, target);
            pending = settled.again;
            if (settled.retry) throw settled.retry;
            call.answered(200);
          }, this.retry, undefined, call),
        );
      }),
    );
    return results;
  }

  /** Records each item's answer; the items answered 429/503/504 are to be sent again, after the longest `Retry-After`. */
  private settleBatch(
    operation: string,
    pending: readonly BatchRequestItem[],
    body: BatchResponseBody,
    results: Map<string, BatchResponseItem>,
    target: string | undefined,
  ): { again: BatchRequestItem[]; retry?: RetryableError } {
    const answers = new Map((body?.responses ?? []).map((r) => [r.id, r]));
    const again: BatchRequestItem[] = [];
    let waitMs: number | undefined;
    let lastRetryable: BatchResponseItem | undefined;
    for (const item of pending) {
      const answer = answers.get(item.id);
      if (!answer) throw new ServiceError({ service: 'graph', operation, target, code: 'BatchItemMissing' }, `no answer for batch item ${item.id}`);
      results.set(item.id, answer);
      if (RETRYABLE_STATUSES.has(answer.status)) {
        again.push(item);
        lastRetryable = answer;
        const ms = parseRetryAfter(header(answer.headers, 'retry-after'));
        if (ms !== undefined) waitMs = Math.max(waitMs ?? 0, ms);
      }
    }
    return { again, retry: lastRetryable ? new RetryableError(this.itemError(operation, lastRetryable, target), waitMs) : undefined };
  }

  itemError(operation: string, response: BatchResponseItem, target?: string): ServiceError {
    const { code, message } = readStandardError(response.body);
    const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
    return new ServiceError(
      { service: 'graph', operation, target, status: response.status, code, retryAfterSeconds: retryAfterSeconds(retryAfterMs) },
      message,
    );
  }

  /** One HTTP call through the client, inside the concurrency bound, with errors as `ServiceError`. */
  private async call<T>(operation: string, send: () => Promise<T>, target?: string, lane: Lane = 'shared'): Promise<T> {
    try {
      return await this.lanes[lane](send);
    } catch (error) {
      throw this.toServiceError(operation, error, target);
    }
  }

  private toServiceError(operation: string, error: unknown, target?: string): ServiceError {
    if (error instanceof ServiceError) return error;
    if (!(error instanceof GraphError)) {
      return new ServiceError({ service: 'graph', operation, target, cause: error }, String((error as Error)?.message ?? error));
    }
    const code = error.code ?? undefined;
    if (error.statusCode > 0) {
      const retryAfterMs = parseRetryAfter(error.headers?.get('retry-after'));
      return new ServiceError(
        { service: 'graph', operation, target, status: error.statusCode, code, retryAfterSeconds: retryAfterSeconds(retryAfterMs), cause: error },
        error.message,
      );
    }
    if (code && IDENTITY_ERRORS.has(code)) {
      // The SDK's message can quote the request; keep its first line.
      return new ServiceError({ service: 'identity', operation: `getToken ${this.scope}`, target, code, cause: error }, error.message.split('\n')[0]);
    }
    if (code === 'TimeoutError') return new ServiceError({ service: 'graph', operation, target, status: 504, code: 'Timeout', cause: error }, error.message);
    return new ServiceError({ service: 'graph', operation, target, code: code ?? 'NetworkError', cause: error }, error.message);
  }
}
