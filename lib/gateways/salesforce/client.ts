import { createSign } from 'node:crypto';
import { Connection, OAuth2, type HttpRequest, type HttpResponse, type Schema } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, type TransportOptions } from '../http/options.js';
import { allPages, linkedPages, type Pages } from '../http/pages.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, RetryableError, parseRetryAfter, withRetry, type RetryPolicy } from '../http/retry.js';
import { ServiceError } from '../http/service-error.js';
import { traceUpstream, type UpstreamCall } from '../../telemetry/upstream.js';
import type { QueryResultDto, TokenResponseDto } from './dto.js';

/**
 * The transport of the Salesforce gateway: the REST API of the configured orgs through jsforce 3,
 * one `Connection` per org, authorized with the OAuth 2.0 client-credentials flow (or the JWT
 * bearer flow), the session reused until Salesforce says `INVALID_SESSION_ID`, then authorized
 * again once.
 *
 * Every HTTP call is one attempt of `withRetry`: 429, 503, 504 and `REQUEST_LIMIT_EXCEEDED` /
 * `SERVER_UNAVAILABLE` are tried again honouring `Retry-After` (not a spent daily limit, R6), each page of a query on its own,
 * so a throttled third page does not cost the first two again. jsforce's own retries are off.
 * What fails is a `ServiceError` of service `salesforce` with the operation and the org id.
 */

/** API version used unless the caller asks for another (Winter '25). */
export const DEFAULT_SALESFORCE_API_VERSION = '62.0';

/** Error codes Salesforce uses for "too busy, try later", whatever the status. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE']);

/**
 * A spent daily API request limit (R6, SPEC §8): 403 `REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit
 * exceeded." It lasts until the rolling 24 hours free some calls, so trying again within seconds
 * only spends time (jsforce does not retry a 403 either). The same code with "ConcurrentRequests"
 * is a momentary overload of long-running requests and is retried.
 */
function isDailyLimit(wire: WireFailure): boolean {
  return wire.statusCode === 403 && wire.errorCode === 'REQUEST_LIMIT_EXCEEDED' && !/ConcurrentRequests/i.test(wire.message ?? '');
}

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** How Steward signs in to one org (`STEWARD_SALESFORCE_ORGS`). */
export interface SalesforceOrgConnection {
  /** The org id (`00D…`): a token that opens another org is refused. */
  id: string;
  name: string;
  loginUrl: string;
  clientId: string;
  auth: 'client-credentials' | 'jwt-bearer';
  /** client-credentials */
  clientSecret?: string;
  /** jwt-bearer: the user the connected app acts as, and the key that signs the assertion. */
  username?: string;
  privateKey?: string;
}

/** `timeoutMs` is per HTTP call (token request, each query page, each update); `concurrency` bounds the calls in flight across every org. */
export interface SalesforceClientOptions extends TransportOptions {
  orgs: readonly SalesforceOrgConnection[];
  apiVersion?: string;
}

// ── jsforce plumbing ─────────────────────────────────────────────────────────────────────────

/** What a failed wire call tells us: enough to decide on a retry and to build a ServiceError. */
interface WireFailure {
  statusCode?: number;
  headers?: Record<string, string>;
  errorCode?: string;
  message?: string;
  name?: string;
  code?: string;
}

/**
 * jsforce's HttpApi, with two changes: a 401 is returned as an error instead of going through
 * jsforce's refresh delegate (the gateway re-authorizes itself, once per call, so a token endpoint
 * that keeps handing out bad sessions cannot loop), and errors keep the HTTP status and headers
 * (`Retry-After`), which jsforce's `HttpApiError` drops.
 */
class GatewayHttpApi extends HttpApi<Schema> {
  override getRefreshDelegate(): undefined {
    return undefined;
  }

  override async getError(response: HttpResponse, body?: unknown): Promise<Error> {
    const error = await super.getError(response, body);
    return Object.assign(error, { statusCode: response.statusCode, headers: response.headers });
  }
}

