import type { Fixture } from './fixture.js';

/**
 * A small Entra tenant for the Graph simulator and gateway tests, in the fixture format of SPEC §5:
 * a guest with `#EXT#` and an apostrophe, a user with an apostrophe, a user without usage location,
 * a synced user, a security group with a nested group and an owner, and the three admin roles.
 */
export const GRAPH_IDS = {
  tenant: '5d1c2c5e-7f64-4c3b-9a51-2b0f5f6f0a01',
  alice: '7ff6c8e1-3e01-47ff-bf79-b744e56731b4',
  bob: '407ce6d6-39d6-4ec7-8107-3179e31e4183',
  obrien: '1f0e4a52-6a55-4d59-9a7b-0d8a6b1c2d3e',
  guest: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  noLocation: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  synced: '6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910',
  envGroup: '4c01cb6c-9077-4bd2-bd2a-28d43cd81fa5',
  nestedGroup: '82b432e1-d6d8-49fd-9d7b-f7ef87c4c282',
  otherGroup: '9498f525-2d7e-4ed1-9a7b-426d179e08ba',
  salesSku: 'ae511f35-fd10-4b3c-a995-b1aa70f7284a',
  e3Sku: 'ee4d7c14-d298-43f2-95bb-360173d6a7e3',
  globalAdmin: '62e90394-69f5-4237-9190-012177145e10',
  powerPlatformAdmin: '11648597-926c-4cf3-9c36-bcebb0ba8dcc',
  dynamicsAdmin: '44367163-eba1-44c3-98af-f5787879f96a',
} as const;

export const GUEST_UPN = "john.o'smith_tailspintoys.com#EXT#@contoso.onmicrosoft.com";
export const OBRIEN_UPN = "o'brien@contoso.com";

function user(id: string, userPrincipalName: string, extra: Record<string, unknown> = {}) {
  const local = userPrincipalName.split('@')[0]!;
  return {
    id,
    userPrincipalName,
    displayName: local,
    givenName: local,
    surname: 'Test',
    jobTitle: 'Account Executive',
    mail: userPrincipalName.includes('#EXT#') ? 'john.osmith@tailspintoys.com' : userPrincipalName,
    mobilePhone: null,
    businessPhones: ['+39 02 555 0100'],
    streetAddress: 'Via Roma 1',
    city: 'Milano',
    state: 'MI',
    country: 'Italy',
    usageLocation: 'IT',
    accountEnabled: true,
    userType: 'Member',
    assignedLicenses: [] as { skuId: string; disabledPlans: string[] }[],
    ...extra,
  };
}

export function graphTenant(extra: Partial<Pick<Fixture, 'faults'>> = {}): Fixture {
  const ids = GRAPH_IDS;
  return {
    tenant: { id: ids.tenant, defaultDomain: 'contoso.onmicrosoft.com', marketingTenantLicense: false },
    settings: {},
    graph: {
      subscribedSkus: [
        { skuId: ids.salesSku, skuPartNumber: 'DYN365_ENTERPRISE_SALES', capabilityStatus: 'Enabled', consumedUnits: 2, prepaidUnits: { enabled: 5, suspended: 0, warning: 0 } },
        // Every unit in use: a new assignment is refused.
        { skuId: ids.e3Sku, skuPartNumber: 'SPE_E3', capabilityStatus: 'Enabled', consumedUnits: 1, prepaidUnits: { enabled: 1, suspended: 0, warning: 0 } },
      ],
      users: [
        user(ids.alice, 'alice@contoso.onmicrosoft.com', { assignedLicenses: [{ skuId: ids.salesSku, disabledPlans: [] }] }),
        user(ids.bob, 'bob@contoso.onmicrosoft.com', { assignedLicenses: [{ skuId: ids.e3Sku, disabledPlans: [] }] }),
        user(ids.obrien, OBRIEN_UPN, { assignedLicenses: [{ skuId: ids.salesSku, disabledPlans: [] }] }),
        user(ids.guest, GUEST_UPN, { userType: 'Guest' }),
        user(ids.noLocation, 'nolocation@contoso.onmicrosoft.com', { usageLocation: null }),
        user(ids.synced, 'synced@contoso.onmicrosoft.com', { onPremisesSyncEnabled: true }),
      ],
      groups: [
        { id: ids.envGroup, displayName: 'ENV-Sales-Prod', securityEnabled: true, members: [ids.alice, ids.nestedGroup], owners: [ids.bob] },
        { id: ids.nestedGroup, displayName: 'Sales Contractors', securityEnabled: true, members: [ids.obrien], owners: [] },
        { id: ids.otherGroup, displayName: 'ENV-Service-Sandbox', securityEnabled: true, members: [ids.alice, ids.guest], owners: [] },
      ],
      directoryRoles: [
        { roleTemplateId: ids.globalAdmin, displayName: 'Global Administrator', members: [ids.alice] },
        { roleTemplateId: ids.powerPlatformAdmin, displayName: 'Power Platform Administrator', members: [ids.bob] },
        { roleTemplateId: ids.dynamicsAdmin, displayName: 'Dynamics 365 Administrator', members: [] },
      ],
    },
    environments: [],
    salesforceOrgs: [],
    ...extra,
  };
}
