import { createSign } from 'node:crypto';
import { Connection, OAuth2, type HttpRequest, type HttpResponse, type Schema } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api.js';
import pLimit, { type LimitFunction } from 'p-limit';
import type { SalesforceOrgSettings, Settings } from '../../config/settings.js';
import {
  SOQL_CANDIDATE_PATTERNS,
  isCopilotConnectedApp,
  isCopilotPermissionSet,
  isIntegrationProfileName,
  isIntegrationUsername,
} from '../../domain/copilot-for-sales-names.js';
import type {
  SalesforceAssignment,
  SalesforceConnectedApp,
  SalesforceOrgSnapshot,
  SalesforcePermissionSet,
  SalesforcePermissionSetLicense,
  SalesforceProfile,
  SalesforceUser,
  SalesforceUserLicense,
} from '../../domain/model.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, RetryableError, parseRetryAfter, withRetry, type RetryPolicy } from '../http/retry.js';
import { ServiceError } from '../http/service-error.js';
import type { SalesforceGateway } from './salesforce.js';
import { soqlList, soqlString } from './soql-literal.js';

export { soqlList, soqlString } from './soql-literal.js';

/** API version used unless the caller asks for another (Winter '25). */
export const DEFAULT_SALESFORCE_API_VERSION = '62.0';

/** Ids per `IN (...)` list: keeps each query URL well under Salesforce's URI length limit. */
const IN_LIST_CHUNK = 200;

/** Error codes Salesforce uses for "too busy, try later", whatever the status. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE']);

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

// ── Wire shapes (Salesforce REST records; nothing past this file sees them) ───────────────────

interface QueryResultDto<T> {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: T[];
}

interface UserLicenseDto {
  Id: string;
  Name: string;
  MasterLabel?: string | null;
  LicenseDefinitionKey?: string | null;
  Status?: string | null;
  TotalLicenses?: number | null;
  UsedLicenses?: number | null;
}

interface UserDto {
  Id: string;
  Username: string;
  IsActive?: boolean | null;
  ProfileId?: string | null;
  UserType?: string | null;
}

interface ProfileDto {
  Id: string;
  Name: string;
  UserLicenseId?: string | null;
}

interface PermissionSetDto {
  Id: string;
  Name: string;
  Label?: string | null;
}

interface PermissionSetAssignmentDto {
  Id: string;
  AssigneeId: string;
  PermissionSetId: string;
}

interface PermissionSetLicenseDto {
  Id: string;
  DeveloperName: string;
  MasterLabel?: string | null;
  TotalLicenses?: number | null;
  UsedLicenses?: number | null;
}

interface PermissionSetLicenseAssignDto {
  Id: string;
  AssigneeId: string;
  PermissionSetLicenseId: string;
}

interface ConnectedApplicationDto {
  Id: string;
  Name: string;
}

interface TokenResponseDto {
  access_token: string;
  instance_url: string;
  id: string;
}

const USER_FIELDS = 'Id, Username, IsActive, ProfileId, UserType';

const toUser = (u: UserDto): SalesforceUser => ({
  id: u.Id,
  username: u.Username,
  isActive: u.IsActive === true,
  profileId: u.ProfileId ?? null,
  userType: u.UserType ?? null,
});

const toUserLicense = (l: UserLicenseDto): SalesforceUserLicense => ({
  id: l.Id,
  name: l.Name,
  masterLabel: l.MasterLabel ?? l.Name,
  licenseDefinitionKey: l.LicenseDefinitionKey ?? null,
  status: l.Status ?? 'Active',
  total: l.TotalLicenses ?? 0,
  used: l.UsedLicenses ?? 0,
});

const toProfile = (p: ProfileDto): SalesforceProfile => ({ id: p.Id, name: p.Name, userLicenseId: p.UserLicenseId ?? null });

const toPermissionSet = (p: PermissionSetDto): SalesforcePermissionSet => ({ id: p.Id, name: p.Name, label: p.Label ?? null });

const toPermissionSetLicense = (p: PermissionSetLicenseDto): SalesforcePermissionSetLicense => ({
  id: p.Id,
  developerName: p.DeveloperName,
  masterLabel: p.MasterLabel ?? p.DeveloperName,
  total: p.TotalLicenses ?? 0,
  used: p.UsedLicenses ?? 0,
});

const toConnectedApp = (a: ConnectedApplicationDto): SalesforceConnectedApp => ({ id: a.Id, name: a.Name });

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

const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Same org? Ids come as 15 or 18 characters; the first 15 identify it. */
const sameOrg = (a: string, b: string) => a.slice(0, 15) === b.slice(0, 15);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ── The gateway ──────────────────────────────────────────────────────────────────────────────

