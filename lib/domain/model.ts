/**
 * The shapes Steward thinks in. Gateways convert the wire records (Graph, BAP, Dataverse,
 * Salesforce) into these once; nothing past a gateway sees a wire property name.
 */

// ── Entra ID (Microsoft Graph) ────────────────────────────────────────────────────────────────

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  jobTitle: string | null;
  mail: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  streetAddress: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  usageLocation: string | null;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  /** skuIds of `assignedLicenses`. */
  assignedSkuIds: string[];
  /** Synced from on-premises AD: the cloud cannot change most of its attributes. */
  onPremisesSyncEnabled: boolean;
}

export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  capabilityStatus: string;
  consumedUnits: number;
  enabledUnits: number;
}

export interface GroupMember {
  id: string;
  kind: 'user' | 'group' | 'other';
  displayName: string | null;
}

export interface SecurityGroup {
  id: string;
  displayName: string;
  /** Direct members only: nested groups are not expanded (E4). */
  members: GroupMember[];
  /** User ids of the owners. */
  ownerIds: string[];
}

/** The three admin roles the seed names (D4.2 i, D4.3, A2). */
export type AdminRole = 'globalAdministrator' | 'powerPlatformAdministrator' | 'dynamics365Administrator';

export const ADMIN_ROLE_TEMPLATE_IDS: Record<AdminRole, string> = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  powerPlatformAdministrator: '11648597-926c-4cf3-9c36-bcebb0ba8dcc',
  dynamics365Administrator: '44367163-eba1-44c3-98af-f5787879f96a',
};

/** Who holds each admin role (user ids). */
export type AdminRoleMembers = Record<AdminRole, Set<string>>;

// ── Power Platform ───────────────────────────────────────────────────────────────────────────

export type EnvironmentType = 'Production' | 'Sandbox' | 'Trial' | 'Developer' | 'Default' | 'Teams';

export interface Environment {
  id: string;
  displayName: string;
  type: EnvironmentType;
  /** D3, E1: only environments with a Dataverse database have users. */
  hasDataverse: boolean;
  /** The Dataverse Web API root, e.g. `https://org.crm.dynamics.com`; null without Dataverse. */
  instanceUrl: string | null;
  securityGroupId: string | null;
  /** Environment-level pass per app (D2, D4.2 ii). */
  passForApps: boolean;
  /** Entra object id of the creator (D5: a Developer environment adds only its creator). */
  createdBy: string | null;
}

// ── Dataverse ────────────────────────────────────────────────────────────────────────────────

/** `systemuser.accessmode` (A1). */
export const AccessMode = {
  ReadWrite: 0,
  Administrative: 1,
  Read: 2,
  SupportUser: 3,
  NonInteractive: 4,
  DelegatedAdmin: 5,
} as const;
export type AccessModeValue = (typeof AccessMode)[keyof typeof AccessMode];

/** The P1 profile fields as Dataverse holds them. */
export interface SystemUserProfile {
  domainname: string | null;
  firstname: string | null;
  lastname: string | null;
  title: string | null;
  address1_telephone1: string | null;
  mobilephone: string | null;
  address1_line1: string | null;
  address1_city: string | null;
  address1_stateorprovince: string | null;
  address1_country: string | null;
}

export interface SystemUser {
  id: string;
  domainName: string | null;
  /** `azureactivedirectoryobjectid`: null for stub, support and delegated admin users (T4–T6). */
  entraObjectId: string | null;
  /** `applicationid`: set for application users (T2). */
  applicationId: string | null;
  accessMode: number;
  isDisabled: boolean;
  isLicensed: boolean;
  fullName: string | null;
  businessUnitId: string | null;
  profile: SystemUserProfile;
  /** Roles assigned directly (`systemuserroles_association`). */
  roleIds: string[];
}

export interface DataverseTeam {
  id: string;
  name: string;
  roleIds: string[];
  memberIds: string[];
}

export interface SecurityRole {
  id: string;
  name: string;
  businessUnitId: string | null;
}

export interface BusinessUnit {
  id: string;
  name: string;
  parentId: string | null;
}

export interface OrganizationSettings {
  /** `orgdborgsettings` → AllowRoleAssignmentOnDisabledUsers (E5). */
  allowRoleAssignmentOnDisabledUsers: boolean;
}

// ── Salesforce ───────────────────────────────────────────────────────────────────────────────

export interface SalesforceUserLicense {
  id: string;
  name: string;
  masterLabel: string;
  licenseDefinitionKey: string | null;
  status: string;
  total: number;
  used: number;
}

export interface SalesforceUser {
  id: string;
  username: string;
  isActive: boolean;
  profileId: string | null;
  userType: string | null;
}

export interface SalesforceProfile {
  id: string;
  name: string;
  userLicenseId: string | null;
}

export interface SalesforcePermissionSet {
  id: string;
  name: string;
  label: string | null;
}

export interface SalesforceAssignment {
  id: string;
  assigneeId: string;
  /** PermissionSetId or PermissionSetLicenseId. */
  grantedId: string;
}

export interface SalesforcePermissionSetLicense {
  id: string;
  developerName: string;
  masterLabel: string;
  total: number;
  used: number;
}

export interface SalesforceConnectedApp {
  id: string;
  name: string;
}

/** What the audits and the readiness check read of one org. */
export interface SalesforceOrgSnapshot {
  orgId: string;
  userLicenses: SalesforceUserLicense[];
  /** Users that look like Copilot for Sales integration users (username prefix match). */
  integrationUsers: SalesforceUser[];
  /** Profiles with an integration-profile name (any variant), and which users use them. */
  integrationProfiles: (SalesforceProfile & { userIds: string[] })[];
  /** Permission sets whose name or label marks them as Copilot for Sales. */
  copilotPermissionSets: SalesforcePermissionSet[];
  /** Assignments of those permission sets to the integration users. */
  permissionSetAssignments: SalesforceAssignment[];
  permissionSetLicenses: SalesforcePermissionSetLicense[];
  /** Assignments of permission set licenses to the integration users. */
  permissionSetLicenseAssignments: SalesforceAssignment[];
  /** Copilot for Sales connected apps or external client apps. */
  copilotConnectedApps: SalesforceConnectedApp[];
}
