import type {
  AdminRole,
  BusinessUnit,
  DataverseTeam,
  DirectoryUser,
  SalesforceAssignment,
  SalesforceConnectedApp,
  SalesforcePermissionSet,
  SalesforcePermissionSetLicense,
  SalesforceProfile,
  SalesforceUser,
  SalesforceUserLicense,
  SecurityGroup,
  SecurityRole,
  SubscribedSku,
  SystemUser,
} from '../domain/model.js';
import { ADMIN_ROLE_TEMPLATE_IDS } from '../domain/model.js';
import type { EnvironmentSnapshot, SalesforceOrgRead, TenantSnapshot } from './read-tenant.js';

/**
 * A tenant snapshot written as a fixture in the SPEC §5 format: the real APIs' property names, one
 * conversion per record kind (domain → fixture), so a field the gateways learn to read is written
 * by adding it to one function. Product code, so it does not import the simulator's schema; the
 * tests load what it writes with the simulator's parser.
 */

export type FixtureRecord = Record<string, unknown>;

export interface SnapshotFixture {
  tenant: { id: string; defaultDomain: string; marketingTenantLicense: boolean };
  settings: { environmentLicenseSkus: string[]; nonInteractiveWarnAt: number; salesforceIntegrationLicenseWarnAt: number };
  graph: { subscribedSkus: FixtureRecord[]; users: FixtureRecord[]; groups: FixtureRecord[]; directoryRoles: FixtureRecord[] };
  environments: FixtureRecord[];
  salesforceOrgs: FixtureRecord[];
}

/** The Steward settings that change what the audit finds (SPEC §5 `settings`). */
export interface SnapshotSettings {
  environmentLicenseSkus: string[];
  nonInteractiveWarnAt: number;
  salesforceIntegrationLicenseWarnAt: number;
}

const ADMIN_ROLE_NAMES: Record<AdminRole, string> = {
  globalAdministrator: 'Global Administrator',
  powerPlatformAdministrator: 'Power Platform Administrator',
  dynamics365Administrator: 'Dynamics 365 Administrator',
};

export function toFixture(snapshot: TenantSnapshot, settings: SnapshotSettings): SnapshotFixture {
  return {
    tenant: { id: snapshot.tenantId, defaultDomain: defaultDomainOf(snapshot.users), marketingTenantLicense: false },
    settings: {
      environmentLicenseSkus: [...settings.environmentLicenseSkus],
      nonInteractiveWarnAt: settings.nonInteractiveWarnAt,
      salesforceIntegrationLicenseWarnAt: settings.salesforceIntegrationLicenseWarnAt,
    },
    graph: {
      subscribedSkus: snapshot.skus.map(skuRecord),
      users: snapshot.users.map(userRecord),
      groups: snapshot.groups.map(groupRecord),
      directoryRoles: (Object.keys(ADMIN_ROLE_TEMPLATE_IDS) as AdminRole[]).map((role) => directoryRoleRecord(role, snapshot.adminRoles[role])),
    },
    environments: snapshot.environments.map(environmentRecord),
    salesforceOrgs: snapshot.salesforceOrgs.map(salesforceOrgRecord),
  };
}

/**
 * Graph's `/organization` is not read by Steward; the domain most users sign in with stands in for
 * the default domain (the simulator uses it for new users' UPNs only).
 */
function defaultDomainOf(users: readonly DirectoryUser[]): string {
  const counts = new Map<string, number>();
  for (const user of users) {
    if (user.userPrincipalName.includes('#EXT#')) continue;
    const domain = user.userPrincipalName.split('@')[1]?.toLowerCase();
    if (domain) counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'example.onmicrosoft.com';
}

// ── Graph ────────────────────────────────────────────────────────────────────────────────────

/** `enabledUnits` is all Steward keeps of `prepaidUnits`. */
export function skuRecord(sku: SubscribedSku): FixtureRecord {
  return {
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    capabilityStatus: sku.capabilityStatus,
    consumedUnits: sku.consumedUnits,
    prepaidUnits: { enabled: sku.enabledUnits, suspended: 0, warning: 0 },
  };
}

/** Steward keeps the skuIds of `assignedLicenses`, not their disabled plans. */
export function userRecord(user: DirectoryUser): FixtureRecord {
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: user.mobilePhone,
    businessPhones: [...user.businessPhones],
    streetAddress: user.streetAddress,
    city: user.city,
    state: user.state,
    country: user.country,
    usageLocation: user.usageLocation,
    accountEnabled: user.accountEnabled,
    userType: user.userType,
    onPremisesSyncEnabled: user.onPremisesSyncEnabled,
    assignedLicenses: user.assignedSkuIds.map((skuId) => ({ skuId, disabledPlans: [] })),
  };
}

/** Members other than users and groups (devices, service principals) are not part of the format. */
export function groupRecord(group: SecurityGroup): FixtureRecord {
  return {
    id: group.id,
    displayName: group.displayName,
    securityEnabled: true,
    members: group.members.filter((m) => m.kind !== 'other').map((m) => m.id),
    owners: [...group.ownerIds],
  };
}

export function directoryRoleRecord(role: AdminRole, members: ReadonlySet<string>): FixtureRecord {
  return { roleTemplateId: ADMIN_ROLE_TEMPLATE_IDS[role], displayName: ADMIN_ROLE_NAMES[role], members: [...members] };
}

// ── Power Platform and Dataverse ─────────────────────────────────────────────────────────────

