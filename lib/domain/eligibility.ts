import { holdsEnvironmentLicense, type LicenseCatalog } from './licenses.js';
import type { AdminRole, DirectoryUser, Environment, SystemUser } from './model.js';
import { licenceLabel } from './sku-names.js';
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

// ── The checklist (issue 14): each requirement of D3–D5 passed or failed, with its evidence ──

/** What diagnose knows beside the eligibility input, for the evidence only (never for the verdict). */
export interface ChecklistEvidence {
  /** U5: the admin roles held through role-assignable groups, with those groups. */
  adminRoleGroups: ReadonlyMap<AdminRole, readonly { id: string; displayName: string | null }[]>;
  /** Names of groups known to diagnose (the security group, nested groups, role-assignable groups), by id. */
  groupNames: ReadonlyMap<string, string>;
  /** Whether the row has a security role, directly, through a team or a group team (U3); null without a row. */
  rowHasRole: boolean | null;
}

export type ChecklistStatus = 'passed' | 'failed' | 'not-applicable';

export interface ChecklistItem {
  /** Which requirement. */
  check: 'dataverse-database' | 'account' | 'license' | 'admin-role' | 'security-group' | 'environment-type';
  /** The fact it rests on. */
  factId: string;
  status: ChecklistStatus;
  /** The requirement, in the admin center's words. */
  requirement: string;
  /** What Steward saw. */
  evidence: string;
}

export interface Checklist {
  requirements: ChecklistItem[];
  /** The user's systemuser record in the environment, in words. */
  systemUser: string;
  /** Whether the user can sign in to the environment now, and why. */
  signIn: { now: boolean; why: string };
  /** What brings the user in (or keeps them out), D1, D2, D5. */
  next: { by: 'background-sync' | 'on-demand' | 'never'; what: string };
}

const item = (check: ChecklistItem['check'], factId: string, status: ChecklistStatus, requirement: string, evidence: string): ChecklistItem => ({ check, factId, status, requirement, evidence });
const failedOn = (eligibility: Eligibility, factId: string) => eligibility.reasons.some((r) => r.factId === factId);
const groupName = (evidence: ChecklistEvidence, id: string) => evidence.groupNames.get(id.toLowerCase()) ?? id;

/** Each licence the user holds and how: directly, or through which group (group-based licensing). */
function licenceHoldings(user: DirectoryUser, catalog: LicenseCatalog, evidence: ChecklistEvidence): string[] {
  return user.assignedSkuIds.map((skuId) => {
    const part = catalog.partNumbers.get(skuId) ?? skuId;
    const groups = (user.groupLicenses ?? []).filter((g) => g.skuId.toLowerCase() === skuId.toLowerCase()).map((g) => `"${groupName(evidence, g.groupId)}"`);
    const direct = groups.length === 0 || (user.directSkuIds ?? []).some((id) => id.toLowerCase() === skuId.toLowerCase());
    const how = [direct ? 'assigned directly' : null, groups.length > 0 ? `through the group ${groups.join(', ')}` : null].filter(Boolean).join(' and ');
    return `${licenceLabel(part)}, ${how}`;
  });
}

const LICENSE_PATH_WORDS: Record<LicensePath, string> = {
  'environment-license': 'holds a licence that includes Dataverse',
  administrator: 'is an administrator: no licence needed, added as a setup user in Administrative mode (D4.2 i, A2)',
  'pass-per-app': 'the environment has pass per app (D4.2 ii, on demand only)',
  'marketing-tenant-license': 'the tenant has a tenant-level marketing licence (D4.2 iii, on demand only)',
  'non-interactive': 'the row is non-interactive: no licence needed (D4.2 iv, T3)',
  'free-dataverse-plan': 'holds a Microsoft 365 licence with a free Dataverse plan (D4.2 v, on demand only)',
  none: 'no licence and no exception',
};

