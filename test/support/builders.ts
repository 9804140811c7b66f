import type { DirectoryUser, Environment, SystemUser, SystemUserProfile } from '../../lib/domain/model.js';
import type { RetryPolicy } from '../../lib/gateways/http/retry.js';
import type { Fixture } from '../../simulator/core/fixture.js';

/**
 * Builders for the records and ids tests need: the simulator's fixture (wire) records, re-exported
 * from `simulator/core/records.ts` (the demo tenant uses them too, and product code must never reach
 * into test/), the ids of `contoso.json`, whole fixtures, and the domain records of unit tests.
 * A builder fills what a test does not care about; every value a test asserts on it passes itself.
 */

export * from '../../simulator/core/records.js';
export { salesforceId, stableId } from '../../simulator/core/ids.js';

// ── contoso.json (SPEC §5): the ids the inline slices of it and the acceptance tests share ─────

export const CONTOSO = {
  tenant: '099f18cd-c2b1-4991-acf9-ec30677febac',
  domain: 'contoso.onmicrosoft.com',
  env: {
    sales: '05c07aab-d04c-4912-b11f-c5db1977e888',
    sandbox: '8c8840f8-64da-4af8-aa6e-23f464f0d94c',
    trial: '94c3de72-d8bc-44a4-964e-2c0c594ee80c',
    dev: '3c41fc82-b1b9-47fe-a1cc-37ac9f52f1c8',
    teams: '3ef6d99d-0fe2-4c9d-8f16-7b46154a9872',
    default: '79480165-9484-483b-9797-afbc60a77683',
  },
  group: {
    sales: '4c01cb6c-9077-4bd2-bd2a-28d43cd81fa5',
    contractors: '82b432e1-d6d8-49fd-9d7b-f7ef87c4c282',
    service: '9498f525-2d7e-4ed1-9a7b-426d179e08ba',
  },
  user: {
    alice: '7ff6c8e1-3e01-47ff-bf79-b744e56731b4',
    bob: '407ce6d6-39d6-4ec7-8107-3179e31e4183',
    carol: 'd6a5f814-831f-4963-8de2-bea031dccf2a',
    dave: '609496a9-8df7-4a3b-b1da-9f980951c2c2',
    erin: '2e40a3c0-2299-4b86-bc48-378028c5e224',
    adele: '428529bb-7843-47c3-b26e-f3d4d6a0e6ad',
    diego: '1a6affab-d697-48d7-9b53-9ff072d7def8',
    pradeep: 'c854dd67-7e0d-4ead-9aad-d1ebd3b883a8',
    nina: '21a2ac0c-cddc-4737-8d99-f2b0bdea589c',
  },
  /** Sales Prod's rows, business unit, roles and team. */
  salesProd: {
    row: { alice: 'ea31938e-c965-4715-b91f-214f9968faee', bob: 'cccefbef-d221-434e-9ee8-ca8cf2cac837' },
    rootBusinessUnit: 'a19f488f-979b-4f64-a6e3-10a43348a8a0',
    role: { admin: '4cce9ccf-a806-480b-bdd1-25cc2e8a9b3d', salesperson: '12c42388-8f52-4fcb-b4e6-8b571427bcfc', basic: '509e3992-1a80-4557-b36d-59a9b9902795' },
    team: 'e53cf032-2bf1-4a18-b58c-f03857bf4a67',
  },
  sku: { sales: 'ae511f35-fd10-4b3c-a995-b1aa70f7284a', powerApps: '03a3fe79-2134-4438-910c-1e7ac8a916de', e3: 'ee4d7c14-d298-43f2-95bb-360173d6a7e3' },
  salesforceOrg: '00D5g000004ABCDEAA',
} as const;

/** Retries that do not wait long: the simulator's `Retry-After` values are what the tests control. */
export function fastRetry(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { retries: 8, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 1500, ...overrides };
}

/** A whole fixture: an empty tenant of `domain` unless the parts say otherwise. */
export function fixtureOf(parts: { tenant?: Partial<Fixture['tenant']> } & Partial<Omit<Fixture, 'tenant' | 'graph'>> & { graph?: Partial<Fixture['graph']> } = {}): Fixture {
  const { tenant, graph, ...rest } = parts;
  return {
    tenant: { id: CONTOSO.tenant, defaultDomain: CONTOSO.domain, marketingTenantLicense: false, ...tenant },
    settings: {},
    graph: { subscribedSkus: [], users: [], groups: [], directoryRoles: [], ...graph },
    environments: [],
    salesforceOrgs: [],
    ...rest,
  };
}

/** The Milano office (`OFFICE.milano`) in the P1 columns of Dataverse, written out: what a synced row must hold. */
export const MILANO_CONTACT_COLUMNS = {
  address1_telephone1: '+39 02 555 0100',
  address1_line1: 'Via Roma 1',
  address1_city: 'Milano',
  address1_stateorprovince: 'MI',
  address1_country: 'Italy',
} as const;

// ── Domain records (what the gateways hand the rules) ────────────────────────────────────────

/** A member account, enabled, without licenses, nothing else known. */
export function directoryUser(partial: Partial<DirectoryUser> & { id: string; userPrincipalName: string }): DirectoryUser {
  return {
    displayName: null,
    givenName: null,
    surname: null,
    jobTitle: null,
    mail: null,
    mobilePhone: null,
    businessPhones: [],
    streetAddress: null,
    city: null,
    state: null,
    country: null,
    usageLocation: 'IT',
    accountEnabled: true,
    userType: 'Member',
    assignedSkuIds: [],
    onPremisesSyncEnabled: false,
    createdDateTime: null,
    signInActivity: null,
    licenseErrors: [],
    ...partial,
  };
}

export const EMPTY_PROFILE: SystemUserProfile = {
  domainname: null,
  firstname: null,
  lastname: null,
  title: null,
  address1_telephone1: null,
  mobilephone: null,
  address1_line1: null,
  address1_city: null,
  address1_stateorprovince: null,
  address1_country: null,
};

/** An enabled, licensed, read-write row without roles or profile. */
export function systemUser(partial: Partial<SystemUser> & { id: string }): SystemUser {
  return {
    domainName: null,
    entraObjectId: null,
    applicationId: null,
    accessMode: 0,
    isDisabled: false,
    isLicensed: true,
    fullName: null,
    businessUnitId: null,
    profile: { ...EMPTY_PROFILE },
    roleIds: [],
    ...partial,
  };
}

/** A Production environment with Dataverse, no security group. */
export function environment(partial: Partial<Environment> & { id: string }): Environment {
  return {
    displayName: partial.id,
    type: 'Production',
    hasDataverse: true,
    instanceUrl: `https://${partial.id}.crm.dynamics.com`,
    securityGroupId: null,
    passForApps: false,
    createdBy: null,
    ...partial,
  };
}
