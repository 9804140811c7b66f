import { createHmac, randomBytes } from 'node:crypto';
import { issueToken, type SimContext } from '../core/context.js';
import type { FixtureSalesforceOrg } from '../core/fixture.js';
import { json, type SimHandler, type SimRequest, type SimResponse } from '../core/host.js';
import { executeSoql, SoqlError, type SoqlDatabase, type SoqlField, type SoqlFieldType, type SoqlObject } from './soql.js';

/**
 * The Salesforce REST API and OAuth token endpoint of one org, as jsforce 3 talks to them:
 *
 * - `POST /services/oauth2/token`: `client_credentials` (client id and secret in the form or in
 *   HTTP Basic) and `urn:ietf:params:oauth:grant-type:jwt-bearer` (the JWT is decoded and its
 *   claims checked — `iss` = client id, `sub` = an active user, `exp` in the future — but its
 *   signature is NOT verified: the simulator does not know the connected app's certificate);
 * - `GET /services/data/` (versions), `GET /services/data/vXX.X/` (resources);
 * - `GET /services/data/vXX.X/query?q=` (and `queryAll`), pages of `ctx.paging.salesforce` (2,000;
 *   `Sforce-Query-Options: batchSize=` asks for fewer, 200 at least) with `done:false` and
 *   `nextRecordsUrl: /services/data/vXX.X/query/01g…-2000`, then `GET` of that URL;
 * - `GET /services/data/vXX.X/sobjects[/{type}[/describe|/{id}]]`, `PATCH /sobjects/User/{id}`
 *   (activating a user takes a seat of its profile's user license: `LICENSE_LIMIT_EXCEEDED` when
 *   none is left, as Salesforce refuses it);
 * - `GET /services/data/vXX.X/limits`; every REST answer carries `Sforce-Limit-Info`.
 *
 * Errors use Salesforce's shape `[{ message, errorCode }]`; throttling, outages and 401s for a
 * missing token come from the host around this handler. A token is only good for the org that
 * issued it (else 401 `INVALID_SESSION_ID`).
 */

type Row = Record<string, unknown>;

const f = (name: string, type: SoqlFieldType, extra: Partial<SoqlField> = {}): SoqlField => ({ name, type, ...extra });
const ref = (name: string, relationship: string, to: string): SoqlField => f(name, 'reference', { relationship: { name: relationship, to } });