function licenceItem(input: EligibilityInput, eligibility: Eligibility, evidence: ChecklistEvidence): ChecklistItem {
  const requirement = 'A licence that includes Dataverse, or an exception (administrator, non-interactive, pass per app, marketing, free Dataverse plan)';
  if (!input.user) return item('license', 'D4.2', 'not-applicable', requirement, 'No Entra account to hold a licence.');
  const held = licenceHoldings(input.user, input.catalog, evidence);
  const holds = held.length > 0 ? `Licences: ${held.join('; ')}.` : 'No licence.';
  const guest = input.user.userType === 'Guest' ? ' A guest: only a licence of this tenant counts.' : '';
  return item('license', 'D4.2', failedOn(eligibility, 'D4.2') ? 'failed' : 'passed', requirement, `${holds} Entitlement: ${LICENSE_PATH_WORDS[eligibility.licensePath]}.${guest}`);
}

function adminRoleItem(input: EligibilityInput, evidence: ChecklistEvidence): ChecklistItem {
  const requirement = 'Administrator role (Global, Power Platform or Dynamics 365): exempts from the licence; Global and Power Platform also from the group';
  if (input.adminRoles.size === 0) return item('admin-role', 'D4.2', 'not-applicable', requirement, 'Holds none of the three administrator roles.');
  const how = [...input.adminRoles].map((role) => {
    const groups = evidence.adminRoleGroups.get(role) ?? [];
    return `${adminLabel[role]} (${groups.length > 0 ? `through the role-assignable group ${groups.map((g) => `"${g.displayName ?? g.id}"`).join(', ')}, U5` : 'assigned directly'})`;
  });
  return item('admin-role', 'D4.2', 'passed', requirement, `${how.join('; ')}.`);
}

function securityGroupItem(input: EligibilityInput, eligibility: Eligibility): ChecklistItem {
  const { group, user, adminRoles } = input;
  if (!group) return item('security-group', 'D4.3', 'not-applicable', 'Direct member of the environment\'s security group', 'The environment has no security group: every licensed user of the tenant may be added.');
  const name = `"${group.groupName ?? group.groupId}"`;
  const requirement = `Direct member (or owner) of the environment's security group ${name}`;
  if (!user) return item('security-group', 'D4.3', 'not-applicable', requirement, 'No Entra account.');
  const standing = group.directMember
    ? 'a direct member'
    : group.owner
      ? 'an owner (counts as a member when added on demand)'
      : group.nestedVia.length > 0
        ? `a member only through the nested group ${group.nestedVia.map((g) => `"${g.displayName ?? g.id}"`).join(', ')}, which does not count (E4)`
        : 'not a member';
  const exempt = !group.directMember && !group.owner && isGroupExemptAdmin(adminRoles) ? '; exempt as a Global or Power Platform administrator' : '';
  return item('security-group', 'D4.3', failedOn(eligibility, 'D4.3') ? 'failed' : 'passed', requirement, `The user is ${standing}${exempt}.`);
}

function accountItem({ user }: EligibilityInput): ChecklistItem {
  const requirement = 'Account enabled in Microsoft Entra ID, not deleted';
  if (!user) return item('account', 'D4.1', 'failed', requirement, 'No such account in Entra ID: deleted (or never created).');
  return item('account', 'D4.1', user.accountEnabled ? 'passed' : 'failed', requirement, `${user.userPrincipalName} is ${user.accountEnabled ? 'enabled' : 'disabled (sign-in blocked)'}${user.userType === 'Guest' ? ', a guest' : ''}.`);
}

function environmentTypeItem({ environment, user }: EligibilityInput, eligibility: Eligibility): ChecklistItem {
  const requirement = 'Environment type admits the user (a Developer environment only its creator)';
  const type = `${environment.type} environment`;
  if (environment.type !== 'Developer') return item('environment-type', 'D5', 'passed', requirement, `${type}.`);
  const creator = user && environment.createdBy === user.id;
  return item('environment-type', 'D5', failedOn(eligibility, 'D5') ? 'failed' : 'passed', requirement, `${type}; the user is ${creator ? '' : 'not '}its creator.`);
}

function systemUserWords(row: SystemUser | null, environment: Environment, rowHasRole: boolean | null): string {
  if (!environment.hasDataverse) return 'None: the environment has no Dataverse database.';
  if (!row) return 'None yet in this environment.';
  const mode = ACCESS_MODE_WORDS[row.accessMode] ?? `access mode ${row.accessMode}`;
  const roles = rowHasRole === null ? '' : rowHasRole ? ', with a security role' : ', without any security role (U3)';
  return `${row.isDisabled ? 'Disabled' : 'Enabled'}, ${mode}${roles}.`;
}

