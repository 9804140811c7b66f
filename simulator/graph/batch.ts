import type { SimContext } from '../core/context.js';
import type { SimRequest, SimResponse } from '../core/host.js';
import { GraphFault, badRequest, graphError } from './odata.js';
import { JSON_CONTENT_TYPE, isObject, lowerHeaders, nameOf, ok, splitPath, type Call, type Json } from './protocol.js';

/**
 * JSON batching (`POST /v1.0/$batch`): up to 20 items run in order, `dependsOn` honoured (424 when a
 * dependency failed), throttling drawn per item (SPEC §5), each answer without the outer request's
 * ids. The request log records how many items the batch carried.
 */

const MAX_BATCH_ITEMS = 20;

type Answer = (call: Call) => SimResponse;

function recordBatch(ctx: SimContext, count: number): void {
  // The host pushed this request's record before calling us; it is the oldest unanswered $batch.
  for (let i = Math.max(0, ctx.log.length - 2000); i < ctx.log.length; i++) {
    const record = ctx.log[i]!;
    if (record.host === 'graph' && record.method === 'POST' && record.status === 0 && record.batchItems === undefined && record.url.split('?')[0]!.endsWith('/$batch')) {
      record.batchItems = count;
      return;
    }
  }
}

/** The items' shape: each with a unique id, a method and a URL; `dependsOn` a list of ids. */
function invalidItems(items: unknown[]): string | null {
  if (items.length === 0) return 'Invalid batch payload format.';
  if (items.length > MAX_BATCH_ITEMS) return `Number of requests in the batch exceeds the limit of ${MAX_BATCH_ITEMS}.`;
  const ids = new Set<string>();
  for (const item of items) {
    if (!isObject(item) || typeof item.id !== 'string' || item.id === '' || typeof item.method !== 'string' || typeof item.url !== 'string') return 'Invalid batch payload format.';
    if (ids.has(item.id)) return `Request ids must be unique; '${item.id}' is repeated.`;
    ids.add(item.id);
    if (item.dependsOn !== undefined && !(Array.isArray(item.dependsOn) && item.dependsOn.every((d) => typeof d === 'string'))) return 'Invalid batch payload format.';
  }
  return null;
}

/** Runs one item's request as a call of its own (relative URL, no nested `$batch`). */
function runItem(ctx: SimContext, answer: Answer, item: Json, headers: Record<string, string>, clientRequestId: string | undefined): SimResponse {
  const rawUrl = item.url as string;
  if (/^[a-z]+:\/\//i.test(rawUrl)) {
    return graphError(400, 'BadRequest', 'Batch request URLs must be relative to the version (for example /users).', clientRequestId);
  }
  const url = new URL(`/v1.0/${rawUrl.replace(/^\/+/, '')}`, ctx.urls.graph);
  try {
    const segments = splitPath(url.pathname).slice(1);
    if (nameOf(segments[0]) === '$batch') throw badRequest('A $batch request cannot be nested in a batch.');
    return answer({ method: (item.method as string).toUpperCase(), segments, query: url.searchParams, headers, body: item.body, clientRequestId });
  } catch (error) {
    if (!(error instanceof GraphFault)) throw error;
    return graphError(error.status, error.code, error.message, clientRequestId);
  }
}

/** One item's answer: a failed dependency, a throttle draw, or the item run. */
function itemResponse(ctx: SimContext, answer: Answer, item: Json, statuses: Map<string, number>, clientRequestId: string | undefined): SimResponse {
  const itemHeaders = isObject(item.headers) ? lowerHeaders(item.headers as Record<string, string>) : {};
  const itemClientId = itemHeaders['client-request-id'] ?? clientRequestId;
  const dependsOn = (item.dependsOn as string[] | undefined) ?? [];
  const failedDependency = dependsOn.find((d) => {
    const status = statuses.get(d);
    return status === undefined || status < 200 || status >= 300;
  });
  const draw = ctx.faults.decideItem(['graph']);
  if (failedDependency !== undefined) {
    return graphError(424, 'FailedDependency', `The request depends on request '${failedDependency}', which failed or was not run.`, itemClientId);
  }
  if (draw.throttled) {
    return graphError(429, 'TooManyRequests', 'Too many requests, retry later', itemClientId, { 'Retry-After': String(draw.retryAfterSeconds) });
  }
  return runItem(ctx, answer, item, itemHeaders, itemClientId);
}

/** An item's entry in `responses`: its status, its headers less the request ids, its body. */
function entryOf(id: string, response: SimResponse): Json {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() !== 'request-id' && name.toLowerCase() !== 'client-request-id') headers[name] = value;
  }
  if (response.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = typeof response.body === 'string' ? 'text/plain' : JSON_CONTENT_TYPE;
  }
  const entry: Json = { id, status: response.status, headers };
  if (response.body !== undefined) entry.body = response.body;
  return entry;
}

export function batch(ctx: SimContext, answer: Answer, request: SimRequest, clientRequestId: string | undefined): SimResponse {
  const body = request.body;
  if (!isObject(body) || !Array.isArray(body.requests)) return graphError(400, 'BadRequest', 'Invalid batch payload format.', clientRequestId);
  const items = body.requests as unknown[];
  recordBatch(ctx, items.length);
  const invalid = invalidItems(items);
  if (invalid !== null) return graphError(400, 'BadRequest', invalid, clientRequestId);
  const statuses = new Map<string, number>();
  const responses: Json[] = [];
  for (const item of items as Json[]) {
    const id = item.id as string;
    const response = itemResponse(ctx, answer, item, statuses, clientRequestId);
    statuses.set(id, response.status);
    responses.push(entryOf(id, response));
  }
  return ok(200, { responses });
}
