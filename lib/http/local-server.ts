import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Steward } from '../services.js';
import { responsePayload, type ApiResponse, type RouteDefinition } from './api.js';
import { buildApiRequest } from './api-request.js';
import { PROBLEM_CONTENT_TYPE, problem, problemFromError } from './problem.js';
import { parseTraceParent } from '../telemetry/request.js';
import { apiRoutes } from './routes.js';

/**
 * `steward serve`: the HTTP API on loopback, with the very `RouteDefinition.handle` the Functions
 * host runs. What the Functions host does around a function is done here the same way: route
 * templates (`environments/{env}/users/{user}/enable`), the function key (`x-functions-key` header
 * or `code` query parameter, except for anonymous routes), and the request shape (api-request.ts).
 */

export interface LocalServerOptions {
  /** The composed app the routes are handed (its gateways and the audit runner). */
  app: Steward;
  routes?: readonly RouteDefinition[];
  /** Default 127.0.0.1: this is a development server, never exposed. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** When set, every route that is not anonymous needs this key. */
  functionKey?: string;
  maxBodyBytes?: number;
}

export interface LocalServer {
  /** `http://127.0.0.1:N` */
  origin: string;
  /** `http://127.0.0.1:N/api/` */
  apiUrl: string;
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute {
  route: RouteDefinition;
  segments: ({ literal: string } | { param: string; optional: boolean })[];
}

/** `{name}`, `{name?}` and `{name:constraint}` (the constraint is left to validation). */
export function compileRoute(route: RouteDefinition): CompiledRoute {
  const segments = route.route
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map((segment) => {
      const param = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\?)?\}$/.exec(segment);
      return param ? { param: param[1]!, optional: param[2] === '?' } : { literal: segment.toLowerCase() };
    });
  return { route, segments };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // left as sent: validation refuses it
  }
}

function matchSegments(compiled: CompiledRoute, parts: string[]): { params: Record<string, string>; score: number[] } | null {
  const params: Record<string, string> = {};
  const score: number[] = [];
  for (let i = 0; i < compiled.segments.length; i++) {
    const segment = compiled.segments[i]!;
    const part = parts[i];
    if (part === undefined) {
      if ('param' in segment && segment.optional) continue;
      return null;
    }
    if ('literal' in segment) {
      if (segment.literal !== part.toLowerCase()) return null;
      score.push(1);
    } else {
      params[segment.param] = decodeSegment(part);
      score.push(0);
    }
  }
  if (parts.length > compiled.segments.length) return null;
  return { params, score };
}

const moreSpecific = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d > 0;
  }
  return false;
};

export type RouteMatch =
  | { kind: 'match'; route: RouteDefinition; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'none' };

/** The route for a path under `/api/`: literal segments win over parameters (`audits/latest` over `audits/{runId}`). */
export function matchRoute(compiled: readonly CompiledRoute[], method: string, path: string): RouteMatch {
  const parts = path.split('/').filter((p) => p.length > 0);
  let best: { route: RouteDefinition; params: Record<string, string>; score: number[] } | undefined;
  const allowed = new Set<string>();
  for (const candidate of compiled) {
    const matched = matchSegments(candidate, parts);
    if (!matched) continue;
    if (!candidate.route.methods.includes(method as RouteDefinition['methods'][number])) {
      candidate.route.methods.forEach((m) => allowed.add(m));
      continue;
    }
    if (!best || moreSpecific(matched.score, best.score)) best = { route: candidate.route, ...matched };
  }
  if (best) return { kind: 'match', route: best.route, params: best.params };
  if (allowed.size > 0) return { kind: 'method-not-allowed', allowed: [...allowed] };
  return { kind: 'none' };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function keyMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * A problem this server answers itself (in the Functions host's place: no route, no key) names a
 * trace id as the pipeline's do: the caller's `traceparent`, else a new one.
 */
function withHostTraceId(req: http.IncomingMessage, response: ApiResponse): ApiResponse {
  if (response.headers?.['content-type'] !== PROBLEM_CONTENT_TYPE || !response.body || typeof response.body !== 'object' || 'traceId' in response.body) return response;
  const traceId = parseTraceParent(req.headers.traceparent as string | undefined)?.traceId ?? randomBytes(16).toString('hex');
  return { ...response, body: { ...(response.body as object), traceId } };
}

function send(res: http.ServerResponse, answer: ApiResponse): void {
  const response = withHostTraceId(res.req, answer);
  const headers: Record<string, string> = { ...response.headers };
  const payload = responsePayload(response) ?? '';
  if (payload && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
  res.writeHead(response.status, headers);
  res.end(payload);
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const compiled = (options.routes ?? apiRoutes).map(compileRoute);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const { app } = options;

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
        const method = (req.method ?? 'GET').toUpperCase();
        const apiPath = /^\/api(\/|$)/i.test(url.pathname) ? url.pathname.replace(/^\/api/i, '') : null;
        const matched = apiPath === null ? ({ kind: 'none' } as const) : matchRoute(compiled, method, apiPath);
        if (matched.kind === 'none') {
          req.resume();
          return send(res, problem(404, 'no-such-route', 'No such route', `Nothing is served at ${method} ${url.pathname}.`));
        }
        if (matched.kind === 'method-not-allowed') {
          req.resume();
          return send(res, problem(405, 'method-not-allowed', 'Method not allowed', `${url.pathname} accepts ${matched.allowed.join(', ')}.`, {}, { allow: matched.allowed.join(', ') }));
        }
        if (options.functionKey && matched.route.authLevel !== 'anonymous') {
          const given = (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code') ?? undefined;
          if (given === undefined || given === '') {
            req.resume();
            return send(res, problem(401, 'unauthorized', 'A function key is required', 'Send the function key in the x-functions-key header or the code query parameter.'));
          }
          if (!keyMatches(options.functionKey, given)) {
            req.resume();
            const where = req.headers['x-functions-key'] !== undefined ? 'the x-functions-key header' : 'the code query parameter';
            return send(res, problem(401, 'unauthorized', 'Invalid function key', `The function key in ${where} is not this server's: send the key \`steward serve\` printed (or its --key).`));
          }
        }
        let bodyText: string;
        try {
          bodyText = await readBody(req, maxBodyBytes);
        } catch (error) {
          if (error instanceof BodyTooLarge) {
            return send(res, problem(413, 'body-too-large', 'The body is too large', `At most ${maxBodyBytes} bytes are accepted.`));
          }
          throw error;
        }
        const headers: [string, string][] = Object.entries(req.headers)
          .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
          .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]);
        // As on Azure, the principal header is read only when app roles are required. There is no
        // platform in front of `steward serve` to strip a forged one: that is why it listens on
        // loopback only, for development and tests.
        const request = buildApiRequest({ method, url: url.toString(), params: matched.params, headers, bodyText }, app.services.settings.requireAppRoles);
        send(res, await matched.route.handle(request, app));
      } catch (error) {
        if (!res.headersSent) send(res, problemFromError(error));
        else res.end();
      }
    })();
  });

  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const origin = `http://${host}:${port}`;
  return {
    origin,
    apiUrl: `${origin}/api/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Listens on `host:port`; a port in use (or not allowed) is said in words, with the option that changes it. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new Error(`Port ${port} on ${host} is already in use (EADDRINUSE): stop what listens there, or choose another with --port (--port 0 picks a free one).`));
      else if (error.code === 'EACCES') reject(new Error(`Port ${port} may not be opened by this user (EACCES): choose one above 1023 with --port.`));
      else reject(error);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