/** The objects the simulator serves, with the fields Salesforce documents for them. */
export const SALESFORCE_OBJECTS: readonly SoqlObject[] = [
  {
    name: 'User',
    fields: [
      f('Id', 'id'), f('Username', 'string'), f('Name', 'string'), f('FirstName', 'string'), f('LastName', 'string'),
      f('Email', 'string'), f('Alias', 'string'), f('IsActive', 'boolean', { defaultValue: false }),
      ref('ProfileId', 'Profile', 'Profile'), f('UserType', 'picklist', { defaultValue: 'Standard' }),
      f('LastLoginDate', 'datetime'), f('CreatedDate', 'datetime'), f('LastModifiedDate', 'datetime'),
    ],
  },
  {
    name: 'UserLicense',
    fields: [
      f('Id', 'id'), f('Name', 'string'), f('MasterLabel', 'string'), f('LicenseDefinitionKey', 'string'),
      f('Status', 'picklist', { defaultValue: 'Active' }), f('TotalLicenses', 'int'), f('UsedLicenses', 'int'),
      f('UsedLicensesLastUpdated', 'datetime'), f('CreatedDate', 'datetime'), f('LastModifiedDate', 'datetime'),
    ],
  },
  {
    name: 'Profile',
    fields: [
      f('Id', 'id'), f('Name', 'string'), ref('UserLicenseId', 'UserLicense', 'UserLicense'),
      f('UserType', 'picklist', { defaultValue: 'Standard' }), f('Description', 'string'),
      f('CreatedDate', 'datetime'), f('LastModifiedDate', 'datetime'),
    ],
  },
  {
    name: 'PermissionSet',
    fields: [
      f('Id', 'id'), f('Name', 'string'), f('Label', 'string'), f('Description', 'string'),
      f('IsOwnedByProfile', 'boolean', { defaultValue: false }), ref('ProfileId', 'Profile', 'Profile'),
      f('LicenseId', 'reference'), f('NamespacePrefix', 'string'), f('Type', 'picklist', { defaultValue: 'Regular' }),
      f('CreatedDate', 'datetime'), f('LastModifiedDate', 'datetime'),
    ],
  },
  {
    name: 'PermissionSetAssignment',
    fields: [
      f('Id', 'id'), ref('AssigneeId', 'Assignee', 'User'), ref('PermissionSetId', 'PermissionSet', 'PermissionSet'),
      f('PermissionSetGroupId', 'reference'), f('IsActive', 'boolean', { defaultValue: true }),
      f('ExpirationDate', 'datetime'), f('SystemModstamp', 'datetime'),
    ],
  },
  {
    name: 'PermissionSetLicense',
    fields: [
      f('Id', 'id'), f('DeveloperName', 'string'), f('MasterLabel', 'string'), f('PermissionSetLicenseKey', 'string'),
      f('TotalLicenses', 'int'), f('UsedLicenses', 'int'), f('Status', 'picklist', { defaultValue: 'Active' }),
      f('ExpirationDate', 'datetime'), f('CreatedDate', 'datetime'),
    ],
  },
  {
    // The real object name of permission set license assignments (not "…Assignment").
    name: 'PermissionSetLicenseAssign',
    fields: [
      f('Id', 'id'), ref('AssigneeId', 'Assignee', 'User'),
      ref('PermissionSetLicenseId', 'PermissionSetLicense', 'PermissionSetLicense'),
      f('IsRevoked', 'boolean', { defaultValue: false }), f('CreatedDate', 'datetime'), f('SystemModstamp', 'datetime'),
    ],
  },
  {
    name: 'ConnectedApplication',
    fields: [f('Id', 'id'), f('Name', 'string'), f('CreatedDate', 'datetime'), f('LastModifiedDate', 'datetime')],
  },
];

/** Where each object's records live in the fixture. */
const COLLECTIONS: Record<string, keyof FixtureSalesforceOrg> = {
  User: 'users',
  UserLicense: 'userLicenses',
  Profile: 'profiles',
  PermissionSet: 'permissionSets',
  PermissionSetAssignment: 'permissionSetAssignments',
  PermissionSetLicense: 'permissionSetLicenses',
  PermissionSetLicenseAssign: 'permissionSetLicenseAssignments',
  ConnectedApplication: 'connectedApplications',
};

/** API versions served: v31.0 (Summer '14) to v64.0 (Summer '25). */
export const SIMULATED_API_VERSIONS: readonly string[] = Array.from({ length: 34 }, (_, i) => `${31 + i}.0`);

function versionLabel(version: string): string {
  const n = Number(version) - 31;
  const season = ['Summer', 'Winter', 'Spring'][n % 3]!;
  return `${season} '${14 + Math.floor((n + 2) / 3)}`;
}

const DAILY_API_REQUESTS = 15_000;
const MAX_OPEN_CURSORS = 50;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const sfError = (status: number, errorCode: string, message: string, headers?: Record<string, string>): SimResponse =>
  json(status, [{ message, errorCode }], headers);
const oauthError = (status: number, error: string, description: string): SimResponse =>
  json(status, { error, error_description: description });
const notFound = () => sfError(404, 'NOT_FOUND', 'The requested resource does not exist');

/**
 * R6 (SPEC §8): the org's daily API request limit is spent. "403 | The request has been refused …
 * If the error code is REQUEST_LIMIT_EXCEEDED, you've exceeded API request limits in your org"
 * (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm). The message is
 * the one of captured answers and Salesforce's community answers, not printed in the REST guide.
 * The OAuth token endpoint is not an API call and keeps answering.
 */
