import { randomUUID } from 'node:crypto';
import type { SimContext } from '../core/context.js';
import type { FixtureEnvironment, FixtureUser } from '../core/fixture.js';
import { stableId } from '../core/ids.js';
import { profileFromEntra, syncedSystemUser } from '../core/records.js';
import { json, type SimHandler, type SimRequest, type SimResponse } from '../core/host.js';

/**
 * The Power Platform admin API (BAP, `api.bap.microsoft.com`):
 *
 * - `GET  /providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=…` — the
 *   tenant's environments, `nextLink` when there is more than a page (20 unless `ctx.paging` has a
 *   `powerPlatform` size);
 * - `GET  …/environments/{id}?api-version=…` — one environment, 404 `EnvironmentNotFound`;
 * - `POST …/environments/{id}/addUser?api-version=2023-06-01` `{ "objectId" }` — force-adds or
 *   refreshes the user's systemuser row from Entra ID (D1), with the D3 / D4.1 / D4.2 (R5) / D4.3 / D5 refusals.
 *
 * Environments have the shape of the recorded responses (shared/reference/bap): `environmentSku`,
 * `databaseType` (`CommonDataService` | `None`), `linkedEnvironmentMetadata` with
 * `instanceUrl` / `instanceApiUrl` and `securityGroupId`, `createdBy`. Environment-level pass per app
 * is the `AppPass` add-on allocated to the environment (`properties.addons`, the capacity add-ons the
 * admin center's "Add-ons" tab assigns; returned with `$expand=properties.addons` and on a single GET).
 */

const PREFIX = '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments';
const DEFAULT_PAGE_SIZE = 20;
const CREATED_TIME = '2024-01-15T09:00:00.0000000Z';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const POWER_PLATFORM_ADMIN = '11648597-926c-4cf3-9c36-bcebb0ba8dcc';
const DYNAMICS_ADMIN = '44367163-eba1-44c3-98af-f5787879f96a';

const bapError = (status: number, code: string, message: string): SimResponse => json(status, { error: { code, message } });

const same = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

