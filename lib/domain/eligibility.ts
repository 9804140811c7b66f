import { holdsEnvironmentLicense, type LicenseCatalog } from './licenses.js';
import type { AdminRole, DirectoryUser, Environment, SystemUser } from './model.js';
import { isNonInteractiveUser } from './user-kinds.js';

/**
 * Who may have an enabled systemuser in an environment (D1–D5, E1, E4, A2, T3) — the one rules
 * module the audit checks and diagnose both use. Pure: everything it needs is passed in.
 */

export type ReasonFactId = 'D3' | 'D4.1' | 'D4.2' | 'D4.3' | 'D5';

export interface Reason {
  factId: string;
  message: string;
  remediation: string;
}

/** The user's standing towards the environment's security group. */
export interface GroupStanding {
  groupId: string;
  groupName: string | null;
  directMember: boolean;
  owner: boolean;
  /** Groups nested in the security group through which the user is a member (E4: they do not count). */
  nestedVia: { id: string; displayName: string | null }[];
}

export interface EligibilityInput {
  /** The Entra user; null when there is none (deleted, or never existed). */
  user: DirectoryUser | null;
  environment: Environment;
  catalog: LicenseCatalog;
  adminRoles: ReadonlySet<AdminRole>;
  /** Null when the environment has no security group. */
  group: GroupStanding | null;
  /** The user's current row in the environment, if any. */
  row: SystemUser | null;
}

export type LicensePath =
  | 'environment-license'
  | 'administrator'
  | 'pass-per-app'
  | 'marketing-tenant-license'
  | 'non-interactive'
  | 'free-dataverse-plan'
  | 'none';

export interface Eligibility {
  eligible: boolean;
  /** One per failed requirement. */
  reasons: Reason[];
  addedBy: 'background-sync' | 'on-demand' | 'none';
  expectedAccessMode: 'administrative' | 'non-interactive' | 'read-write';
  licensePath: LicensePath;
}

const adminLabel: Record<AdminRole, string> = {
  globalAdministrator: 'Global Administrator',
  powerPlatformAdministrator: 'Power Platform Administrator',
  dynamics365Administrator: 'Dynamics 365 Administrator',
};

export const isAnyAdmin = (roles: ReadonlySet<AdminRole>) => roles.size > 0;

/** D4.3: Global and Power Platform administrators need no group membership; Dynamics 365 ones do. */
export const isGroupExemptAdmin = (roles: ReadonlySet<AdminRole>) =>
  roles.has('globalAdministrator') || roles.has('powerPlatformAdministrator');

function licensePathOf(input: EligibilityInput): LicensePath {
  const { user, catalog, environment, adminRoles, row } = input;
  if (!user) return 'none';
  if (holdsEnvironmentLicense(user, catalog)) return 'environment-license';
  if (isAnyAdmin(adminRoles)) return 'administrator'; // D4.2 i: unlicensed admins become setup users (A2)
  if (row && isNonInteractiveUser(row)) return 'non-interactive'; // D4.2 iv, T3
  if (environment.passForApps) return 'pass-per-app'; // D4.2 ii
  if (catalog.marketingTenantLicense) return 'marketing-tenant-license'; // D4.2 iii
  if (user.assignedSkuIds.some((id) => catalog.freeDataversePlanSkuIds.has(id))) return 'free-dataverse-plan'; // D4.2 v
  return 'none';
}

/** D3: an environment without a Dataverse database takes no users at all. */
function dataverseRequirement({ environment }: EligibilityInput): Reason | null {
  if (environment.hasDataverse) return null;
  return {
    factId: 'D3',
    message: `Environment "${environment.displayName}" has no Dataverse database: users cannot be added to it.`,
    remediation: 'Add a Dataverse database to the environment, or give the user access to an environment that has one (D3, E1).',
  };
}

/** D4.1: enabled in Entra, not deleted or soft-deleted (a user deleted in Entra becomes disabled). */
function accountRequirement({ user }: EligibilityInput): Reason | null {
  if (!user) {
    return {
      factId: 'D4.1',
      message: 'The account does not exist in Microsoft Entra ID (deleted or never created); its systemuser becomes disabled.',
      remediation: 'Restore the account from deleted users, or remove the leftover systemuser from the environment (D4.1).',
    };
  }
  if (user.accountEnabled) return null;
  return {
    factId: 'D4.1',
    message: `${user.userPrincipalName} is disabled in Microsoft Entra ID (sign-in blocked).`,
    remediation: 'Enable the account in Entra ID if the person still needs access; a re-enabled account needs a new invitation (D4.1, E6).',
  };
}

