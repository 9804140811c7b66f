import type { Fixture, FixtureEnvironment, FixtureSalesforceOrg, FixtureSystemUser, FixtureUser } from './fixture.js';
import { stableId } from './ids.js';

/**
 * Builders of fixture records (SPEC §5) in the real APIs' property names, shared by the simulator,
 * the generated tenant, the demo tenant (`fixtures/`) and the tests (`test/support/builders.ts`
 * re-exports and extends them). Product code never imports this file; the CLI's demo does.
 */

type Json = Record<string, unknown>;

// ── ids ──────────────────────────────────────────────────────────────────────────────────────

/** Stable ids of one fixture's records, derived from names (the same names give the same ids). */
export function stableIds(namespace: string) {
  return {
    user: (name: string) => stableId(namespace, 'user', name),
    env: (name: string) => stableId(namespace, 'env', name),
    group: (name: string) => stableId(namespace, 'group', name),
    row: (env: string, name: string) => stableId(namespace, 'row', env, name),
    role: (env: string, name: string) => stableId(namespace, 'role', env, name),
  };
}

/** Directory role template ids (SPEC §5). */
export const ROLE_TEMPLATE = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  powerPlatformAdministrator: '11648597-926c-4cf3-9c36-bcebb0ba8dcc',
  dynamics365Administrator: '44367163-eba1-44c3-98af-f5787879f96a',
} as const;
export type AdminRoleName = keyof typeof ROLE_TEMPLATE;

const ROLE_DISPLAY_NAME: Record<AdminRoleName, string> = {
  globalAdministrator: 'Global Administrator',
  powerPlatformAdministrator: 'Power Platform Administrator',
  dynamics365Administrator: 'Dynamics 365 Administrator',
};

// ── Graph ────────────────────────────────────────────────────────────────────────────────────

/** Where a user works: the Graph properties of an office (the same names in the domain's `DirectoryUser`). */
export type Office = { businessPhones: string[] } & Record<'streetAddress' | 'city' | 'state' | 'country' | 'usageLocation', string | null>;

export const OFFICE = {
  milano: { businessPhones: ['+39 02 555 0100'], streetAddress: 'Via Roma 1', city: 'Milano', state: 'MI', country: 'Italy', usageLocation: 'IT' },
  redmond: { businessPhones: ['+1 425 555 0100'], streetAddress: '1 Microsoft Way', city: 'Redmond', state: 'WA', country: 'United States', usageLocation: 'US' },
} satisfies Record<string, Office>;

export interface EntraUserSpec {
  id: string;
  userPrincipalName: string;
  givenName: string | null;
  surname: string | null;
  /** Default: given name and surname. */
  displayName?: string | null;
  /** Default: Account Executive. */
  jobTitle?: string | null;
  /** Default: the user principal name. */
  mail?: string | null;
  mobilePhone?: string | null;
  /** Default: Milano. */
  office?: Office;
  accountEnabled?: boolean;
  userType?: string;
  skuIds?: string[];
}

/** A Graph user record; `extra` adds or overrides properties (`onPremisesSyncEnabled`, `usageLocation: null`…). */
export function entraUser(spec: EntraUserSpec, extra: Json = {}): FixtureUser {
  return {
    id: spec.id,
    userPrincipalName: spec.userPrincipalName,
    displayName: spec.displayName === undefined ? `${spec.givenName} ${spec.surname}` : spec.displayName,
    givenName: spec.givenName,
    surname: spec.surname,
    jobTitle: spec.jobTitle === undefined ? 'Account Executive' : spec.jobTitle,
    mail: spec.mail === undefined ? spec.userPrincipalName : spec.mail,
    mobilePhone: spec.mobilePhone ?? null,
    ...structuredClone(spec.office ?? OFFICE.milano),
    accountEnabled: spec.accountEnabled ?? true,
    userType: spec.userType ?? 'Member',
    assignedLicenses: (spec.skuIds ?? []).map((skuId) => ({ skuId, disabledPlans: [] })),
    ...extra,
  };
}

export function subscribedSku(
  skuId: string,
  skuPartNumber: string,
  units: { consumed: number; enabled: number; suspended?: number; status?: string },
): Fixture['graph']['subscribedSkus'][number] {
  return {
    skuId,
    skuPartNumber,
    capabilityStatus: units.status ?? 'Enabled',
    consumedUnits: units.consumed,
    prepaidUnits: { enabled: units.enabled, suspended: units.suspended ?? 0, warning: 0 },
  };
}

export function directoryRole(role: AdminRoleName, members: string[]): Fixture['graph']['directoryRoles'][number] {
  return { roleTemplateId: ROLE_TEMPLATE[role], displayName: ROLE_DISPLAY_NAME[role], members };
}

/** The three admin roles Steward reads (A2, D4.2 i, D4.3), with their members. */
export function adminRoles(members: Partial<Record<AdminRoleName, string[]>> = {}): Fixture['graph']['directoryRoles'] {
  return (Object.keys(ROLE_TEMPLATE) as AdminRoleName[]).map((role) => directoryRole(role, members[role] ?? []));
}

// ── Dataverse ────────────────────────────────────────────────────────────────────────────────