/** The BAP answer for one environment. */
function toWire(ctx: SimContext, env: FixtureEnvironment, options: { addons: boolean; capacity: boolean }): Record<string, unknown> {
  const tenantId = ctx.state.tenant.id;
  const instance = env.hasDataverse ? ctx.urls.dataverse[env.id] : undefined;
  const creator = env.createdBy ? ctx.state.graph.users.find((u) => same(u.id, env.createdBy)) : undefined;
  const createdBy = env.createdBy
    ? {
        id: env.createdBy,
        displayName: creator?.displayName ?? env.createdBy,
        email: (creator?.mail as string | undefined) ?? creator?.userPrincipalName ?? env.createdBy,
        type: 'User',
        tenantId,
        userPrincipalName: creator?.userPrincipalName ?? env.createdBy,
      }
    : { id: 'SYSTEM', displayName: 'SYSTEM', type: 'NotSpecified' };
  const uniqueName = `org${env.id.replace(/-/g, '').slice(0, 8)}`;
  const properties: Record<string, unknown> = {
    tenantId,
    azureRegion: 'westeurope',
    displayName: env.displayName,
    description: '',
    createdTime: CREATED_TIME,
    createdBy,
    lastModifiedTime: CREATED_TIME,
    provisioningState: 'Succeeded',
    creationType: env.type === 'Default' ? 'DefaultTenant' : env.type === 'Developer' ? 'Developer' : 'User',
    environmentSku: env.type,
    isDefault: env.type === 'Default',
    clientUris: {
      admin: `https://admin.powerplatform.microsoft.com/environments/environment/${env.id}/hub`,
      maker: `https://make.powerapps.com/environments/${env.id}/home`,
    },
    runtimeEndpoints: {
      'microsoft.BusinessAppPlatform': ctx.urls.powerPlatform,
      'microsoft.CommonDataModel': 'https://europe.api.cds.microsoft.com',
      'microsoft.PowerApps': 'https://europe.api.powerapps.com',
      'microsoft.PowerAppsAdvisor': 'https://europe.api.advisor.powerapps.com',
      'microsoft.PowerVirtualAgents': 'https://powervamg.eu-il107.gateway.prod.island.powerapps.com',
      'microsoft.ApiManagement': 'https://management.EUROPE.azure-apihub.net',
      'microsoft.Flow': 'https://emea.api.flow.microsoft.com',
    },
    databaseType: instance ? 'CommonDataService' : 'None',
  };
  if (instance) {
    const metadata: Record<string, unknown> = {
      resourceId: stableId('organization', env.id),
      friendlyName: env.displayName,
      uniqueName,
      domainName: uniqueName,
      version: '9.2.24023.00200',
      instanceUrl: `${instance}/`,
      instanceApiUrl: instance,
      baseLanguage: 1033,
      instanceState: 'Ready',
      createdTime: CREATED_TIME,
      backgroundOperationsState: 'Enabled',
      scaleGroup: 'EURCRMLIVESG705',
      platformSku: 'Standard',
      schemaType: 'Standard',
    };
    if (env.securityGroupId) metadata.securityGroupId = env.securityGroupId;
    properties.linkedEnvironmentMetadata = metadata;
  } else {
    // As recorded: the key is there, null, when no Dataverse database is linked.
    properties.linkedEnvironmentMetadata = null;
  }
  Object.assign(properties, {
    trialScenarioType: 'None',
    notificationMetadata: { state: 'NotSpecified', branding: 'NotSpecific' },
    retentionPeriod: 'P7D',
    states: {
      management: { id: 'Ready' },
      runtime: { runtimeReasonCode: 'NotSpecified', requestedBy: { displayName: 'SYSTEM', type: 'NotSpecified' }, id: 'Enabled' },
    },
    updateCadence: { id: 'Moderate' },
    retentionDetails: { retentionPeriod: 'P7D', backupsAvailableFromDateTime: CREATED_TIME },
    protectionStatus: { keyManagedBy: 'Microsoft' },
    cluster: { category: 'Prod', number: '107', uriSuffix: 'eu-il107.gateway.prod.island', geoShortName: 'EU', environment: 'Prod' },
    connectedGroups: [],
    lifecycleOperationsEnforcement: {
      allowedOperations: ['DisableGovernanceConfiguration', 'UpdateGovernanceConfiguration'].map((id) => ({
        type: { id },
        reason: { message: `${id} cannot be performed on Power Platform environment because of the governance configuration.`, type: 'GovernanceConfig' },
      })),
      ...(instance
        ? {}
        : {
            disallowedOperations: [
              {
                type: { id: 'Provision' },
                reason: { message: 'Provision cannot be performed because there is no linked CDS instance or the CDS instance version is not supported.', type: 'CdsLink' },
              },
            ],
          }),
    },
    governanceConfiguration: { protectionLevel: 'Basic' },
  });
  if (options.capacity) {
    properties.capacity = ['Database', 'File', 'Log'].map((capacityType) => ({
      capacityType,
      actualConsumption: instance ? 512 : 0,
      ratedConsumption: instance ? 512 : 0,
      capacityUnit: 'MB',
      updatedOn: CREATED_TIME,
    }));
  }
  if (options.addons) {
    properties.addons = env.passForApps ? [{ addonType: 'AppPass', allocated: 10, addonUnit: 'Unit' }] : [];
  }
  return {
    id: `${PREFIX}/${env.id}`,
    type: 'Microsoft.BusinessAppPlatform/scopes/environments',
    location: 'europe',
    name: env.id,
    properties,
  };
}

const expands = (request: SimRequest, what: string) =>
  (request.url.searchParams.get('$expand') ?? '')
    .split(',')
    .map((s) => s.trim().replace('/', '.').toLowerCase())
    .includes(`properties.${what}`);

const holdsAdminRole = (ctx: SimContext, userId: string) =>
  ctx.state.graph.directoryRoles.some(
    (role) => [GLOBAL_ADMIN, POWER_PLATFORM_ADMIN, DYNAMICS_ADMIN].includes(role.roleTemplateId.toLowerCase()) && role.members.some((m) => same(m, userId)),
  );