export function environmentRecord(data: EnvironmentSnapshot): FixtureRecord {
  const { environment } = data;
  return {
    id: environment.id,
    displayName: environment.displayName,
    type: environment.type,
    hasDataverse: environment.hasDataverse,
    securityGroupId: environment.securityGroupId,
    passForApps: environment.passForApps,
    createdBy: environment.createdBy,
    orgSettings: data.organizationSettings ? { AllowRoleAssignmentOnDisabledUsers: data.organizationSettings.allowRoleAssignmentOnDisabledUsers } : {},
    businessunits: data.businessUnits.map(businessUnitRecord),
    roles: data.roles.map(roleRecord),
    teams: data.teams.map(teamRecord),
    systemusers: data.systemUsers.map(systemUserRecord),
  };
}

export function businessUnitRecord(unit: BusinessUnit): FixtureRecord {
  return { businessunitid: unit.id, name: unit.name, parentbusinessunitid: unit.parentId };
}

export function roleRecord(role: SecurityRole): FixtureRecord {
  return { roleid: role.id, name: role.name, ...(role.businessUnitId ? { businessunitid: role.businessUnitId } : {}) };
}

export function teamRecord(team: DataverseTeam): FixtureRecord {
  return { teamid: team.id, name: team.name, roles: [...team.roleIds], members: [...team.memberIds] };
}

export function systemUserRecord(row: SystemUser): FixtureRecord {
  return {
    systemuserid: row.id,
    domainname: row.domainName,
    azureactivedirectoryobjectid: row.entraObjectId,
    applicationid: row.applicationId,
    accessmode: row.accessMode,
    isdisabled: row.isDisabled,
    islicensed: row.isLicensed,
    fullname: row.fullName,
    ...(row.businessUnitId ? { businessunitid: row.businessUnitId } : {}),
    firstname: row.profile.firstname,
    lastname: row.profile.lastname,
    title: row.profile.title,
    mobilephone: row.profile.mobilephone,
    address1_telephone1: row.profile.address1_telephone1,
    address1_line1: row.profile.address1_line1,
    address1_city: row.profile.address1_city,
    address1_stateorprovince: row.profile.address1_stateorprovince,
    address1_country: row.profile.address1_country,
    roles: [...row.roleIds],
  };
}

// ── Salesforce ───────────────────────────────────────────────────────────────────────────────

/**
 * What the gateway reads of an org is what the audit and readiness look at: the integration users,
 * profiles, Copilot for Sales permission sets and apps, every licence. Users on an integration
 * profile who are not integration users are counted by the checks, so they are written too, with
 * the little the gateway knows of them (their id and profile).
 */
export function salesforceOrgRecord(org: SalesforceOrgRead): FixtureRecord {
  const s = org.snapshot;
  const known = new Set(s.integrationUsers.map((u) => u.id));
  const others: FixtureRecord[] = [];
  for (const profile of s.integrationProfiles) {
    for (const id of profile.userIds) {
      if (known.has(id)) continue;
      known.add(id);
      others.push(profileUserRecord(id, profile.id));
    }
  }
  return {
    id: s.orgId,
    name: org.name,
    userLicenses: s.userLicenses.map(userLicenseRecord),
    users: [...s.integrationUsers.map(salesforceUserRecord), ...others],
    profiles: s.integrationProfiles.map(profileRecord),
    permissionSets: s.copilotPermissionSets.map(permissionSetRecord),
    permissionSetAssignments: s.permissionSetAssignments.map((a) => assignmentRecord(a, 'PermissionSetId')),
    permissionSetLicenses: s.permissionSetLicenses.map(permissionSetLicenseRecord),
    permissionSetLicenseAssignments: s.permissionSetLicenseAssignments.map((a) => assignmentRecord(a, 'PermissionSetLicenseId')),
    connectedApplications: s.copilotConnectedApps.map(connectedAppRecord),
  };
}

export function userLicenseRecord(license: SalesforceUserLicense): FixtureRecord {
  return {
    Id: license.id,
    Name: license.name,
    MasterLabel: license.masterLabel,
    LicenseDefinitionKey: license.licenseDefinitionKey,
    Status: license.status,
    TotalLicenses: license.total,
    UsedLicenses: license.used,
  };
}

export function salesforceUserRecord(user: SalesforceUser): FixtureRecord {
  return { Id: user.id, Username: user.username, IsActive: user.isActive, ProfileId: user.profileId, UserType: user.userType };
}

/** Not read by the gateway: an active standard user is the plausible reading (the username is made up). */
function profileUserRecord(id: string, profileId: string): FixtureRecord {
  return { Id: id, Username: `user.${id.toLowerCase()}@snapshot.invalid`, IsActive: true, ProfileId: profileId, UserType: 'Standard' };
}

export function profileRecord(profile: SalesforceProfile): FixtureRecord {
  return { Id: profile.id, Name: profile.name, UserLicenseId: profile.userLicenseId };
}

export function permissionSetRecord(set: SalesforcePermissionSet): FixtureRecord {
  return { Id: set.id, Name: set.name, Label: set.label };
}

export function assignmentRecord(assignment: SalesforceAssignment, grantedField: 'PermissionSetId' | 'PermissionSetLicenseId'): FixtureRecord {
  return { Id: assignment.id, AssigneeId: assignment.assigneeId, [grantedField]: assignment.grantedId };
}

export function permissionSetLicenseRecord(license: SalesforcePermissionSetLicense): FixtureRecord {
  return { Id: license.id, DeveloperName: license.developerName, MasterLabel: license.masterLabel, TotalLicenses: license.total, UsedLicenses: license.used };
}

export function connectedAppRecord(app: SalesforceConnectedApp): FixtureRecord {
  return { Id: app.id, Name: app.name };
}