/** The contact columns of a systemuser's P1 profile, empty (an account no directory sync fills). */
export const EMPTY_CONTACT = {
  mobilephone: null,
  address1_telephone1: null,
  address1_line1: null,
  address1_city: null,
  address1_stateorprovince: null,
  address1_country: null,
} as const;

const text = (value: unknown) => (typeof value === 'string' ? value : null);

/** P1: the profile fields the sync copies from Entra to Dataverse (SPEC §1). */
export function profileFromEntra(user: FixtureUser): Partial<FixtureSystemUser> {
  const phones = Array.isArray(user.businessPhones) ? (user.businessPhones as unknown[]) : [];
  return {
    domainname: user.userPrincipalName,
    firstname: text(user.givenName),
    lastname: text(user.surname),
    title: text(user.jobTitle),
    address1_telephone1: text(phones[0]),
    mobilephone: text(user.mobilePhone),
    address1_line1: text(user.streetAddress),
    address1_city: text(user.city),
    address1_stateorprovince: text(user.state),
    address1_country: text(user.country),
    azureactivedirectoryobjectid: user.id,
  };
}

/**
 * A systemuser as the directory sync writes it for an Entra user (D1, P1): enabled, read-write,
 * licensed when the user holds a license, its profile copied; `fields` adds or overrides columns.
 */
export function syncedSystemUser(systemuserid: string, user: FixtureUser, fields: Json = {}): FixtureSystemUser {
  return {
    systemuserid,
    applicationid: null,
    accessmode: 0,
    isdisabled: false,
    islicensed: user.assignedLicenses.length > 0,
    ...profileFromEntra(user),
    fullname: text(user.displayName),
    internalemailaddress: text(user.mail),
    roles: [],
    ...fields,
  };
}

/** T2: an application user as Dataverse creates it: non-interactive (4), unlicensed, first name `#`. */
export function applicationUserRecord(r: {
  systemuserid: string;
  applicationid: string;
  azureactivedirectoryobjectid: string;
  domainname: string;
  lastname: string;
  internalemailaddress: string;
}): FixtureSystemUser {
  return {
    systemuserid: r.systemuserid,
    domainname: r.domainname,
    azureactivedirectoryobjectid: r.azureactivedirectoryobjectid,
    applicationid: r.applicationid,
    accessmode: 4,
    isdisabled: false,
    islicensed: false,
    firstname: '#',
    lastname: r.lastname,
    fullname: `# ${r.lastname}`,
    title: null,
    internalemailaddress: r.internalemailaddress,
    ...EMPTY_CONTACT,
    roles: [],
  };
}

/** The three security roles every environment of the example tenants has, ids from their names. */
export function standardRoles(roleId: (name: string) => string): FixtureEnvironment['roles'] {
  return ['System Administrator', 'Salesperson', 'Basic User'].map((name) => ({ roleid: roleId(name), name }));
}

/** An environment with a Dataverse database, no security group, nothing in it unless `fields` says. */
export function environmentRecord(
  fields: Pick<FixtureEnvironment, 'id' | 'displayName' | 'type'> & Partial<FixtureEnvironment>,
): FixtureEnvironment {
  return {
    hasDataverse: true,
    securityGroupId: null,
    passForApps: false,
    createdBy: null,
    orgSettings: { AllowRoleAssignmentOnDisabledUsers: false },
    businessunits: [],
    roles: [],
    teams: [],
    systemusers: [],
    ...fields,
  };
}

// ── Salesforce ───────────────────────────────────────────────────────────────────────────────

type SalesforceRecords = Omit<FixtureSalesforceOrg, 'id' | 'name'>;

/** A `UserLicense` row: the standard Salesforce license, or the Salesforce Integration license (S2). */
export function salesforceLicense(Id: string, kind: 'standard' | 'integration', TotalLicenses: number, UsedLicenses: number) {
  const [Name, LicenseDefinitionKey] = kind === 'standard' ? ['Salesforce', 'SFDC'] : ['Salesforce Integration', 'SFDC_INTEGRATION'];
  return { Id, Name, MasterLabel: Name, LicenseDefinitionKey, Status: 'Active', TotalLicenses, UsedLicenses };
}

export function salesforceUser(Id: string, Username: string, IsActive: boolean, ProfileId: string) {
  return { Id, Username, IsActive, ProfileId, UserType: 'Standard' };
}

/** The `Salesforce API Integration` permission set license the integration user needs (S2). */
export function apiIntegrationPsl(Id: string, TotalLicenses: number, UsedLicenses: number) {
  return { Id, DeveloperName: 'SalesforceAPIIntegrationPsl', MasterLabel: 'Salesforce API Integration', TotalLicenses, UsedLicenses };
}

/** A Salesforce org; lists it does not give are empty. */
export function salesforceOrgRecord(id: string, name: string, records: Partial<SalesforceRecords> = {}): FixtureSalesforceOrg {
  return {
    id,
    name,
    userLicenses: [],
    users: [],
    profiles: [],
    permissionSets: [],
    permissionSetAssignments: [],
    permissionSetLicenses: [],
    permissionSetLicenseAssignments: [],
    connectedApplications: [],
    ...records,
  };
}