/** D4.2: a valid license or one of its exceptions; a guest's home-tenant license does not count. */
function licenseRequirement({ user }: EligibilityInput, licensePath: LicensePath): Reason | null {
  if (!user || licensePath !== 'none') return null;
  const upn = user.userPrincipalName;
  const guest = user.userType === 'Guest';
  return {
    factId: 'D4.2',
    message: guest
      ? `${upn} is a guest with no license of this tenant: a license from the guest's home tenant does not count.`
      : `${upn} holds no license that entitles to the environment, and no exception applies (not an administrator, not non-interactive, no pass per app, no tenant marketing license).`,
    remediation: guest
      ? "Assign the guest a license of this tenant (the environment's tenant) that includes Dataverse (D4.2)."
      : 'Assign a license that includes Dataverse (for example Dynamics 365 or Power Apps per user), then wait for the sync (D4.2, U2).',
  };
}

/**
 * D4.3: direct membership (or ownership) of the environment's security group, unless a Global or
 * Power Platform administrator; a membership through a nested group is ignored (E4).
 */
function securityGroupRequirement({ user, group, adminRoles }: EligibilityInput): Reason | null {
  if (!group || !user || group.directMember || group.owner || isGroupExemptAdmin(adminRoles)) return null;
  const upn = user.userPrincipalName;
  const nested = group.nestedVia.map((g) => g.displayName ?? g.id);
  const groupName = group.groupName ?? group.groupId;
  return {
    factId: 'D4.3',
    message:
      nested.length > 0
        ? `${upn} is only a member of "${groupName}" through the nested group "${nested.join('", "')}": nested groups are not supported and are ignored (E4).`
        : adminRoles.has('dynamics365Administrator')
          ? `${upn} is a Dynamics 365 administrator but not a direct member of the environment's security group "${groupName}"; unlike Global and Power Platform administrators, a Dynamics 365 administrator must be a member.`
          : `${upn} is not a direct member of the environment's security group "${groupName}".`,
    remediation: `Add the user directly to the security group "${groupName}" (D4.3${nested.length > 0 ? ', E4' : ''}), then force a sync (D1).`,
  };
}

/** D5: a Developer environment adds only its creator. */
function environmentTypeRequirement({ user, environment }: EligibilityInput): Reason | null {
  if (!user || environment.type !== 'Developer' || environment.createdBy === user.id) return null;
  return {
    factId: 'D5',
    message: `"${environment.displayName}" is a Developer environment: only its creator is added.`,
    remediation: 'Use a Sandbox or Production environment to share the work, or let the creator work alone (D5).',
  };
}

/** D2 and D4.2 ii, iii, v say "on demand only"; iv (non-interactive) does not: the sync keeps those rows. */
function isOnDemandOnly({ environment, group, adminRoles }: EligibilityInput, licensePath: LicensePath): boolean {
  return (
    environment.type === 'Trial' ||
    environment.type === 'Teams' ||
    licensePath === 'pass-per-app' ||
    licensePath === 'marketing-tenant-license' ||
    licensePath === 'free-dataverse-plan' ||
    (group !== null && !group.directMember && group.owner && !isGroupExemptAdmin(adminRoles))
  );
}

function expectedAccessModeOf({ adminRoles, row }: EligibilityInput, licensePath: LicensePath): Eligibility['expectedAccessMode'] {
  if (isAnyAdmin(adminRoles) && licensePath !== 'environment-license') return 'administrative'; // A2: an admin with no user license is a setup user
  return row && isNonInteractiveUser(row) ? 'non-interactive' : 'read-write';
}

/** The requirements of D4 (and D3, D5) for one user in one environment: one reason per failed one. */
export function evaluateEligibility(input: EligibilityInput): Eligibility {
  const licensePath = licensePathOf(input);
  const reasons = [
    dataverseRequirement(input),
    accountRequirement(input),
    licenseRequirement(input, licensePath),
    securityGroupRequirement(input),
    environmentTypeRequirement(input),
  ].filter((reason): reason is Reason => reason !== null);
  const eligible = reasons.length === 0;
  return {
    eligible,
    reasons,
    addedBy: !eligible ? 'none' : isOnDemandOnly(input, licensePath) ? 'on-demand' : 'background-sync',
    expectedAccessMode: expectedAccessModeOf(input, licensePath),
    licensePath,
  };
}

/** D4 reasons only (the audit's `enabled-user-ineligible` speaks of D4). */
export const failsD4 = (eligibility: Eligibility) => eligibility.reasons.some((r) => r.factId.startsWith('D4'));

export const describeAdminRoles = (roles: ReadonlySet<AdminRole>) => [...roles].map((r) => adminLabel[r]);