const ACCESS_MODE_WORDS: Record<number, string> = { 0: 'Read-Write', 1: 'Administrative', 2: 'Read', 3: 'Support User', 4: 'Non-interactive', 5: 'Delegated Admin' };

function signInNow(input: EligibilityInput, eligibility: Eligibility, rowHasRole: boolean | null): Checklist['signIn'] {
  const { row, user, environment } = input;
  if (!environment.hasDataverse) return { now: false, why: 'No: the environment has no Dataverse database (D3).' };
  if (!user) return { now: false, why: 'No: the account no longer exists in Entra ID (D4.1).' };
  if (!user.accountEnabled) return { now: false, why: 'No: sign-in is blocked in Entra ID (D4.1).' };
  if (!eligibility.eligible) {
    const facts = eligibility.reasons.map((r) => r.factId).join(', ');
    return { now: false, why: `No: the user does not meet ${facts}${row && !row.isDisabled ? '; the row is still enabled, but the next sync or sign-in disables it' : ''}.` };
  }
  if (row && isNonInteractiveUser(row)) return { now: false, why: 'No, by design: a non-interactive user reaches the environment through the API only (T3).' };
  if (row && row.accessMode === 1) return { now: true, why: 'Yes, to settings and administration only: Administrative mode gives no access to data (A2).' };
  const noRole = rowHasRole === false ? ', but without a security role they cannot use the apps (U3)' : '';
  if (!row) return { now: true, why: `Yes: the first sign-in adds the user's row (D1)${eligibility.addedBy === 'on-demand' ? '; the background sync will not' : ''}.` };
  if (row.isDisabled) return { now: true, why: 'Yes: the row is disabled, and the first sign-in re-enables an entitled user (D1).' };
  return { now: true, why: `Yes: the user meets every requirement and the row is enabled${noRole}.` };
}

function nextStep(input: EligibilityInput, eligibility: Eligibility): Checklist['next'] {
  const { row } = input;
  if (!eligibility.eligible) {
    return { by: 'never', what: `Nothing brings the user in until ${eligibility.reasons.map((r) => r.factId).join(', ')} ${eligibility.reasons.length === 1 ? 'is' : 'are'} fixed${row && !row.isDisabled ? '; the sync disables the enabled row' : ''}.` };
  }
  if (eligibility.addedBy === 'on-demand') {
    return { by: 'on-demand', what: `The background sync does not ${row ? 'add users here' : 'add this user'} (D2, D5): the user is ${row ? 'kept' : 'added'} on demand (force a sync) or at first sign-in.` };
  }
  if (!row) return { by: 'background-sync', what: 'The background sync adds the user within minutes (D1, U2); force a sync to add them now.' };
  if (row.isDisabled) return { by: 'background-sync', what: 'The background sync or the first sign-in re-enables the row (D1); force a sync to do it now.' };
  return { by: 'background-sync', what: 'Nothing to wait for: the background sync keeps the row up to date (D1).' };
}

/**
 * Issue 14: the diagnosis as the admin center's "Run diagnostics" checklist, from the same
 * evaluation as the verdict: every requirement passed or failed with what was seen, the row, whether
 * the user can sign in now and what happens next.
 */
export function eligibilityChecklist(input: EligibilityInput, eligibility: Eligibility, evidence: ChecklistEvidence): Checklist {
  const { environment } = input;
  return {
    requirements: [
      item('dataverse-database', 'D3', environment.hasDataverse ? 'passed' : 'failed', 'The environment has a Dataverse database', environment.hasDataverse ? 'It has one.' : 'It has none: users cannot be added (D3).'),
      accountItem(input),
      licenceItem(input, eligibility, evidence),
      adminRoleItem(input, evidence),
      securityGroupItem(input, eligibility),
      environmentTypeItem(input, eligibility),
    ],
    systemUser: systemUserWords(input.row, environment, evidence.rowHasRole),
    signIn: signInNow(input, eligibility, evidence.rowHasRole),
    next: nextStep(input, eligibility),
  };
}