/**
 * R5 (SPEC §8) and D5: whether `addUser` takes this user. The Power Platform admin API refuses
 * `userNotLicensed` while a freshly assigned licence propagates (`faults.powerplatform.licensePropagationMs`
 * after `assignLicense`) — microsoft/terraform-provider-power-platform retries `addUser` for 9 minutes
 * on that text: "the license assignment in Entra is async, so we need to wait for that to happen"
 * (internal/services/authorization/api_user.go, `CreateDataverseUser`; issue #859) — and always for
 * a user with no licence and no exemption of D4.2 (administrators, pass per app, a tenant
 * marketing licence). Any assigned licence counts here: the simulator does not model which plans a
 * SKU carries. A Developer environment adds only its creator (D5).
 * Unconfirmed (no source records them): the status 400, the message, and the Developer refusal's code.
 */
function admission(ctx: SimContext, env: FixtureEnvironment, user: FixtureUser): SimResponse | null {
  if (env.type === 'Developer' && !same(env.createdBy, user.id)) {
    return bapError(403, 'userNotEnvironmentOwner', `The environment '${env.id}' is a Developer environment: only its owner '${env.createdBy ?? 'unknown'}' can be added.`);
  }
  const exempt = holdsAdminRole(ctx, user.id) || env.passForApps || ctx.state.tenant.marketingTenantLicense;
  if (exempt) return null;
  const licensedAt = ctx.events.licensedAt.get(user.id.toLowerCase());
  const propagation = ctx.faults.behaviour(['powerplatform'], 'licensePropagationMs') ?? 0;
  const propagating = licensedAt !== undefined && Date.now() - licensedAt < propagation;
  if (user.assignedLicenses.length > 0 && !propagating) return null;
  return bapError(
    400,
    'userNotLicensed',
    `The user '${user.id}' does not have a valid license to access the environment '${env.id}'. Assign a license that includes Dataverse, or wait for a recently assigned license to take effect.`,
  );
}

