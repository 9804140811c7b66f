import { createHash } from 'node:crypto';
import type { Fixture } from './fixture.js';

export interface TenantShape {
  users: number;
  environments: number;
  systemusersPerEnvironment: number;
  salesforceOrgs: number;
  salesforceUsersPerOrg?: number;
  seed?: string;
}

/** A stable, UUID-shaped id from a name (the same name gives the same id in every run). */
export function stableId(...parts: (string | number)[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An 18-character Salesforce-looking id with the given 3-character key prefix. */
export function salesforceId(prefix: string, ...parts: (string | number)[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex').toUpperCase();
  return `${prefix}${h.slice(0, 15)}`;
}

const SALES_SKU = 'ae511f35-fd10-4b3c-a995-b1aa70f7284a';
const E3_SKU = 'ee4d7c14-d298-43f2-95bb-360173d6a7e3';

/**
 * Generates a large tenant for paging tests and the benchmark. Deterministic: the same shape gives
 * the same fixture. Users are spread over the environments; each environment has a security group
 * whose direct members are its systemusers' Entra users.
 */
export function generateTenant(shape: TenantShape): Fixture {
  const seed = shape.seed ?? 'steward';
  const tenantId = stableId(seed, 'tenant');
  const domain = 'generated.onmicrosoft.com';
  const users: Fixture['graph']['users'] = [];
  for (let i = 0; i < shape.users; i++) {
    // A reasonably kept large tenant: about 1–2% of accounts and rows carry a problem.
    const licensed = i % 250 !== 249;
    users.push({
      id: stableId(seed, 'user', i),
      userPrincipalName: `user${i}@${domain}`,
      displayName: `User ${i}`,
      givenName: 'User',
      surname: String(i),
      jobTitle: i % 7 === 0 ? 'Account Executive' : 'Sales Rep',
      mail: `user${i}@${domain}`,
      mobilePhone: null,
      businessPhones: ['+39 02 555 0100'],
      streetAddress: 'Via Roma 1',
      city: 'Milano',
      state: 'MI',
      country: 'Italy',
      usageLocation: 'IT',
      accountEnabled: i % 500 !== 499,
      userType: 'Member',
      assignedLicenses: licensed ? [{ skuId: i % 3 === 0 ? E3_SKU : SALES_SKU, disabledPlans: [] }] : [],
    });
  }
  const environments: Fixture['environments'] = [];
  const groups: Fixture['graph']['groups'] = [];
  for (let e = 0; e < shape.environments; e++) {
    const envId = stableId(seed, 'env', e);
    const groupId = stableId(seed, 'group', e);
    const roleIds = ['System Administrator', 'Salesperson', 'Basic User'].map((name) => ({ roleid: stableId(seed, envId, name), name }));
    const members: string[] = [];
    const systemusers: Fixture['environments'][number]['systemusers'] = [];
    for (let s = 0; s < shape.systemusersPerEnvironment; s++) {
      const user = users[(e * 997 + s) % Math.max(1, users.length)];
      if (!user) break;
      if (s % 400 !== 17) members.push(user.id);
      systemusers.push({
        systemuserid: stableId(seed, envId, 'su', s),
        domainname: user.userPrincipalName,
        azureactivedirectoryobjectid: user.id,
        applicationid: null,
        accessmode: s % 1000 === 7 ? 4 : 0,
        isdisabled: s % 100 === 42,
        islicensed: user.assignedLicenses.length > 0,
        firstname: user.givenName as string,
        lastname: user.surname as string,
        fullname: user.displayName as string,
        title: s % 300 === 3 ? 'Former title' : (user.jobTitle as string),
        internalemailaddress: user.mail as string,
        mobilephone: null,
        address1_telephone1: '+39 02 555 0100',
        address1_line1: 'Via Roma 1',
        address1_city: 'Milano',
        address1_stateorprovince: 'MI',
        address1_country: 'Italy',
        roles: s % 400 === 5 ? [] : [roleIds[1]!.roleid],
      });
    }
    groups.push({ id: groupId, displayName: `ENV-${e}`, securityEnabled: true, members, owners: [] });
    environments.push({
      id: envId,
      displayName: `Environment ${e}`,
      type: e % 5 === 4 ? 'Sandbox' : 'Production',
      hasDataverse: true,
      securityGroupId: groupId,
      passForApps: false,
      createdBy: null,
      orgSettings: { AllowRoleAssignmentOnDisabledUsers: false },
      businessunits: [{ businessunitid: stableId(seed, envId, 'bu'), name: `org${e}`, parentbusinessunitid: null }],
      roles: roleIds,
      teams: [],
      systemusers,
    });
  }
  const salesforceOrgs: Fixture['salesforceOrgs'] = [];
  for (let o = 0; o < shape.salesforceOrgs; o++) {
    const orgId = salesforceId('00D', seed, 'org', o);
    const sfUsers: Fixture['salesforceOrgs'][number]['users'] = [];
    for (let u = 0; u < (shape.salesforceUsersPerOrg ?? 50); u++) {
      sfUsers.push({ Id: salesforceId('005', orgId, u), Username: `rep${u}@org${o}.sf`, IsActive: true, ProfileId: salesforceId('00e', orgId, 'std'), UserType: 'Standard' });
    }
    const integrationUserId = salesforceId('005', orgId, 'integration');
    sfUsers.push({ Id: integrationUserId, Username: `copilotforsalesintegrationuser@org${o}.sf`, IsActive: true, ProfileId: salesforceId('00e', orgId, 'cop'), UserType: 'Standard' });
    salesforceOrgs.push({
      id: orgId,
      name: `Org ${o}`,
      userLicenses: [
        { Id: salesforceId('100', orgId, 'std'), Name: 'Salesforce', MasterLabel: 'Salesforce', LicenseDefinitionKey: 'SFDC', Status: 'Active', TotalLicenses: 100000, UsedLicenses: sfUsers.length },
        { Id: salesforceId('100', orgId, 'int'), Name: 'Salesforce Integration', MasterLabel: 'Salesforce Integration', LicenseDefinitionKey: 'SFDC_INTEGRATION', Status: 'Active', TotalLicenses: 5, UsedLicenses: 1 },
      ],
      users: sfUsers,
      profiles: [{ Id: salesforceId('00e', orgId, 'cop'), Name: 'Copilot For Sales Integration Profile', UserLicenseId: salesforceId('100', orgId, 'int') }],
      permissionSets: [{ Id: salesforceId('0PS', orgId, 'cop'), Name: 'CopilotForSalesPermissionSet', Label: 'Copilot for Sales' }],
      permissionSetAssignments: [],
      permissionSetLicenses: [{ Id: salesforceId('0PL', orgId, 'api'), DeveloperName: 'SalesforceAPIIntegrationPsl', MasterLabel: 'Salesforce API Integration', TotalLicenses: 5, UsedLicenses: 1 }],
      permissionSetLicenseAssignments: [{ Id: salesforceId('2LA', orgId, 'api'), AssigneeId: integrationUserId, PermissionSetLicenseId: salesforceId('0PL', orgId, 'api') }],
      connectedApplications: [{ Id: salesforceId('0H4', orgId, 'cop'), Name: 'Copilot for Sales Connected App' }],
    });
  }
  return {
    tenant: { id: tenantId, defaultDomain: domain, marketingTenantLicense: false },
    settings: {},
    graph: {
      subscribedSkus: [
        { skuId: SALES_SKU, skuPartNumber: 'DYN365_ENTERPRISE_SALES', capabilityStatus: 'Enabled', consumedUnits: users.length, prepaidUnits: { enabled: shape.users * 2, suspended: 0, warning: 0 } },
        { skuId: E3_SKU, skuPartNumber: 'SPE_E3', capabilityStatus: 'Enabled', consumedUnits: users.length, prepaidUnits: { enabled: shape.users * 2, suspended: 0, warning: 0 } },
      ],
      users,
      groups,
      directoryRoles: [
        { roleTemplateId: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', members: users.slice(0, 1).map((u) => u.id) },
        { roleTemplateId: '11648597-926c-4cf3-9c36-bcebb0ba8dcc', displayName: 'Power Platform Administrator', members: [] },
        { roleTemplateId: '44367163-eba1-44c3-98af-f5787879f96a', displayName: 'Dynamics 365 Administrator', members: [] },
      ],
    },
    environments,
    salesforceOrgs,
  };
}
