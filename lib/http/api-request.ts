import type { ApiRequest } from './api.js';
import { principalFrom } from './principal.js';

/**
 * Builds the host-neutral request the handlers take, from what any host read off the wire. The
 * Functions adapter (functions/http.ts) and `steward serve` (local-server.ts) must build it the same
 * way, so the same request gets the same answer from both.
 */

/** The parsed JSON body; `undefined` when empty; a `SyntaxError` when it is not JSON (the handler answers 400). */
export function parseJsonBody(text: string): unknown {
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    return error instanceof SyntaxError ? error : new SyntaxError(String(error));
  }
}

export interface RawRequest {
  method: string;
  /** Absolute URL as received. */
  url: string;
  params: Record<string, string>;
  /** Header names in any case. */
  headers: Iterable<[string, string]>;
  bodyText: string;
  /** The Functions host's invocation: its id and trace context (`InvocationContext`). */
  invocation?: { id: string; traceParent?: string };
}

export function buildApiRequest(raw: RawRequest, platformAuthentication: boolean): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [key, value] of raw.headers) headers[key.toLowerCase()] = value;
  const url = new URL(raw.url);
  return {
    method: raw.method.toUpperCase(),
    url: raw.url,
    params: { ...raw.params },
    query: url.searchParams,
    headers,
    body: parseJsonBody(raw.bodyText),
    principal: principalFrom(headers, platformAuthentication),
    // The host's trace context first: it is the trace the host already records this call in.
    ...(raw.invocation?.traceParent || headers.traceparent ? { traceParent: raw.invocation?.traceParent || headers.traceparent } : {}),
    ...(raw.invocation ? { invocationId: raw.invocation.id } : {}),
  };
}