interface OrgSession {
  settings: SalesforceOrgSettings;
  connection: Connection;
  /** Set while a token request is in flight: concurrent calls wait for the same one. */
  authorizing?: Promise<void>;
}

export interface JsforceSalesforceGatewayOptions {
  retry?: RetryPolicy;
  apiVersion?: string;
  /** Per HTTP call (token request, each query page, each update). */
  timeoutMs?: number;
  /** Bound on calls in flight across every org. */
  maxConcurrency?: number;
}

/**
 * The Salesforce REST API of the configured orgs through jsforce 3: one `Connection` per org,
 * authorized with the OAuth 2.0 client-credentials flow (or the JWT bearer flow), the session
 * reused until Salesforce says `INVALID_SESSION_ID`, then authorized again once.
 *
 * Every HTTP call is one attempt of `withRetry`: 429, 503, 504 and `REQUEST_LIMIT_EXCEEDED` /
 * `SERVER_UNAVAILABLE` are tried again honouring `Retry-After`, each page of a query on its own,
 * so a throttled third page does not cost the first two again. jsforce's own retries are off.
 * What fails is a `ServiceError` of service `salesforce` with the operation and the org id.
 */
export class JsforceSalesforceGateway implements SalesforceGateway {
  private readonly orgs = new Map<string, OrgSession>();
  private readonly retry: RetryPolicy;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly limit: LimitFunction;

