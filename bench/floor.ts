import tls from 'node:tls';
import pLimit from 'p-limit';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { Settings } from '../lib/config/settings.js';
import {
  SOQL_CANDIDATE_PATTERNS,
  isCopilotPermissionSet,
  isIntegrationProfileName,
  isIntegrationUsername,
} from '../lib/domain/copilot-for-sales-names.js';
import { ADMIN_ROLE_TEMPLATE_IDS, type AdminRole } from '../lib/domain/model.js';
import { DATAVERSE_PAGE_SIZE } from '../lib/gateways/dataverse/client.js';
import { SYSTEMUSERROLE_SELECT, SYSTEMUSER_SELECT, TEAM_EXPAND, TEAM_SELECT } from '../lib/gateways/dataverse/dto.js';
import { GRAPH_BATCH_LIMIT, GRAPH_PAGE_SIZE, GRAPH_SCOPE } from '../lib/gateways/graph/client.js';
import { AUDIT_USER_PAGE_SIZE, AUDIT_USER_SELECT, DELTA_USER_SELECT, adminRoleAssignmentRequests } from '../lib/gateways/graph/dto.js';
import { pathSegment } from '../lib/gateways/http/odata.js';
import { toEnvironment, type WireEnvironment } from '../lib/gateways/powerplatform/dto.js';
import { BAP_API_VERSION } from '../lib/gateways/powerplatform/operations.js';
import { DEFAULT_SALESFORCE_API_VERSION } from '../lib/gateways/salesforce/client.js';
import { soqlList, soqlString } from '../lib/gateways/salesforce/soql-literal.js';

/**
 * The floor of the benchmark: the pages Steward's audit needs, fetched with the same concurrency
 * and nothing done with them. Plain `fetch` (undici, a fresh connection pool configured like
 * Steward's), the same tokens (one per audience, as Steward's credential gets them), the same
 * URLs, `$select`s, page sizes and headers. A body is read to its end and searched only for
 * what the next request needs (a next-page link; the Salesforce ids of the second round of
 * queries; the environments' instance URLs and security groups).
 *
 * What is fetched (every page is counted; a `$batch` item counts as one page, as Graph executes
 * and throttles each item on its own, and the sim's `calls` count does the same):
 *
 * - tokens: Microsoft Graph, the Power Platform admin API, one per Dataverse instance, one per
 *   Salesforce org (a client needs them before its first page);
 * - BAP: every page of the admin environment list;
 * - Graph: the delta links of the next run (SPEC §9: `/users/delta` and `/groups/delta` with
 *   `$deltatoken=latest`, one request each), every page of `/users` (500 a page: Steward's
 *   `$select` includes `signInActivity`),
 *   `/subscribedSkus`, and in JSON batches of 20 the three admin roles' assignments (R2), each
 *   security group's object (its name is quoted by findings), first page of members and of owners;
 *   then every further page of those lists;
 * - Dataverse, per environment: the first round of change tracking (SPEC §9) of `systemusers`
 *   and of `systemuserrolescollection` (5,000 a page, to the delta link), and every page of `teams`
 *   (with roles and members), in parallel;
 * - Salesforce, per org: the six queries of the first round, in parallel, then the queries of
 *   the second round that those answers call for, as Steward makes them.
 *
 * Concurrency, as in Steward's audit: the environment list first, then the directory (at most
 * `concurrency` Graph requests in flight, the `/users` chain being one of them), then the targets,
 * `concurrency` at a time (each environment's two collections in parallel; at most `concurrency`
 * Salesforce queries in flight across orgs).
 */

const CONNECT_ATTEMPTS = 3;

export interface FloorResult {
  /** Every page and token fetched. */
  pages: number;
  /** HTTP requests (a `$batch` is one). */
  httpRequests: number;
  seconds: number;
  byKind: Record<string, number>;
  /** Seconds from the start to the end of each phase. */
  phases: { environments: number; directory: number; targets: number };
}

type Json = Record<string, unknown>;

const NEXT_LINK_KEY = '@odata.nextLink"';

/**
 * The next-page links in a body, found by a plain search (no parse): `top` is the collection's own
 * `@odata.nextLink`, `nested` those of expanded or batched collections (`<nav>@odata.nextLink`, or
 * `@odata.nextLink` of a `$batch` item's body, which `all` collects together with `top`).
 */