/** An error answer of the token endpoint, with its status and headers. */
class TokenEndpointError extends Error implements WireFailure {
  constructor(
    readonly statusCode: number,
    readonly headers: Record<string, string>,
    readonly errorCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TokenEndpointError';
  }
}

/**
 * jsforce's OAuth2 client, posting the token request itself so that an error answer keeps its
 * status and `Retry-After` (jsforce's own reduces it to a bare Error), without jsforce's built-in
 * retries (the gateway's policy decides), and with a timeout.
 */
class GatewayOAuth2 extends OAuth2 {
  constructor(
    config: ConstructorParameters<typeof OAuth2>[0],
    private readonly timeoutMs: number,
  ) {
    super(config);
  }

  override async _postParams(params: Record<string, string>): Promise<TokenResponseDto> {
    const response = await this._transport.httpRequest(
      {
        method: 'POST',
        url: this.tokenServiceUrl,
        body: new URLSearchParams(params).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      { retry: { maxRetries: 0 }, timeout: this.timeoutMs },
    );
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    if (response.statusCode >= 400) {
      // OAuth errors are `{ error, error_description }`; a gateway in front may answer in the REST shape.
      const oauth = body as { error?: string; error_description?: string } | undefined;
      const rest = Array.isArray(body) ? (body[0] as { errorCode?: string; message?: string } | undefined) : undefined;
      throw new TokenEndpointError(
        response.statusCode,
        response.headers,
        oauth?.error ?? rest?.errorCode,
        oauth?.error_description ?? rest?.message ?? `HTTP ${response.statusCode}`,
      );
    }
    const token = body as Partial<TokenResponseDto> | undefined;
    if (!token?.access_token || !token.instance_url || !token.id) {
      throw new TokenEndpointError(response.statusCode, response.headers, 'invalid_token_response', 'the token endpoint answered without a session');
    }
    return token as TokenResponseDto;
  }
}

/** The token opened another org than the one configured. */
class OrgMismatchError extends Error {
  constructor(readonly actualOrgId: string) {
    super(`the credentials open org ${actualOrgId}`);
    this.name = 'OrgMismatchError';
  }
}

class CallTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer in ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
  }
}