  constructor(orgs: readonly SalesforceOrgSettings[], options: JsforceSalesforceGatewayOptions = {}) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.apiVersion = options.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.limit = pLimit(options.maxConcurrency ?? 8);
    for (const settings of orgs) {
      const oauth2 = new GatewayOAuth2(
        { loginUrl: settings.loginUrl, clientId: settings.clientId, clientSecret: settings.auth === 'client-credentials' ? settings.clientSecret : undefined },
        this.timeoutMs,
      );
      const connection = new Connection({ loginUrl: settings.loginUrl, version: this.apiVersion, oauth2 });
      this.orgs.set(settings.id, { settings, connection });
    }
  }

  orgIds(): string[] {
    return [...this.orgs.keys()];
  }

  orgName(orgId: string): string | null {
    return this.orgs.get(orgId)?.settings.name ?? null;
  }

  async getOrgSnapshot(orgId: string): Promise<SalesforceOrgSnapshot> {
    const operation = 'getOrgSnapshot';
    const query = <T>(soql: string) => this.query<T>(orgId, soql, operation);
    const likeAny = (field: string, patterns: readonly string[]) => patterns.map((p) => `${field} LIKE ${soqlString(p)}`).join(' OR ');

    const [licenses, users, profiles, permissionSets, permissionSetLicenses, connectedApps] = await Promise.all([
      query<UserLicenseDto>('SELECT Id, Name, MasterLabel, LicenseDefinitionKey, Status, TotalLicenses, UsedLicenses FROM UserLicense'),
      query<UserDto>(`SELECT ${USER_FIELDS} FROM User WHERE ${likeAny('Username', SOQL_CANDIDATE_PATTERNS.username)}`),
      query<ProfileDto>(`SELECT Id, Name, UserLicenseId FROM Profile WHERE ${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)}`),
      query<PermissionSetDto>(
        `SELECT Id, Name, Label FROM PermissionSet WHERE IsOwnedByProfile = false AND (${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)} OR ${likeAny('Label', SOQL_CANDIDATE_PATTERNS.name)})`,
      ),
      query<PermissionSetLicenseDto>('SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense'),
      query<ConnectedApplicationDto>(`SELECT Id, Name FROM ConnectedApplication WHERE ${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)}`),
    ]);

    // The LIKE patterns are broad; the naming rules decide.
    const integrationUsers = users.filter((u) => isIntegrationUsername(u.Username));
    const integrationProfiles = profiles.filter((p) => isIntegrationProfileName(p.Name));
    const copilotPermissionSets = permissionSets.filter((p) => isCopilotPermissionSet(p.Name, p.Label ?? null));
    const userIds = integrationUsers.map((u) => u.Id);
    const profileIds = integrationProfiles.map((p) => p.Id);
    const permissionSetIds = copilotPermissionSets.map((p) => p.Id);

    /** Runs one query per chunk of ids, one chunk after the other. */
    const byChunks = async <T>(ids: string[], soql: (list: string) => string): Promise<T[]> => {
      const out: T[] = [];
      for (const chunk of chunks(ids, IN_LIST_CHUNK)) out.push(...(await query<T>(soql(soqlList(chunk)))));
      return out;
    };

    const [profileUsers, assignments, licenseAssignments] = await Promise.all([
      byChunks<Pick<UserDto, 'Id' | 'ProfileId'>>(profileIds, (list) => `SELECT Id, ProfileId FROM User WHERE ProfileId IN ${list}`),
      permissionSetIds.length === 0
        ? Promise.resolve([])
        : byChunks<PermissionSetAssignmentDto>(
            userIds,
            (list) => `SELECT Id, AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN ${soqlList(permissionSetIds)} AND AssigneeId IN ${list}`,
          ),
      byChunks<PermissionSetLicenseAssignDto>(
        userIds,
        (list) => `SELECT Id, AssigneeId, PermissionSetLicenseId FROM PermissionSetLicenseAssign WHERE AssigneeId IN ${list}`,
      ),
    ]);

    return {
      orgId,
      userLicenses: licenses.map(toUserLicense),
      integrationUsers: integrationUsers.map(toUser),
      integrationProfiles: integrationProfiles.map((p) => ({
        ...toProfile(p),
        userIds: profileUsers.filter((u) => u.ProfileId === p.Id).map((u) => u.Id),
      })),
      copilotPermissionSets: copilotPermissionSets.map(toPermissionSet),
      permissionSetAssignments: assignments.map(
        (a): SalesforceAssignment => ({ id: a.Id, assigneeId: a.AssigneeId, grantedId: a.PermissionSetId }),
      ),
      permissionSetLicenses: permissionSetLicenses.map(toPermissionSetLicense),
      permissionSetLicenseAssignments: licenseAssignments.map(
        (a): SalesforceAssignment => ({ id: a.Id, assigneeId: a.AssigneeId, grantedId: a.PermissionSetLicenseId }),
      ),
      copilotConnectedApps: connectedApps.filter((a) => isCopilotConnectedApp(a.Name)).map(toConnectedApp),
    };
  }

  async getUser(orgId: string, userId: string): Promise<SalesforceUser | null> {
    this.session(orgId, 'getUser');
    if (!SALESFORCE_ID.test(userId)) return null;
    try {
      const record = await this.send<UserDto>(orgId, 'getUser', 'read User', {
        method: 'GET',
        url: `${this.dataPath()}/sobjects/User/${userId}?fields=${USER_FIELDS.replace(/\s/g, '')}`,
      });
      return toUser(record);
    } catch (error) {
      if (error instanceof ServiceError && error.isNotFound) return null;
      throw error;
    }
  }

  /** The user with that exact username (Salesforce compares usernames ignoring case), or null. */
  async findUserByUsername(orgId: string, username: string): Promise<SalesforceUser | null> {
    const users = await this.query<UserDto>(orgId, `SELECT ${USER_FIELDS} FROM User WHERE Username = ${soqlString(username)}`, 'findUserByUsername');
    return users[0] ? toUser(users[0]) : null;
  }

  async activateUser(orgId: string, userId: string): Promise<void> {
    const operation = 'activateUser';
    this.session(orgId, operation);
    if (!SALESFORCE_ID.test(userId)) {
      throw new ServiceError({ service: 'salesforce', operation, target: orgId, status: 404, code: 'NOT_FOUND' }, `not a Salesforce id: ${JSON.stringify(userId)}`);
    }
    await this.send<void>(orgId, operation, 'update User', {
      method: 'PATCH',
      url: `${this.dataPath()}/sobjects/User/${userId}`,
      body: JSON.stringify({ IsActive: true }),
      headers: { 'content-type': 'application/json' },
    });
  }

  /**
   * Runs a SOQL query and reads every page (`nextRecordsUrl`), each page a call of its own with
   * its own retries. Values inside `soql` must come through `soqlString`.
   */
  async query<T>(orgId: string, soql: string, operation = 'query'): Promise<T[]> {
    const object = /\bFROM\s+(\w+)/i.exec(soql)?.[1] ?? 'records';
    const records: T[] = [];
    let url: string | undefined = `${this.dataPath()}/query?q=${encodeURIComponent(soql)}`;
    while (url) {
      const page: QueryResultDto<T> = await this.send<QueryResultDto<T>>(orgId, operation, `query ${object}`, { method: 'GET', url });
      records.push(...page.records);
      if (page.done) break;
      if (!page.nextRecordsUrl) {
        throw new ServiceError({ service: 'salesforce', operation, target: orgId, code: 'INCOMPLETE_RESULT' }, `query ${object}: a page with done=false and no nextRecordsUrl`);
      }
      url = page.nextRecordsUrl;
    }
    return records;
  }

  // ── Calls ──────────────────────────────────────────────────────────────────────────────────

  private dataPath(): string {
    return `/services/data/v${this.apiVersion}`;
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
  private async send<T>(orgId: string, operation: string, detail: string, request: HttpRequest): Promise<T> {
    const session = this.session(orgId, operation);
    const fail = (error: unknown) => this.failure(error, operation, orgId, detail);
    return withRetry(async () => {
      for (let pass = 0; ; pass++) {
        await this.authorize(session, operation);
        const { connection } = session;
        const token = connection.accessToken;
        const url = /^https?:\/\//i.test(request.url) ? request.url : `${connection.instanceUrl}${request.url}`;
        try {
          const api = new GatewayHttpApi(connection, { retry: { maxRetries: 0 }, timeout: this.timeoutMs });
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
    }, this.retry);
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
      throw this.failure(error, operation, session.settings.id, 'token request');
    }
  }

  private async requestToken(session: OrgSession): Promise<void> {
    const { settings, connection } = session;
    const params: { grant_type: string; [name: string]: string } =
      settings.auth === 'jwt-bearer'
        ? {
            grant_type: JWT_BEARER_GRANT,
            assertion: signJwtAssertion(
              { iss: settings.clientId, sub: settings.username!, aud: jwtAudience(settings.loginUrl), exp: Math.floor(Date.now() / 1000) + 180 },
              settings.privateKey!,
            ),
          }
        : { grant_type: 'client_credentials' };
    const userInfo = await this.timed(connection.authorize(params));
    if (!sameOrg(userInfo.organizationId, settings.id)) {
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
    if (RETRYABLE_STATUSES.has(wire.statusCode) || (wire.errorCode !== undefined && RETRYABLE_CODES.has(wire.errorCode))) {
      return new RetryableError(serviceError, retryAfterMs);
    }
    return serviceError;
  }
}

/** The Salesforce gateway for the orgs of the settings (`STEWARD_SALESFORCE_ORGS`). */
export function createSalesforceGateway(
  settings: Settings,
  options: { retry?: RetryPolicy; apiVersion?: string } = {},
): JsforceSalesforceGateway {
  return new JsforceSalesforceGateway(settings.salesforceOrgs, {
    retry: options.retry,
    apiVersion: options.apiVersion,
    timeoutMs: settings.http.timeoutMs,
    maxConcurrency: settings.http.maxConcurrency,
  });
}
