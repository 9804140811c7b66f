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
  businessPhones: readonly string[];
  streetAddress: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  usageLocation: string | null;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  /**
   * skuIds of the licences the user holds: `assignedLicenses` without the SKUs whose every
   * `licenseAssignmentStates` entry is in `Error` (L3: such a licence is not applied).
   */
  assignedSkuIds: readonly string[];
  /** Synced from on-premises AD: the cloud cannot change most of its attributes. */
  onPremisesSyncEnabled: boolean;
  /** ISO time the account was created; null for some accounts created before June 2018. */
  createdDateTime: string | null;
  /** L2; null when it was not read (the tenant refused it). A user who never signed in has nulls. */
  signInActivity: SignInActivity | null;
  /** L3: the licence assignments in state `Error` (group-based licensing). */
  licenseErrors: readonly LicenseAssignmentError[];
  /**
   * The held licences assigned through a group (group-based licensing, `licenseAssignmentStates`
   * with `assignedByGroup`), for diagnose's evidence; absent when none is. A licence listed here
   * may be assigned directly as well (`directSkuIds`).
   */
  groupLicenses?: { skuId: string; groupId: string }[];
  /** With `groupLicenses`: the skuIds that also have a direct assignment. */
  directSkuIds?: readonly string[];
}

/** `user.signInActivity` (L2). */
export interface SignInActivity {
  lastSignInDateTime: string | null;
  lastNonInteractiveSignInDateTime: string | null;
  lastSuccessfulSignInDateTime: string | null;
}

/** A `licenseAssignmentStates` entry in state `Error` (L3). */
export interface LicenseAssignmentError {
  skuId: string;
  /** `CountViolation`, `MutuallyExclusiveViolation`, `DependencyViolation`, `ProhibitedInUsageLocationViolation`, `UniquenessViolation` or `Other`. */
  error: string;
  /** The group that assigns it; null when assigned directly. */
  assignedByGroup: string | null;
}

export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  capabilityStatus: string;
  consumedUnits: number;
  enabledUnits: number;
  /** `prepaidUnits.suspended` and `.warning` (L4). */
  suspendedUnits: number;
  warningUnits: number;
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
  /** systemuser ids of its `teammembership` rows (for group teams, only those who signed in: U4). */
  memberIds: string[];
  /** `teamtype` (U4): 0 owner, 1 access, 2 Entra security group, 3 Microsoft 365 group; absent reads as 0. */
  teamType?: number;
  /** `azureactivedirectoryobjectid` of a group team: the Entra group it is bound to. */
  groupId?: string | null;
  /** `membershiptype` of a group team (U4): 0 members and guests, 1 members, 2 owners, 3 guests. */
  membershipType?: number;
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
