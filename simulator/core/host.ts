import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FaultPlan } from './faults.js';

export interface SimRequest {
  method: string;
  url: URL;
  /** Decoded path without the host's base path. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** JSON or form body, parsed; undefined when empty or unreadable. */
  body: unknown;
  /** Client id the bearer token was issued to, when the host checks tokens. */
  clientId?: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. */
  body?: unknown;
}

export type SimHandler = (request: SimRequest) => Promise<SimResponse> | SimResponse;

export interface RequestRecord {
  host: string;
  method: string;
  /** Path and query as sent. */
  url: string;
  status: number;
  scopes: string[];
  /** For a `$batch`: how many items it carried. */
  batchItems?: number;
}

export interface HostOptions {
  /** `graph`, `powerplatform`, `dataverse:<envId>`, `salesforce:<orgId>`, `login`. */
  name: string;
  /** Fault scopes of every request to this host, least specific first. */
  scopes: string[];
  tls: { key: string; cert: string };
  faults: FaultPlan;
  log: RequestRecord[];
  /**
   * Checks `Authorization: Bearer`; returns the client id, or null when refused (a generic 401), or
   * the service's own refusal (R3: a token of another audience).
   */
  authorize?: (authorization: string | undefined, request: SimRequest) => string | SimResponse | null;
  /** Body for refusals, in the service's own error shape. */
  errorBody: (status: number, code: string, message: string) => unknown;
  handler: SimHandler;
}

export interface Host {
  name: string;
  url: string;
  close(): Promise<void>;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** One loopback HTTPS server playing one service host, with faults, auth and a request log. */
export async function startHost(options: HostOptions): Promise<Host> {
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert, keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
        const request: SimRequest = {
          method: req.method ?? 'GET',
          url,
          path: decodeURIComponent(url.pathname),
          headers: req.headers,
          rawBody,
          body: parseBody(rawBody, req.headers['content-type']),
        };
        const record: RequestRecord = { host: options.name, method: request.method, url: req.url ?? '/', status: 0, scopes: options.scopes };
        options.log.push(record);
        let response: SimResponse;
        try {
          const fault = options.faults.decide(options.scopes);
          if (fault.latencyMs > 0) await delay(fault.latencyMs);
          if (fault.kind === 'down') {
            response = { status: 503, headers: { 'Retry-After': '1' }, body: options.errorBody(503, 'ServiceUnavailable', `${options.name} is down`) };
          } else if (fault.kind === 'throttle') {
            response = {
              status: 429,
              headers: { 'Retry-After': String(fault.retryAfterSeconds) },
              body: options.errorBody(429, 'TooManyRequests', 'Too many requests, retry later'),
            };
          } else if (fault.kind === 'error') {
            response = { status: 503, body: options.errorBody(503, 'ServiceUnavailable', 'The service is temporarily unavailable') };
          } else {
            const clientId = options.authorize ? options.authorize(req.headers.authorization, request) : 'anonymous';
            if (clientId === null) {
              response = { status: 401, body: options.errorBody(401, 'InvalidAuthenticationToken', 'Access token is missing or invalid') };
            } else if (typeof clientId === 'object') {
              response = clientId;
            } else {
              request.clientId = clientId;
              response = await options.handler(request);
            }
          }
        } catch (error) {
          response = { status: 500, body: options.errorBody(500, 'InternalServerError', String((error as Error)?.stack ?? error)) };
        }
        record.status = response.status;
        const isText = typeof response.body === 'string';
        const payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body);
        const headers: Record<string, string> = { ...response.headers };
        if (payload && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
          headers['Content-Type'] = isText ? 'text/plain' : 'application/json; charset=utf-8';
        res.writeHead(response.status, headers);
        res.end(payload);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: options.name,
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (status: number, body?: unknown, headers?: Record<string, string>): SimResponse => ({ status, body, headers });