function nextLinks(text: string): { top: string | undefined; nested: string[]; all: string[] } {
  let top: string | undefined;
  const nested: string[] = [];
  const all: string[] = [];
  for (let at = text.indexOf(NEXT_LINK_KEY); at !== -1; at = text.indexOf(NEXT_LINK_KEY, at + NEXT_LINK_KEY.length)) {
    let i = at + NEXT_LINK_KEY.length;
    while (text[i] === ' ' || text[i] === ':') i++;
    if (text[i] !== '"') continue;
    let end = i + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    const link = unescape(text.slice(i + 1, end));
    all.push(link);
    if (text[at - 1] === '"') top ??= link;
    else nested.push(link);
  }
  return { top, nested, all };
}

const unescape = (literal: string) => JSON.parse(`"${literal}"`) as string;

export async function runFloor(settings: Settings, options: { concurrency: number }): Promise<FloorResult> {
  const concurrency = Math.max(1, options.concurrency);
  // A pool of its own, configured as Steward's (lib/gateways/http/tls.ts: one parsed trust store
  // for every connection): the floor pays for its own connections, as Steward did.
  const ca = [...tls.rootCertificates, ...settings.extraCaCertificates];
  const dispatcher: Dispatcher = new Agent({ connect: { ca, secureContext: tls.createSecureContext({ ca }) }, keepAliveTimeout: 10_000 });
  const byKind: Record<string, number> = {};
  let pages = 0;
  let httpRequests = 0;
  const count = (kind: string, n = 1) => {
    byKind[kind] = (byKind[kind] ?? 0) + n;
    pages += n;
  };

  async function get(kind: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, items = 1): Promise<string> {
    count(kind, items);
    let response;
    for (let attempt = 1; ; attempt++) {
      httpRequests++;
      try {
        response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, dispatcher });
        break;
      } catch (error) {
        // undici's "fetch failed" says nothing by itself: the socket error is its cause.
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        // A connection that never opened carried no page: tried again, as Steward's retry policy
        // does (a busy simulator at a million users can take longer than undici's 10 s to accept).
        if (cause?.code === 'UND_ERR_CONNECT_TIMEOUT' && attempt < CONNECT_ATTEMPTS) continue;
        throw new Error(`floor: ${init.method ?? 'GET'} ${url.slice(0, 160)} failed: ${cause?.code ?? ''} ${cause?.message ?? (error as Error).message}`);
      }
    }
    const text = await response.text();
    if (process.env.BENCH_DEBUG) process.stderr.write(`floor ${((performance.now() - started) / 1000).toFixed(3)} ${kind} ${text.length} ${url.slice(0, 120)}\n`);
    if (!response.ok) throw new Error(`floor: ${init.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return text;
  }

  const { tenantId } = settings;
  const { clientId, clientSecret, authorityHost } = settings.identity;
  if (!clientId || !clientSecret) throw new Error('floor: needs the client id and secret of the simulated tenant');
  async function entraToken(scope: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId!, client_secret: clientSecret!, scope }).toString();
    const text = await get('token', `${authorityHost.replace(/\/+$/, '')}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    return (JSON.parse(text) as { access_token: string }).access_token;
  }

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;

  // ── Phase 1: the environments (and the Graph token meanwhile) ──────────────────────────────
  const graphToken = entraToken(GRAPH_SCOPE);
  const bapToken = await entraToken(settings.endpoints.powerPlatformScope);
  const environments: ReturnType<typeof toEnvironment>[] = [];
  let bapNext: string | undefined =
    `${settings.endpoints.powerPlatform.replace(/\/+$/, '')}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=${BAP_API_VERSION}&$expand=properties.addons`;
  while (bapNext) {
    const page = JSON.parse(await get('powerplatform', bapNext, { headers: { Accept: 'application/json', Authorization: `Bearer ${bapToken}` } })) as {
      value: WireEnvironment[];
      nextLink?: string;
    };
    environments.push(...page.value.map(toEnvironment));
    bapNext = page.nextLink || undefined;
  }
  const allow = settings.environmentAllowList;
  const audited = allow && allow.length > 0 ? environments.filter((e) => allow.includes(e.id)) : environments;
  const phaseEnvironments = elapsed();

  // ── Phase 2: the directory ───────────────────────────────────────────────────────────────────
  const graph = `${settings.endpoints.graph.replace(/\/+$/, '')}/v1.0`;
  const graphHeaders = { Authorization: `Bearer ${await graphToken}` };
  const graphLimit = pLimit(concurrency);
  const graphGet = (url: string) => graphLimit(() => get('graph', url, { headers: graphHeaders }));
  const q = (params: Record<string, string | number>) =>
    '?' + Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');

  /** Follows a chain of next-page links to its end. */
  const followGraph = async (link: string | undefined) => {
    while (link) {
      const text = await graphGet(link);
      link = nextLinks(text).top;
    }
  };

  const users = followGraph(`${graph}/users${q({ $select: AUDIT_USER_SELECT.join(','), $top: AUDIT_USER_PAGE_SIZE })}`);
  const skus = followGraph(`${graph}/subscribedSkus`);
  const groupIds = [...new Set(audited.map((e) => e.securityGroupId).filter((id): id is string => !!id))];
  const deltaLinks = Promise.all([
    graphGet(`${graph}/users/delta${q({ $select: DELTA_USER_SELECT.join(','), $deltatoken: 'latest' })}`),
    groupIds.length > 0 && groupIds.length <= 50
      ? graphGet(`${graph}/groups/delta${q({ $filter: groupIds.map((id) => `id eq '${id}'`).join(' or '), $select: 'displayName,members', $deltatoken: 'latest' })}`)
      : Promise.resolve(''),
  ]);
  const items = [
    // R2: the admin roles' assignments, paged (role-assignable groups' members would add pages: none in the bench tenant).
    ...adminRoleAssignmentRequests(Object.keys(ADMIN_ROLE_TEMPLATE_IDS) as AdminRole[]),
    ...groupIds.flatMap((id, i) => [
      { id: `g${i}`, method: 'GET', url: `/groups/${pathSegment(id)}${q({ $select: 'id,displayName' })}` },
      { id: `m${i}`, method: 'GET', url: `/groups/${pathSegment(id)}/members${q({ $select: 'id,displayName', $top: GRAPH_PAGE_SIZE })}` },
      { id: `o${i}`, method: 'GET', url: `/groups/${pathSegment(id)}/owners${q({ $select: 'id', $top: GRAPH_PAGE_SIZE })}` },
    ]),
  ];
  const batches: Promise<void>[] = [];
  for (let i = 0; i < items.length; i += GRAPH_BATCH_LIMIT) {
    const chunk = items.slice(i, i + GRAPH_BATCH_LIMIT);
    batches.push(
      (async () => {
        const text = await graphLimit(() =>
          get('graph', `${graph}/$batch`, { method: 'POST', headers: { ...graphHeaders, 'Content-Type': 'application/json' }, body: JSON.stringify({ requests: chunk }) }, chunk.length),
        );
        // Every item's next page, whichever item it belongs to: each is a chain of its own.
        await Promise.all(nextLinks(text).all.map((link) => followGraph(link)));
      })(),
    );
  }
  await Promise.all([users, skus, deltaLinks, ...batches]);
  const phaseDirectory = elapsed();

  // ── Phase 3: the targets ─────────────────────────────────────────────────────────────────────
  const targetLimit = pLimit(concurrency);
  const salesforceLimit = pLimit(concurrency);

  const environmentTarget = async (environment: (typeof audited)[number]) => {
    if (!environment.instanceUrl) return;
    const token = await entraToken(`${environment.instanceUrl}/.default`);
    const apiRoot = `${environment.instanceUrl}/api/data/v9.2/`;
    const headers = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
      'OData-MaxVersion': '4.0',
      'OData-Version': '4.0',
      Prefer: `odata.maxpagesize=${DATAVERSE_PAGE_SIZE}`,
      'If-None-Match': 'null',
    };
    // Only the collection's own chain: the `<nav>@odata.nextLink` on each row of a single-level
    // expand carries no paging and returns the same related rows again (R1, SPEC §8), so the
    // least a reader must fetch does not include it.
    const follow = async (first: string) => {
      let link: string | undefined = first;
      while (link) link = nextLinks(await get('dataverse', link, { headers })).top;
    };
    const query = (params: Record<string, string>) => Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const tracking = { ...headers, Prefer: `odata.track-changes,odata.maxpagesize=${DATAVERSE_PAGE_SIZE}`, 'Cache-Control': 'no-cache' };
    const round = async (first: string) => {
      let link: string | undefined = first;
      while (link) link = nextLinks(await get('dataverse', link, { headers: tracking })).top;
    };
    await Promise.all([
      round(`${apiRoot}systemusers?${query({ $select: SYSTEMUSER_SELECT.join(',') })}`),
      round(`${apiRoot}systemuserrolescollection?${query({ $select: SYSTEMUSERROLE_SELECT.join(',') })}`),
      follow(`${apiRoot}teams?${query({ $select: TEAM_SELECT.join(','), $expand: TEAM_EXPAND })}`),
    ]);
  };

  const salesforceTarget = async (org: Settings['salesforceOrgs'][number]) => {
    if (org.auth !== 'client-credentials') throw new Error('floor: the simulated orgs use client credentials');
    const tokenText = await get('salesforce-token', `${org.loginUrl.replace(/\/+$/, '')}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: org.clientId, client_secret: org.clientSecret! }).toString(),
    });
    const session = JSON.parse(tokenText) as { access_token: string; instance_url: string };
    const headers = { Authorization: `Bearer ${session.access_token}` };
    const query = async <T extends Json>(soql: string): Promise<T[]> => {
      const records: T[] = [];
      let url: string | undefined = `${session.instance_url}/services/data/v${DEFAULT_SALESFORCE_API_VERSION}/query?q=${encodeURIComponent(soql)}`;
      while (url) {
        const page = JSON.parse(await salesforceLimit(() => get('salesforce', url!, { headers }))) as { done: boolean; nextRecordsUrl?: string; records: T[] };
        records.push(...page.records);
        url = page.done ? undefined : `${session.instance_url}${page.nextRecordsUrl}`;
      }
      return records;
    };
    // The same SOQL as JsforceSalesforceGateway.getOrgSnapshot.
    const likeAny = (field: string, patterns: readonly string[]) => patterns.map((p) => `${field} LIKE ${soqlString(p)}`).join(' OR ');
    const [, users, profiles, permissionSets] = await Promise.all([
      query('SELECT Id, Name, MasterLabel, LicenseDefinitionKey, Status, TotalLicenses, UsedLicenses FROM UserLicense'),
      query<{ Id: string; Username: string }>(`SELECT Id, Username, IsActive, ProfileId, UserType FROM User WHERE ${likeAny('Username', SOQL_CANDIDATE_PATTERNS.username)}`),
      query<{ Id: string; Name: string }>(`SELECT Id, Name, UserLicenseId FROM Profile WHERE ${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)}`),
      query<{ Id: string; Name: string; Label?: string | null }>(
        `SELECT Id, Name, Label FROM PermissionSet WHERE IsOwnedByProfile = false AND (${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)} OR ${likeAny('Label', SOQL_CANDIDATE_PATTERNS.name)})`,
      ),
      query('SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense'),
      query(`SELECT Id, Name FROM ConnectedApplication WHERE ${likeAny('Name', SOQL_CANDIDATE_PATTERNS.name)}`),
    ]);
    const userIds = users.filter((u) => isIntegrationUsername(u.Username)).map((u) => u.Id);
    const profileIds = profiles.filter((p) => isIntegrationProfileName(p.Name)).map((p) => p.Id);
    const permissionSetIds = permissionSets.filter((p) => isCopilotPermissionSet(p.Name, p.Label ?? null)).map((p) => p.Id);
    const byChunks = async (ids: string[], soql: (list: string) => string) => {
      for (let i = 0; i < ids.length; i += 200) await query(soql(soqlList(ids.slice(i, i + 200))));
    };
    await Promise.all([
      byChunks(profileIds, (list) => `SELECT Id, ProfileId FROM User WHERE ProfileId IN ${list}`),
      permissionSetIds.length === 0
        ? Promise.resolve()
        : byChunks(userIds, (list) => `SELECT Id, AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN ${soqlList(permissionSetIds)} AND AssigneeId IN ${list}`),
      byChunks(userIds, (list) => `SELECT Id, AssigneeId, PermissionSetLicenseId FROM PermissionSetLicenseAssign WHERE AssigneeId IN ${list}`),
    ]);
  };

  await Promise.all([
    ...audited.filter((e) => e.hasDataverse).map((e) => targetLimit(() => environmentTarget(e))),
    ...settings.salesforceOrgs.map((org) => targetLimit(() => salesforceTarget(org))),
  ]);
  const seconds = elapsed();
  await (dispatcher as Agent).close();
  return { pages, httpRequests, seconds, byKind, phases: { environments: phaseEnvironments, directory: phaseDirectory, targets: seconds } };
}