/** The `aud` claim Salesforce expects for a login URL (JWT bearer flow). */
function jwtAudience(loginUrl: string): string {
  const url = new URL(loginUrl);
  const host = url.hostname.toLowerCase();
  if (host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com')) return 'https://test.salesforce.com';
  if (host === 'login.salesforce.com' || host.endsWith('.my.salesforce.com')) return 'https://login.salesforce.com';
  return url.origin;
}

/** An RS256 JWT for the OAuth 2.0 JWT bearer flow (RFC 7523), signed with node:crypto. */
export function signJwtAssertion(claims: { iss: string; sub: string; aud: string; exp: number }, privateKeyPem: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  // Settings often carry a PEM with its line breaks written as `\n`.
  const key = privateKeyPem.includes('\n') ? privateKeyPem : privateKeyPem.replace(/\\n/g, '\n');
  const signature = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${signature}`;
}

/** Same org? Ids come as 15 or 18 characters; the first 15 identify it. */
const sameOrg = (a: string, b: string) => a.slice(0, 15) === b.slice(0, 15);

// ── The client ───────────────────────────────────────────────────────────────────────────────

interface OrgSession {
  org: SalesforceOrgConnection;
  connection: Connection;
  /** Set while a token request is in flight: concurrent calls wait for the same one. */
  authorizing?: Promise<void>;
}

export class SalesforceClient {
  private readonly orgs = new Map<string, OrgSession>();
  private readonly retry: RetryPolicy;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly limit: LimitFunction;

  constructor(options: SalesforceClientOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.apiVersion = options.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
    for (const org of options.orgs) {
      const oauth2 = new GatewayOAuth2(
        { loginUrl: org.loginUrl, clientId: org.clientId, clientSecret: org.auth === 'client-credentials' ? org.clientSecret : undefined },
        this.timeoutMs,
      );
      const connection = new Connection({ loginUrl: org.loginUrl, version: this.apiVersion, oauth2 });
      this.orgs.set(org.id, { org, connection });
    }
  }

  orgIds(): string[] {
    return [...this.orgs.keys()];
  }

  org(orgId: string): SalesforceOrgConnection | undefined {
    return this.orgs.get(orgId)?.org;
  }

  /** `/services/data/vNN.0`, the root of the REST resources. */
  dataPath(): string {
    return `/services/data/v${this.apiVersion}`;
  }

  /** Throws `ORG_NOT_CONFIGURED` (404) for an org that is not in the settings. */
  requireOrg(orgId: string, operation: string): void {
    this.session(orgId, operation);
  }

  /**
   * The pages of a SOQL query (`nextRecordsUrl`), each page a call of its own with its own
   * retries. Values inside `soql` must come through `soqlString`.
   */
  queryPages<T>(orgId: string, soql: string, operation: string): Pages<T> {
    const object = /\bFROM\s+(\w+)/i.exec(soql)?.[1] ?? 'records';
    return linkedPages(`${this.dataPath()}/query?q=${encodeURIComponent(soql)}`, async (url) => {
      const page = await this.send<QueryResultDto<T>>(orgId, operation, `query ${object}`, { method: 'GET', url });
      if (!page.done && !page.nextRecordsUrl) {
        throw new ServiceError({ service: 'salesforce', operation, target: orgId, code: 'INCOMPLETE_RESULT' }, `query ${object}: a page with done=false and no nextRecordsUrl`);
      }
      return { items: page.records, next: page.done ? undefined : page.nextRecordsUrl };
    });
  }

  /** Every record of a SOQL query. */
  query<T>(orgId: string, soql: string, operation: string): Promise<T[]> {
    return allPages(this.queryPages<T>(orgId, soql, operation));
  }

  private session(orgId: string, operation: string): OrgSession {
    const session = this.orgs.get(orgId);
    if (!session) {
      throw new ServiceError({ service: 'salesforce', operation, target: orgId, status: 404, code: 'ORG_NOT_CONFIGURED' }, 'the org is not in STEWARD_SALESFORCE_ORGS');
    }
    return session;
  }

  /**
   * One REST call with the org's session: authorizes first when there is no session, and once
   * more when Salesforce answers 401 (`INVALID_SESSION_ID`). `detail` says what the call was for
   * (`query User`) in the error text.
   */
  async send<T>(orgId: string, operation: string, detail: string, request: HttpRequest): Promise<T> {
    const session = this.session(orgId, operation);
    const fail = (error: unknown) => this.failure(error, operation, orgId, detail);
    // One span per call, around all its attempts and any token request (lib/telemetry/upstream.ts).
    return traceUpstream({ service: 'salesforce', method: request.method ?? 'GET', url: request.url, call: operation, target: orgId }, (call) =>
      this.attempts<T>(session, operation, request, fail, call),
    );
  }

  private attempts<T>(session: OrgSession, operation: string, request: HttpRequest, fail: (error: unknown) => ServiceError | RetryableError, call: UpstreamCall): Promise<T> {
    return withRetry(async () => {
      for (let pass = 0; ; pass++) {
        await this.authorize(session, operation);
        const { connection } = session;
        const token = connection.accessToken;
        const url = /^https?:\/\//i.test(request.url) ? request.url : `${connection.instanceUrl}${request.url}`;
        try {
          const api = new GatewayHttpApi(connection, { retry: { maxRetries: 0 }, timeout: this.timeoutMs });
          api.on('response', (response: HttpResponse) => call.answered(response.statusCode));
          return await this.limit(() => this.timed(api.request<T>({ ...request, url })));
        } catch (error) {
          const failure = fail(error);
          const serviceError = failure instanceof RetryableError ? failure.serviceError : failure;
          if ((serviceError.status === 401 || serviceError.code === 'INVALID_SESSION_ID') && pass === 0) {
            // The session expired or was revoked: drop it (unless another call already did) and
            // authorize again, once.
            if (connection.accessToken === token) connection.accessToken = null;
            continue;
          }
          throw failure;
        }
      }
    }, this.retry, undefined, call);
  }

  /** Authorizes the org's connection unless it holds a session; concurrent callers share one request. */
  private async authorize(session: OrgSession, operation: string): Promise<void> {
    if (session.connection.accessToken) return;
    session.authorizing ??= this.requestToken(session).finally(() => {
      session.authorizing = undefined;
    });
    try {
      await session.authorizing;
    } catch (error) {
      throw this.failure(error, operation, session.org.id, 'token request');
    }
  }

  private async requestToken(session: OrgSession): Promise<void> {
    const { org, connection } = session;
    const params: { grant_type: string; [name: string]: string } =
      org.auth === 'jwt-bearer'
        ? {
            grant_type: JWT_BEARER_GRANT,
            assertion: signJwtAssertion(
              { iss: org.clientId, sub: org.username!, aud: jwtAudience(org.loginUrl), exp: Math.floor(Date.now() / 1000) + 180 },
              org.privateKey!,
            ),
          }
        : { grant_type: 'client_credentials' };
    const userInfo = await this.timed(connection.authorize(params));
    if (!sameOrg(userInfo.organizationId, org.id)) {
      // Credentials of another org: never read that org's data under this org's name.
      connection.accessToken = null;
      throw new OrgMismatchError(userInfo.organizationId);
    }
  }

  private timed<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // jsforce aborts at the same time; this covers a body that never ends.
      timer = setTimeout(() => reject(new CallTimeoutError(this.timeoutMs)), this.timeoutMs + 50);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** A wire error as a ServiceError, wrapped in a RetryableError when another try may succeed. */
  private failure(error: unknown, operation: string, orgId: string, detail: string): ServiceError | RetryableError {
    if (error instanceof RetryableError || error instanceof ServiceError) return error;
    const wire = (error ?? {}) as WireFailure;
    const init = { service: 'salesforce' as const, operation, target: orgId, cause: error };
    if (error instanceof OrgMismatchError) return new ServiceError({ ...init, code: 'ORG_MISMATCH' }, `${detail}: ${error.message}`);
    if (error instanceof CallTimeoutError || wire.name === 'AbortError') {
      return new RetryableError(new ServiceError({ ...init, status: 504, code: 'Timeout' }, `${detail}: no answer in ${this.timeoutMs} ms`), undefined);
    }
    if (wire.statusCode === undefined) {
      // No answer at all: refused or reset connection, DNS (node-fetch `FetchError`).
      if (wire.name === 'FetchError' || (typeof wire.code === 'string' && /^E[A-Z]+$/.test(wire.code))) {
        return new RetryableError(new ServiceError({ ...init, code: 'NetworkError' }, `${detail}: ${wire.message ?? 'network error'}`), undefined);
      }
      return new ServiceError({ ...init, code: wire.errorCode }, `${detail}: ${wire.message ?? String(error)}`);
    }
    const retryAfterMs = parseRetryAfter(wire.headers?.['retry-after']);
    const serviceError = new ServiceError(
      {
        ...init,
        status: wire.statusCode,
        code: wire.errorCode,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      },
      `${detail}: ${wire.message ?? `HTTP ${wire.statusCode}`}`,
    );
    if (isDailyLimit(wire)) return serviceError;
    if (RETRYABLE_STATUSES.has(wire.statusCode) || (wire.errorCode !== undefined && RETRYABLE_CODES.has(wire.errorCode))) {
      return new RetryableError(serviceError, retryAfterMs);
    }
    return serviceError;
  }
}