export function createPowerPlatformHandler(ctx: SimContext): SimHandler {
  const pageSize = () => {
    const configured = (ctx.paging as Partial<Record<'powerPlatform', number>>).powerPlatform;
    return typeof configured === 'number' && configured > 0 ? configured : DEFAULT_PAGE_SIZE;
  };

  const notFound = (id: string) =>
    bapError(404, 'EnvironmentNotFound', `The environment '${id}' could not be found in the tenant '${ctx.state.tenant.id}'.`);

  const findEnvironment = (id: string) => ctx.state.environments.find((e) => same(e.id, id));

  const list = (request: SimRequest): SimResponse => {
    const size = pageSize();
    const token = request.url.searchParams.get('$skiptoken');
    let start = 0;
    if (token !== null) {
      const decoded = Number.parseInt(Buffer.from(token, 'base64url').toString('utf8'), 10);
      if (!Number.isInteger(decoded) || decoded < 0) return bapError(400, 'InvalidSkipToken', 'The skip token is not valid.');
      start = decoded;
    }
    const options = { addons: expands(request, 'addons'), capacity: expands(request, 'capacity') };
    const all = ctx.state.environments;
    const body: Record<string, unknown> = { value: all.slice(start, start + size).map((e) => toWire(ctx, e, options)) };
    if (start + size < all.length) {
      const query = [...request.url.searchParams.entries()]
        .filter(([name]) => name !== '$skiptoken')
        .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
      query.push(`$skiptoken=${Buffer.from(String(start + size), 'utf8').toString('base64url')}`);
      body.nextLink = `${ctx.urls.powerPlatform}${PREFIX}?${query.join('&')}`;
    }
    return json(200, body);
  };

  const isAdmin = (userId: string) =>
    ctx.state.graph.directoryRoles.some(
      (role) => [GLOBAL_ADMIN, POWER_PLATFORM_ADMIN].includes(role.roleTemplateId.toLowerCase()) && role.members.some((m) => same(m, userId)),
    );

  const addUser = (request: SimRequest, envId: string): SimResponse => {
    const env = findEnvironment(envId);
    if (!env) return notFound(envId);
    const objectId = (request.body as { objectId?: unknown } | undefined)?.objectId;
    if (typeof objectId !== 'string' || objectId.trim() === '') {
      return bapError(400, 'InvalidRequestBody', "The request body must carry the user's Entra object id as 'objectId'.");
    }
    if (!env.hasDataverse) {
      // D3 / E1: without a Dataverse database there is no systemuser table to add to.
      return bapError(
        400,
        'EnvironmentHasNoDatabase',
        `The environment '${env.id}' does not have a Dataverse database (linkedEnvironmentMetadata); users cannot be added to it.`,
      );
    }
    const user = ctx.state.graph.users.find((u) => same(u.id, objectId));
    if (!user) {
      return bapError(400, 'userNotFound', `The user '${objectId}' was not found in the tenant '${ctx.state.tenant.id}'.`);
    }
    if (!user.accountEnabled) {
      // D4.1: a disabled (or deleted) Entra account cannot be added or kept enabled.
      return bapError(400, 'userDisabled', `The user '${objectId}' is disabled in Microsoft Entra ID and cannot be added to the environment.`);
    }
    if (env.securityGroupId && !isAdmin(user.id)) {
      // D4.3 / E4: direct membership only (nested groups are ignored); an owner added on demand counts.
      const group = ctx.state.graph.groups.find((g) => same(g.id, env.securityGroupId));
      const direct = !!group && (group.members.some((m) => same(m, user.id)) || group.owners.some((o) => same(o, user.id)));
      if (!direct) {
        return bapError(
          403,
          'userNotInSecurityGroup',
          `The user '${objectId}' is not a member of the security group '${env.securityGroupId}' of the environment '${env.id}'.`,
        );
      }
    }
    const refusal = admission(ctx, env, user);
    if (refusal) return refusal;
    const existing = env.systemusers.find((s) => same(s.azureactivedirectoryobjectid, user.id));
    if (existing) {
      // A refresh: the P1 fields are synced again; full name and e-mail are not (P1), the row is enabled.
      Object.assign(existing, profileFromEntra(user), { isdisabled: false, islicensed: user.assignedLicenses.length > 0 });
    } else {
      const licensed = user.assignedLicenses.length > 0;
      const adminRole = holdsAdminRole(ctx, user.id);
      env.systemusers.push(
        syncedSystemUser(randomUUID(), user, {
          // A2: an administrator without a license becomes a setup user in Administrative mode.
          accessmode: adminRole && !licensed ? 1 : 0,
          internalemailaddress: typeof user.mail === 'string' ? user.mail : user.userPrincipalName,
        }),
      );
    }
    return json(200, undefined);
  };

  return (request) => {
    if (!request.path.startsWith(PREFIX)) {
      return bapError(404, 'ResourceNotFound', `The resource '${request.path}' was not found.`);
    }
    if (!request.url.searchParams.get('api-version')) {
      return bapError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    const rest = request.path.slice(PREFIX.length).split('/').filter(Boolean);
    if (rest.length === 0) {
      return request.method === 'GET' ? list(request) : bapError(405, 'MethodNotAllowed', `The method '${request.method}' is not allowed.`);
    }
    const [envId, action] = rest as [string, string | undefined];
    if (rest.length === 1) {
      if (request.method !== 'GET') return bapError(405, 'MethodNotAllowed', `The method '${request.method}' is not allowed.`);
      const env = findEnvironment(envId);
      if (!env) return notFound(envId);
      return json(200, toWire(ctx, env, { addons: true, capacity: expands(request, 'capacity') }));
    }
    if (rest.length === 2 && action === 'addUser') {
      if (request.method !== 'POST') return bapError(405, 'MethodNotAllowed', `The method '${request.method}' is not allowed.`);
      return addUser(request, envId);
    }
    return bapError(404, 'ResourceNotFound', `The resource '${request.path}' was not found.`);
  };
}
