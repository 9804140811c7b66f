import type { Fixture, FixtureEnvironment, FixtureSalesforceOrg, FixtureUser } from './fixture.js';
import { salesforceId, stableId } from './ids.js';
import { adminRoles, apiIntegrationPsl, entraUser, environmentRecord, salesforceLicense, salesforceOrgRecord, salesforceUser, standardRoles, subscribedSku, syncedSystemUser } from './records.js';

export { salesforceId, stableId } from './ids.js';

export interface TenantShape {
  users: number;
  environments: number;
  systemusersPerEnvironment: number;
  salesforceOrgs: number;
  salesforceUsersPerOrg?: number;
  seed?: string;
}

const SALES_SKU = 'ae511f35-fd10-4b3c-a995-b1aa70f7284a';
const E3_SKU = 'ee4d7c14-d298-43f2-95bb-360173d6a7e3';
const DOMAIN = 'generated.onmicrosoft.com';

// A reasonably kept large tenant: about 1–2% of accounts and rows carry a problem.

function generatedUser(seed: string, i: number): FixtureUser {
  const licensed = i % 250 !== 249;
  return entraUser({
    id: stableId(seed, 'user', i),
    userPrincipalName: `user${i}@${DOMAIN}`,
    displayName: `User ${i}`,
    givenName: 'User',
    surname: String(i),
    jobTitle: i % 7 === 0 ? 'Account Executive' : 'Sales Rep',
    accountEnabled: i % 500 !== 499,
    skuIds: licensed ? [i % 3 === 0 ? E3_SKU : SALES_SKU] : [],
  });
}

/** Environment `e` and its security group, whose direct members are its systemusers' Entra users. */
function generatedEnvironment(seed: string, e: number, users: FixtureUser[], shape: TenantShape): { environment: FixtureEnvironment; group: Fixture['graph']['groups'][number] } {
  const envId = stableId(seed, 'env', e);
  const groupId = stableId(seed, 'group', e);
  const roles = standardRoles((name) => stableId(seed, envId, name));
  const members: string[] = [];
  const systemusers: FixtureEnvironment['systemusers'] = [];
  for (let s = 0; s < shape.systemusersPerEnvironment; s++) {
    const user = users[(e * 997 + s) % Math.max(1, users.length)];
    if (!user) break;
    if (s % 400 !== 17) members.push(user.id);
    systemusers.push(
      syncedSystemUser(stableId(seed, envId, 'su', s), user, {
        accessmode: s % 1000 === 7 ? 4 : 0,
        isdisabled: s % 100 === 42,
        title: s % 300 === 3 ? 'Former title' : (user.jobTitle as string),
        roles: s % 400 === 5 ? [] : [roles[1]!.roleid],
      }),
    );
  }
  const environment = environmentRecord({
    id: envId,
    displayName: `Environment ${e}`,
    type: e % 5 === 4 ? 'Sandbox' : 'Production',
    securityGroupId: groupId,
    businessunits: [{ businessunitid: stableId(seed, envId, 'bu'), name: `org${e}`, parentbusinessunitid: null }],
    roles,
    systemusers,
  });
  return { environment, group: { id: groupId, displayName: `ENV-${e}`, securityEnabled: true, members, owners: [] } };
}

/** Org `o`: reps, and an active Copilot for Sales integration user with its profile, license and app. */
function generatedOrg(seed: string, o: number, shape: TenantShape): FixtureSalesforceOrg {
  const orgId = salesforceId('00D', seed, 'org', o);
  const id = (prefix: string, part: string | number) => salesforceId(prefix, orgId, part);
  const users = Array.from({ length: shape.salesforceUsersPerOrg ?? 50 }, (_, u) => salesforceUser(id('005', u), `rep${u}@org${o}.sf`, true, id('00e', 'std')));
  const integrationUserId = id('005', 'integration');
  users.push(salesforceUser(integrationUserId, `copilotforsalesintegrationuser@org${o}.sf`, true, id('00e', 'cop')));
  return salesforceOrgRecord(orgId, `Org ${o}`, {
    userLicenses: [salesforceLicense(id('100', 'std'), 'standard', 100000, users.length), salesforceLicense(id('100', 'int'), 'integration', 5, 1)],
    users,
    profiles: [{ Id: id('00e', 'cop'), Name: 'Copilot For Sales Integration Profile', UserLicenseId: id('100', 'int') }],
    permissionSets: [{ Id: id('0PS', 'cop'), Name: 'CopilotForSalesPermissionSet', Label: 'Copilot for Sales' }],
    permissionSetLicenses: [apiIntegrationPsl(id('0PL', 'api'), 5, 1)],
    permissionSetLicenseAssignments: [{ Id: id('2LA', 'api'), AssigneeId: integrationUserId, PermissionSetLicenseId: id('0PL', 'api') }],
    connectedApplications: [{ Id: id('0H4', 'cop'), Name: 'Copilot for Sales Connected App' }],
  });
}

/**
 * Generates a large tenant for paging tests and the benchmark. Deterministic: the same shape gives
 * the same fixture. Users are spread over the environments; each environment has a security group
 * whose direct members are its systemusers' Entra users.
 */
export function generateTenant(shape: TenantShape): Fixture {
  const seed = shape.seed ?? 'steward';
  const users = Array.from({ length: shape.users }, (_, i) => generatedUser(seed, i));
  const generated = Array.from({ length: shape.environments }, (_, e) => generatedEnvironment(seed, e, users, shape));
  const units = { consumed: users.length, enabled: shape.users * 2 };
  return {
    tenant: { id: stableId(seed, 'tenant'), defaultDomain: DOMAIN, marketingTenantLicense: false },
    settings: {},
    graph: {
      subscribedSkus: [subscribedSku(SALES_SKU, 'DYN365_ENTERPRISE_SALES', units), subscribedSku(E3_SKU, 'SPE_E3', units)],
      users,
      groups: generated.map((g) => g.group),
      directoryRoles: adminRoles({ globalAdministrator: users.slice(0, 1).map((u) => u.id) }),
    },
    environments: generated.map((g) => g.environment),
    salesforceOrgs: Array.from({ length: shape.salesforceOrgs }, (_, o) => generatedOrg(seed, o, shape)),
  };
}

/**
 * A night of changes in a generated tenant (the bench's `--incremental`): every `1 / share`-th user
 * is disabled or enabled again, and as many systemusers of each environment are disabled or
 * enabled. Deterministic; returns how many records changed.
 */
export function changeNight(state: Fixture, share: number): { users: number; systemusers: number } {
  const step = Math.max(1, Math.round(1 / share));
  let users = 0;
  let systemusers = 0;
  state.graph.users.forEach((user, i) => {
    if (i % step !== step - 1) return;
    user.accountEnabled = !user.accountEnabled;
    users++;
  });
  for (const environment of state.environments) {
    environment.systemusers.forEach((row, i) => {
      if (i % step !== step - 2) return;
      row.isdisabled = !row.isdisabled;
      systemusers++;
    });
  }
  return { users, systemusers };
}
