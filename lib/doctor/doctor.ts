import type { TokenCredential } from '@azure/identity';
import { discoverEnvironments } from '../audit/collect.js';
import type { SalesforceOrgSettings, Settings } from '../config/settings.js';
import type { Environment } from '../domain/model.js';
import { isServiceError } from '../gateways/http/service-error.js';
import { firstPage } from '../gateways/http/pages.js';
import { GRAPH_PERMISSIONS, grantedFor, neededGraphPermissions, superfluousWritePermissions } from './graph-permissions.js';
import type { AppServices } from '../services.js';

/**
 * `steward doctor`: checks a configured deployment, one line per thing that must work, and names
 * the setting or credential at fault when something does not:
 *
 * - Steward's Entra credential gets a token for each audience (Graph, the Power Platform admin API,
 *   each Dataverse environment);
 * - the Graph token's `roles` claim holds every application permission the deployment needs
 *   (read-only: the read ones; lib/doctor/graph-permissions.ts);
 * - Graph, the admin API, each environment's Web API and each Salesforce org answer;
 * - Steward's storage is writable (a probe row written and deleted).
 *
 * It only reads, except for that probe row.
 */

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  title: string;
  detail: string;
  /** The setting, credential or grant at fault (failures and warnings). */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorDependencies {
  services: AppServices;
  /** The credential the gateways sign in with. */
  credential: TokenCredential;
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const PROBE_TABLE = 'operations';

/** The first line of an error, without anything that looks like a token. */
function reason(error: unknown): string {
  const text = String((error as Error)?.message ?? error).split('\n')[0] ?? '';
  return text.replace(/(Bearer\s+)\S+/gi, '$1…').slice(0, 300);
}

/** Which setting an Entra token failure points at (AADSTS codes of the token endpoint). */
function entraFix(settings: Settings, error: unknown, scopeSetting?: string): string {
  const text = String((error as Error)?.message ?? error);
  const { clientId, clientSecret } = settings.identity;
  if (/AADSTS7000215|AADSTS7000222|invalid_client/i.test(text) && clientSecret) return `STEWARD_CLIENT_SECRET (the client secret of app ${clientId} is wrong or expired)`;
  if (/AADSTS700016|unauthorized_client/i.test(text)) return `STEWARD_CLIENT_ID (no application ${clientId ?? ''} in tenant ${settings.tenantId})`;
  if (/AADSTS90002|invalid_tenant/i.test(text)) return `STEWARD_TENANT_ID (tenant ${settings.tenantId} not found)`;
  if (/AADSTS500011|invalid_resource|invalid_scope/i.test(text) && scopeSetting) return scopeSetting;
  if (clientId && clientSecret) return `STEWARD_TENANT_ID / STEWARD_CLIENT_ID / STEWARD_CLIENT_SECRET (app ${clientId})`;
  if (clientId) return `the user-assigned managed identity STEWARD_CLIENT_ID=${clientId}`;
  return 'the Function App\'s managed identity (DefaultAzureCredential: no STEWARD_CLIENT_ID / STEWARD_CLIENT_SECRET set)';
}

/** The claims of a JWT access token (read, not verified: the service verifies it). */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function tokenFor(credential: TokenCredential, scope: string): Promise<{ token: string } | { error: unknown }> {
  try {
    const token = await credential.getToken(scope);
    return token ? { token: token.token } : { error: new Error('no token') };
  } catch (error) {
    return { error };
  }
}

export async function runDoctor({ services, credential }: DoctorDependencies): Promise<DoctorReport> {
  const { settings } = services;
  const checks: DoctorCheck[] = [];
  const add = (check: DoctorCheck) => checks.push(check);

  // ── Microsoft Graph ───────────────────────────────────────────────────────────────────────
  const graphToken = await tokenFor(credential, GRAPH_SCOPE);
  if ('error' in graphToken) {
    add({ id: 'token.graph', status: 'fail', title: 'Token for Microsoft Graph', detail: reason(graphToken.error), fix: entraFix(settings, graphToken.error) });
  } else {
    add({ id: 'token.graph', status: 'pass', title: 'Token for Microsoft Graph', detail: `${GRAPH_SCOPE} for ${settings.identity.clientId ?? 'the managed identity'}` });
    graphPermissionChecks(settings, graphToken.token).forEach(add);
    add(await probe('graph.answers', `Microsoft Graph answers (${settings.endpoints.graph})`, 'STEWARD_GRAPH_URL', async () => {
      const skus = await firstPage(services.directory.listSubscribedSkus());
      return `GET /subscribedSkus: ${skus.length} SKU(s)`;
    }));
  }

  // ── Power Platform admin API and each environment ─────────────────────────────────────────
  const adminScope = settings.endpoints.powerPlatformScope;
  const adminToken = await tokenFor(credential, adminScope);
  let environments: Environment[] | null = null;
  if ('error' in adminToken) {
    add({ id: 'token.powerplatform', status: 'fail', title: 'Token for the Power Platform admin API', detail: reason(adminToken.error), fix: entraFix(settings, adminToken.error, 'STEWARD_POWERPLATFORM_SCOPE') });
  } else {
    add({ id: 'token.powerplatform', status: 'pass', title: 'Token for the Power Platform admin API', detail: adminScope });
    try {
      environments = await discoverEnvironments(services.environments, settings.environmentAllowList);
      add({ id: 'powerplatform.answers', status: 'pass', title: `Power Platform admin API answers (${settings.endpoints.powerPlatform})`, detail: `${environments.length} environment(s)` });
    } catch (error) {
      add({ id: 'powerplatform.answers', status: 'fail', title: `Power Platform admin API answers (${settings.endpoints.powerPlatform})`, detail: reason(error), fix: adminApiFix(error) });
    }
  }
  if (environments === null) {
    add({ id: 'dataverse', status: 'skip', title: 'Dataverse environments', detail: 'not checked: the environments are listed by the Power Platform admin API, which did not answer' });
  } else {
    const allowList = settings.environmentAllowList ?? [];
    for (const missing of allowList.filter((id) => !environments!.some((e) => e.id === id))) {
      add({ id: `dataverse.${missing}`, status: 'fail', title: `Environment ${missing}`, detail: 'listed in STEWARD_ENVIRONMENTS but not answered by the admin API', fix: 'STEWARD_ENVIRONMENTS' });
    }
    for (const environment of environments) (await environmentChecks(services, credential, environment)).forEach(add);
  }

  // ── Salesforce ────────────────────────────────────────────────────────────────────────────
  for (const [index, org] of settings.salesforceOrgs.entries()) add(await salesforceCheck(services, org, index));
  if (settings.salesforceOrgs.length === 0) add({ id: 'salesforce', status: 'skip', title: 'Salesforce orgs', detail: 'none configured (STEWARD_SALESFORCE_ORGS)' });

  // ── Storage ───────────────────────────────────────────────────────────────────────────────
  add(await probe('storage.writable', 'Steward\'s storage is writable', storageSetting(settings), async () => {
    const table = await services.tables.table(PROBE_TABLE);
    const entity = { partitionKey: 'doctor-probe', rowKey: `${Date.now()}-${Math.random().toString(36).slice(2)}` };
    await table.createEntity(entity);
    await table.deleteEntity(entity.partitionKey, entity.rowKey);
    return `table ${PROBE_TABLE}: a probe row written and deleted`;
  }));

  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

function graphPermissionChecks(settings: Settings, token: string): DoctorCheck[] {
  const claims = tokenClaims(token);
  if (!claims) {
    return [{ id: 'graph.permissions', status: 'warn', title: 'Microsoft Graph permissions', detail: 'the Graph token is not a JWT: its roles claim cannot be read' }];
  }
  const roles = new Set(Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : []);
  const app = settings.identity.clientId ?? (typeof claims.appid === 'string' ? claims.appid : 'the managed identity');
  const checks: DoctorCheck[] = neededGraphPermissions(settings.readOnly).map((need) => {
    const grantedAs = grantedFor(need, roles);
    return grantedAs
      ? { id: `graph.permission.${need.permission}`, status: 'pass', title: `Graph permission ${need.permission}`, detail: `granted${grantedAs === need.permission ? '' : ` as ${grantedAs}`}; for ${need.calls.join(', ')}` }
      : {
          id: `graph.permission.${need.permission}`,
          status: 'fail',
          title: `Graph permission ${need.permission}`,
          detail: `not in the token's roles; needed for ${need.calls.join(', ')} (${need.docs})`,
          fix: `grant the Microsoft Graph application permission ${need.permission} to ${app} and give admin consent (docs/setup.md)`,
        };
  });
  if (settings.readOnly) {
    const extra = superfluousWritePermissions(roles);
    if (extra.length > 0) {
      checks.push({
        id: 'graph.permissions.least-privilege',
        status: 'warn',
        title: 'Least privilege (STEWARD_READ_ONLY)',
        detail: `a read-only deployment holds permissions that change the directory: ${extra.join(', ')}`,
        fix: `remove ${extra.join(', ')} from ${app}, or set STEWARD_READ_ONLY=false`,
      });
    }
  }
  const unknown = [...roles].filter((r) => !GRAPH_PERMISSIONS.some((n) => n.permission === r || n.alsoCoveredBy.includes(r)));
  if (unknown.length > 0) checks.push({ id: 'graph.permissions.unused', status: 'warn', title: 'Graph permissions Steward does not use', detail: unknown.join(', '), fix: `remove them from ${app}` });
  return checks;
}

async function environmentChecks(services: AppServices, credential: TokenCredential, environment: Environment): Promise<DoctorCheck[]> {
  const id = `dataverse.${environment.id}`;
  const title = `Environment ${environment.displayName} (${environment.id})`;
  if (!environment.hasDataverse || !environment.instanceUrl) return [{ id, status: 'skip', title, detail: 'no Dataverse database (D3): nothing to audit' }];
  const scope = `${environment.instanceUrl.replace(/\/+$/, '')}/.default`;
  const token = await tokenFor(credential, scope);
  if ('error' in token) return [{ id: `token.${id}`, status: 'fail', title: `Token for ${title}`, detail: reason(token.error), fix: entraFix(services.settings, token.error) }];
  const app = services.settings.identity.clientId ?? 'the managed identity';
  return [
    { id: `token.${id}`, status: 'pass', title: `Token for ${title}`, detail: scope },
    await probe(id, `${title} answers`, `the application user of ${app} in ${environment.displayName}, with a security role (docs/setup.md)`, async () => {
      await services.dataverse.getOrganizationSettings(environment);
      return `${environment.instanceUrl}: organization settings read`;
    }),
  ];
}

async function salesforceCheck(services: AppServices, org: SalesforceOrgSettings, index: number): Promise<DoctorCheck> {
  const title = `Salesforce org ${org.name} (${org.id})`;
  try {
    const limits = await services.salesforce.getApiLimits(org.id);
    return { id: `salesforce.${org.id}`, status: 'pass', title: `${title} answers`, detail: `${org.loginUrl}: daily API requests ${limits.dailyApiRequests.remaining} of ${limits.dailyApiRequests.max} left` };
  } catch (error) {
    return { id: `salesforce.${org.id}`, status: 'fail', title: `${title} answers`, detail: reason(error), fix: salesforceFix(org, index, error) };
  }
}

/** Which part of an org's entry a failure points at (Salesforce's OAuth error codes). */
function salesforceFix(org: SalesforceOrgSettings, index: number, error: unknown): string {
  const entry = `STEWARD_SALESFORCE_ORGS.${index} (${org.id})`;
  const code = isServiceError(error) ? error.code : undefined;
  const secret = org.auth === 'jwt-bearer' ? org.privateKeySetting ?? `${entry}.privateKey` : org.clientSecretSetting ?? `${entry}.clientSecret`;
  switch (code) {
    case 'invalid_client':
      return `${secret} (Salesforce refused the client credentials of consumer key ${org.clientId})`;
    case 'invalid_client_id':
      return `${entry}.clientId (no connected app / External Client App with consumer key ${org.clientId})`;
    case 'invalid_grant':
      return org.auth === 'jwt-bearer'
        ? `${entry}.username and the connected app's pre-authorized profiles (the run-as user must be approved)`
        : `the connected app's client credentials flow and its run-as user (docs/setup.md)`;
    case 'ORG_MISMATCH':
      return `${entry}.id / loginUrl (the credentials open another org)`;
    case 'REQUEST_LIMIT_EXCEEDED':
      return `the org's daily API request limit (R6): wait, or raise it`;
    default:
      return `${entry}.loginUrl (${org.loginUrl})`;
  }
}

function adminApiFix(error: unknown): string {
  if (isServiceError(error) && (error.status === 401 || error.status === 403)) {
    return 'register the app as a Power Platform management application (New-PowerAppManagementApp, docs/setup.md)';
  }
  return 'STEWARD_POWERPLATFORM_URL';
}

function storageSetting(settings: Settings): string {
  return settings.storageConnection.kind === 'identity'
    ? 'STEWARD_STORAGE__* (the identity needs Storage Table Data Contributor)'
    : 'STEWARD_STORAGE_CONNECTION (or AzureWebJobsStorage)';
}

async function probe(id: string, title: string, fix: string, run: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { id, status: 'pass', title, detail: await run() };
  } catch (error) {
    return { id, status: 'fail', title, detail: reason(error), fix };
  }
}