function dailyLimitExceeded(): SimResponse {
  return json(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
}

/** Client credentials the simulator accepts for an org. */
export function salesforceClientFor(org: FixtureSalesforceOrg): { clientId: string; clientSecret: string } {
  return { clientId: `3MVG9sim.${org.id}`, clientSecret: `sim-secret-${org.id}` };
}

const base64UrlJson = (part: string): unknown => {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};

/** Salesforce REST API and OAuth token endpoint of one org. */
export function createSalesforceHandler(ctx: SimContext, org: FixtureSalesforceOrg): SimHandler {
  const client = salesforceClientFor(org);
  const hostName = `salesforce:${org.id}`;
  const baseUrl = () => ctx.urls.salesforce[org.id] ?? '';
  const cursors = new Map<string, { records: Row[]; totalSize: number; pageSize: number }>();
  /** The user the client-credentials flow runs as (the connected app's "Run As" user). */
  const runAsUserId = `005${org.id.slice(3, 12)}RUNAS0`.slice(0, 18);

  const collection = (objectName: string): Row[] => {
    const key = COLLECTIONS[objectName];
    return key ? (org[key] as Row[]) : [];
  };

  /** The documented fields, plus any extra property the fixture's records carry. */
  const describe = (objectName: string): SoqlObject | undefined => {
    const known = SALESFORCE_OBJECTS.find((o) => o.name.toLowerCase() === objectName.toLowerCase());
    if (!known) return undefined;
    const names = new Set(known.fields.map((x) => x.name.toLowerCase()));
    const extra: SoqlField[] = [];
    for (const record of collection(known.name)) {
      for (const [key, value] of Object.entries(record)) {
        if (names.has(key.toLowerCase())) continue;
        names.add(key.toLowerCase());
        extra.push(f(key, typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'double' : 'string'));
      }
    }
    return { name: known.name, fields: [...known.fields, ...extra] };
  };
  const db: SoqlDatabase = { describe, records: collection };

  const apiUsage = () => ctx.log.filter((r) => r.host === hostName).length;
  const rest = (response: SimResponse): SimResponse => ({
    ...response,
    headers: { ...response.headers, 'Sforce-Limit-Info': `api-usage=${apiUsage()}/${DAILY_API_REQUESTS}` },
  });

  // ── OAuth ────────────────────────────────────────────────────────────────────────────────
  const tokenResponse = (userId: string): SimResponse => {
    const accessToken = issueToken(ctx, client.clientId, org.id, 7200);
    const id = `${baseUrl()}/id/${org.id}/${userId}`;
    const issuedAt = String(Date.now());
    const signature = createHmac('sha256', client.clientSecret).update(id + issuedAt).digest('base64');
    return json(200, { access_token: accessToken, signature, scope: 'api', instance_url: baseUrl(), id, token_type: 'Bearer', issued_at: issuedAt });
  };

  const token = (request: SimRequest): SimResponse => {
    if (request.method !== 'POST') return oauthError(400, 'invalid_request', 'must use HTTP POST');
    const form = request.body && typeof request.body === 'object' ? (request.body as Record<string, string>) : undefined;
    if (!form) return oauthError(400, 'invalid_request', 'grant type not supported');
    if (form.grant_type === 'client_credentials') {
      let clientId = form.client_id;
      let clientSecret = form.client_secret;
      const basic = /^Basic\s+(\S+)$/i.exec(String(request.headers.authorization ?? ''));
      if (basic) {
        const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
        clientId = id;
        clientSecret = secret;
      }
      if (clientId !== client.clientId || clientSecret !== client.clientSecret)
        return oauthError(400, 'invalid_client', 'invalid client credentials');
      return tokenResponse(runAsUserId);
    }
    if (form.grant_type === JWT_BEARER) {
      const parts = String(form.assertion ?? '').split('.');
      const header = parts.length === 3 ? (base64UrlJson(parts[0]!) as { alg?: string } | undefined) : undefined;
      const claims = parts.length === 3 ? (base64UrlJson(parts[1]!) as Record<string, unknown> | undefined) : undefined;
      if (!header || !claims || header.alg !== 'RS256' || !parts[2]) return oauthError(400, 'invalid_grant', 'invalid assertion');
      if (claims.iss !== client.clientId) return oauthError(400, 'invalid_client_id', 'client identifier invalid');
      if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return oauthError(400, 'invalid_grant', 'expired authorization code');
      if (typeof claims.aud !== 'string' || claims.aud === '') return oauthError(400, 'invalid_grant', 'audience is invalid');
      const user = org.users.find((u) => typeof claims.sub === 'string' && u.Username.toLowerCase() === claims.sub.toLowerCase());
      if (!user || !user.IsActive) return oauthError(400, 'invalid_grant', 'user hasn\'t approved this consumer');
      return tokenResponse(user.Id);
    }
    return oauthError(400, 'unsupported_grant_type', 'grant type not supported');
  };

  // ── Query ────────────────────────────────────────────────────────────────────────────────
  const recordUrl = (version: string) => (type: string, id: string) => `/services/data/v${version}/sobjects/${type}/${id}`;

  const page = (version: string, locator: string, offset: number): SimResponse => {
    const cursor = cursors.get(locator);
    if (!cursor || offset > cursor.records.length) return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    const end = offset + cursor.pageSize;
    const done = end >= cursor.records.length;
    return json(200, {
      totalSize: cursor.totalSize,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${locator}-${end}` }),
      records: cursor.records.slice(offset, end),
    });
  };

  const query = (request: SimRequest, version: string): SimResponse => {
    const soql = request.url.searchParams.get('q');
    if (soql === null || soql.trim() === '') return sfError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    let result;
    try {
      result = executeSoql(soql, db, { recordUrl: recordUrl(version) });
    } catch (error) {
      if (error instanceof SoqlError) return sfError(400, error.errorCode, error.message);
      throw error;
    }
    let pageSize = ctx.paging.salesforce;
    const options = /batchSize\s*=\s*(\d+)/i.exec(String(request.headers['sforce-query-options'] ?? ''));
    if (options) pageSize = Math.min(pageSize, Math.max(200, Math.min(2000, Number(options[1]))));
    const locator = `01g${randomBytes(12).toString('hex').toUpperCase().slice(0, 15)}`;
    cursors.set(locator, { records: result.records, totalSize: result.totalSize, pageSize });
    while (cursors.size > MAX_OPEN_CURSORS) cursors.delete(cursors.keys().next().value!);
    return page(version, locator, 0);
  };

  // ── sObjects ─────────────────────────────────────────────────────────────────────────────
  const fullRecord = (object: SoqlObject, record: Row, version: string, only?: string[]): Row => {
    const out: Row = { attributes: { type: object.name, url: recordUrl(version)(object.name, String(record.Id)) } };
    for (const field of object.fields) {
      if (only && !only.includes(field.name.toLowerCase())) continue;
      out[field.name] = record[field.name] === undefined ? (field.defaultValue ?? null) : record[field.name];
    }
    return out;
  };

  const patchUser = (record: Row, body: unknown): SimResponse => {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return sfError(400, 'JSON_PARSER_ERROR', 'The request body is not a JSON object');
    const user = describe('User')!;
    const changes: Row = {};
    for (const [key, value] of Object.entries(body as Row)) {
      const field = user.fields.find((x) => x.name.toLowerCase() === key.toLowerCase());
      if (!field) return sfError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type User`);
      if (field.name === 'Id') return sfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.');
      if (field.type === 'boolean' && typeof value !== 'boolean')
        return sfError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of boolean from ${typeof value} value ${JSON.stringify(value)} or request may be missing a required field`);
      changes[field.name] = value;
    }
    if (changes.IsActive !== undefined && changes.IsActive !== record.IsActive) {
      // An active user holds a seat of its profile's user license.
      const profile = org.profiles.find((p) => p.Id === record.ProfileId);
      const license = org.userLicenses.find((l) => l.Id === (profile as Row | undefined)?.UserLicenseId);
      if (license && changes.IsActive === true) {
        if (license.UsedLicenses >= license.TotalLicenses) return json(400, [{ message: 'License Limit Exceeded', errorCode: 'LICENSE_LIMIT_EXCEEDED', fields: [] }]);
        license.UsedLicenses += 1;
      } else if (license && changes.IsActive === false) {
        license.UsedLicenses = Math.max(0, license.UsedLicenses - 1);
      }
    }
    Object.assign(record, changes);
    return json(204);
  };

  const sobjects = (request: SimRequest, version: string, parts: string[]): SimResponse => {
    if (parts.length === 0) {
      if (request.method !== 'GET') return sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are GET,HEAD`);
      return json(200, {
        encoding: 'UTF-8',
        maxBatchSize: 200,
        sobjects: SALESFORCE_OBJECTS.map((o) => ({
          name: o.name,
          label: o.name,
          queryable: true,
          retrieveable: true,
          updateable: o.name === 'User',
          urls: { sobject: `/services/data/v${version}/sobjects/${o.name}`, rowTemplate: `/services/data/v${version}/sobjects/${o.name}/{ID}` },
        })),
      });
    }
    const object = describe(parts[0]!);
    if (!object) return notFound();
    if (parts.length === 1 || (parts.length === 2 && parts[1] === 'describe')) {
      if (request.method !== 'GET') return sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are GET,HEAD`);
      return json(200, {
        name: object.name,
        label: object.name,
        queryable: true,
        updateable: object.name === 'User',
        fields: object.fields.map((x) => ({
          name: x.name,
          type: x.type,
          relationshipName: x.relationship?.name ?? null,
          referenceTo: x.relationship ? [x.relationship.to] : [],
          updateable: object.name === 'User' && x.name !== 'Id',
        })),
      });
    }
    if (parts.length !== 2) return notFound();
    const record = collection(object.name).find((r) => r.Id === parts[1]);
    if (!record) return notFound();
    if (request.method === 'GET') {
      const fields = request.url.searchParams.get('fields');
      const only = fields ? fields.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean) : undefined;
      const unknown = only?.find((name) => !object.fields.some((x) => x.name.toLowerCase() === name));
      if (unknown) return sfError(400, 'INVALID_FIELD', `No such column '${unknown}' on sobject of type ${object.name}`);
      return json(200, fullRecord(object, record, version, only));
    }
    if (request.method === 'PATCH' && object.name === 'User') return patchUser(record, request.body);
    return sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are GET,HEAD`);
  };

  // ── Routing ──────────────────────────────────────────────────────────────────────────────
  const route = (request: SimRequest): SimResponse => {
    const path = request.path;
    if (/^\/services\/data\/?$/.test(path)) {
      return json(200, SIMULATED_API_VERSIONS.map((version) => ({ label: versionLabel(version), url: `/services/data/v${version}`, version })));
    }
    const match = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(path);
    if (!match || !SIMULATED_API_VERSIONS.includes(match[1]!)) return notFound();
    const version = match[1]!;
    const parts = (match[2] ?? '').split('/').filter(Boolean);
    const resource = parts[0];
    if (resource === undefined) {
      if (request.method !== 'GET') return notFound();
      const root = `/services/data/v${version}`;
      return json(200, { limits: `${root}/limits`, query: `${root}/query`, queryAll: `${root}/queryAll`, sobjects: `${root}/sobjects` });
    }
    if (resource === 'query' || resource === 'queryAll') {
      if (request.method !== 'GET') return sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are GET,HEAD`);
      if (parts.length === 1) return query(request, version);
      const more = parts.length === 2 ? /^(01g[0-9A-Za-z]+)-(\d+)$/.exec(parts[1]!) : null;
      if (!more) return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      return page(version, more[1]!, Number(more[2]));
    }
    if (resource === 'limits' && parts.length === 1 && request.method === 'GET') {
      const used = apiUsage();
      return json(200, {
        DailyApiRequests: { Max: DAILY_API_REQUESTS, Remaining: Math.max(0, DAILY_API_REQUESTS - used) },
        ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
        ConcurrentSyncReportRuns: { Max: 20, Remaining: 20 },
        DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
        DataStorageMB: { Max: 5, Remaining: 5 },
        FileStorageMB: { Max: 20, Remaining: 20 },
      });
    }
    if (resource === 'sobjects') return sobjects(request, version, parts.slice(1));
    return notFound();
  };

  return (request) => {
    if (request.path === '/services/oauth2/token') return token(request);
    if (request.path.startsWith('/services/oauth2/')) return oauthError(404, 'not_found', 'unknown OAuth endpoint');
    // The host checked that the token exists; Salesforce also ties a session to its org.
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(request.headers.authorization ?? ''));
    const session = bearer ? ctx.tokens.get(bearer[1]!) : undefined;
    if (!session || session.audience !== org.id) return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (ctx.faults.behaviour(['salesforce', org.id], 'dailyLimitExceeded')) return rest(dailyLimitExceeded());
    return rest(route(request));
  };
}
