import { evaluateEligibility, failsD4, type GroupStanding } from '../../domain/eligibility.js';
import type { Finding } from '../../domain/finding.js';
import { groupPeople, groupTeamsOf, isGroupTeam, type GroupPeople } from '../../domain/group-teams.js';
import { environmentLicensesOf, holdsAnyLicense, holdsEnvironmentLicense, licenseNamesOf } from '../../domain/licenses.js';
import { AccessMode, type DataverseTeam, type DirectoryUser, type Environment, type SecurityGroup, type SystemUser } from '../../domain/model.js';
import { monthlyCostOf } from '../../domain/money.js';
import { profileDifferences } from '../../domain/profile-sync.js';
import { isApplicationUser, isNonInteractiveUser, isRegularUser } from '../../domain/user-kinds.js';
import { adminRolesOf, type DirectorySnapshot, type EnvironmentData, type EnvironmentUserSummary } from '../snapshot.js';
import { findingOf } from './finding-of.js';

export interface EnvironmentCheckSettings {
  nonInteractiveWarnAt: number;
}

/** A group's direct user members and owners as sets: one environment asks about each of its thousands of rows. */
interface GroupIndex {
  users: Set<string>;
  owners: Set<string>;
}

function indexGroup(group: SecurityGroup): GroupIndex {
  return { users: new Set(group.members.filter((m) => m.kind === 'user').map((m) => m.id)), owners: new Set(group.ownerIds) };
}

/** The security group standing of a user, from the group's direct members and owners (E4, D4.3). */
export function groupStanding(group: SecurityGroup | undefined, groupId: string, userId: string, index?: GroupIndex): GroupStanding {
  const sets = index ?? (group ? indexGroup(group) : undefined);
  return {
    groupId,
    groupName: group?.displayName ?? null,
    directMember: sets?.users.has(userId) ?? false,
    owner: sets?.owners.has(userId) ?? false,
    nestedVia: [],
  };
}

const NON_INTERACTIVE_CAP = 7; // T3

/** A regular systemuser (SPEC §2): applicationid null, access mode not 3 or 5, an Entra object id. */
type RegularRow = SystemUser & { entraObjectId: string };

/** What every check of one environment looks at, read once per environment. */
interface EnvironmentContext {
  directory: DirectorySnapshot;
  environment: Environment;
  envId: string;
  envName: string;
  group: SecurityGroup | undefined;
  groupIndex: GroupIndex | undefined;
  /** Per systemuser id, how many roles its owner and access teams give it (their `teammembership` rows). */
  teamRolesByMember: Map<string, number>;
  /** U4: the group teams with roles, and the people of their groups. */
  groupTeams: DataverseTeam[];
  groupPeople: Map<string, GroupPeople>;
}

/** Every check of SPEC §2 whose target is one environment. */
export function runEnvironmentChecks(directory: DirectorySnapshot, data: EnvironmentData, settings: EnvironmentCheckSettings): Finding[] {
  const { environment, systemUsers, teams } = data;
  const group = environment.securityGroupId ? directory.groups.get(environment.securityGroupId) : undefined;
  const teamRolesByMember = new Map<string, number>();
  const groupTeams: DataverseTeam[] = [];
  for (const team of teams) {
    if (team.roleIds.length === 0) continue;
    // U4: a group team's rows are written at first sign-in only; who holds its roles is read from Entra.
    if (isGroupTeam(team)) groupTeams.push(team);
    else for (const member of team.memberIds) teamRolesByMember.set(member, (teamRolesByMember.get(member) ?? 0) + team.roleIds.length);
  }
  const groupPeopleById = new Map([...(data.groupTeamGroups ?? new Map<string, SecurityGroup>())].map(([id, g]) => [id.toLowerCase(), groupPeople(g)]));
  const ctx: EnvironmentContext = {
    directory,
    environment,
    envId: environment.id,
    envName: environment.displayName,
    group,
    groupIndex: group ? indexGroup(group) : undefined,
    teamRolesByMember,
    groupTeams,
    groupPeople: groupPeopleById,
  };
  const findings: Finding[] = [];
  const cap = nonInteractiveCap(ctx, systemUsers, settings);
  if (cap) findings.push(cap);
  for (const row of systemUsers) findings.push(...rowFindings(ctx, row));
  if (environment.securityGroupId) findings.push(...nestedSecurityGroups(ctx), ...eligibleUsersMissing(ctx, systemUsers));
  return findings;
}

/** dataverse.non-interactive-cap (T3): application users do not count. */
function nonInteractiveCap(ctx: EnvironmentContext, systemUsers: readonly SystemUser[], settings: EnvironmentCheckSettings): Finding | null {
  const nonInteractive = systemUsers.filter((row) => isNonInteractiveUser(row) && !row.isDisabled);
  const n = nonInteractive.length;
  if (n < settings.nonInteractiveWarnAt && n < NON_INTERACTIVE_CAP) return null;
  const reached = n >= NON_INTERACTIVE_CAP;
  return findingOf('dataverse.non-interactive-cap', {
    targetId: ctx.envId,
    subjectId: 'cap',
    severity: reached ? 'critical' : 'warning',
    title: reached ? `${ctx.envName}: ${n} enabled non-interactive users, the cap of 7 is reached` : `${ctx.envName}: ${n} of 7 non-interactive users in use`,
    details: {
      environment: ctx.envName,
      enabledNonInteractiveUsers: n,
      cap: NON_INTERACTIVE_CAP,
      warnAt: settings.nonInteractiveWarnAt,
      users: nonInteractive.map((row) => row.domainName),
    },
  });
}

/** The checks of one systemuser row, in the order they are reported. */
function rowFindings(ctx: EnvironmentContext, row: SystemUser): Finding[] {
  if (isApplicationUser(row)) return row.isDisabled ? [applicationUserDisabled(ctx, row)] : [];
  const user = row.entraObjectId ? ctx.directory.users.get(row.entraObjectId) ?? null : null;
  const found: (Finding | null)[] = [nonInteractiveLicensed(ctx, row, user), administrativeLicensed(ctx, row, user)];
  if (isRegularUser(row)) {
    if (!row.isDisabled) found.push(enabledUserIneligible(ctx, row, user), enabledUserWithoutRole(ctx, row, user));
    if (user) found.push(profileDrift(ctx, row, user));
  }
  return found.filter((f): f is Finding => f !== null);
}

/** dataverse.application-user-disabled (T2) */
function applicationUserDisabled(ctx: EnvironmentContext, row: SystemUser): Finding {
  return findingOf('dataverse.application-user-disabled', {
    targetId: ctx.envId,
    subjectId: row.applicationId!,
    severity: 'warning',
    title: `${ctx.envName}: application user ${row.fullName ?? row.domainName ?? row.applicationId} is disabled`,
    details: { environment: ctx.envName, applicationId: row.applicationId, systemUserId: row.id, name: row.fullName, domainName: row.domainName },
  });
}

/** dataverse.non-interactive-licensed (T3): enabled or not, the license is wasted. */
function nonInteractiveLicensed(ctx: EnvironmentContext, row: SystemUser, user: DirectoryUser | null): Finding | null {
  if (!isNonInteractiveUser(row) || !user || !holdsAnyLicense(user)) return null;
  return findingOf('dataverse.non-interactive-licensed', {
    targetId: ctx.envId,
    subjectId: user.id,
    severity: 'warning',
    title: `${ctx.envName}: non-interactive user ${user.userPrincipalName} still holds a license`,
    details: {
      environment: ctx.envName,
      userPrincipalName: user.userPrincipalName,
      licenses: licenseNamesOf(user, ctx.directory.catalog),
      systemUserId: row.id,
      monthlyCost: monthlyCostOf(user.assignedSkuIds, ctx.directory.catalog.prices),
    },
  });
}

/** dataverse.administrative-licensed (A2) */
function administrativeLicensed(ctx: EnvironmentContext, row: SystemUser, user: DirectoryUser | null): Finding | null {
  if (row.accessMode !== AccessMode.Administrative || !user || !holdsEnvironmentLicense(user, ctx.directory.catalog)) return null;
  return findingOf('dataverse.administrative-licensed', {
    targetId: ctx.envId,
    subjectId: user.id,
    severity: 'warning',
    title: `${ctx.envName}: administrative user ${user.userPrincipalName} holds an environment license`,
    details: {
      environment: ctx.envName,
      userPrincipalName: user.userPrincipalName,
      licenses: environmentLicensesOf(user, ctx.directory.catalog),
      systemUserId: row.id,
      monthlyCost: monthlyCostOf(user.assignedSkuIds.filter((id) => ctx.directory.catalog.environmentSkuIds.has(id)), ctx.directory.catalog.prices),
    },
  });
}

/** dataverse.enabled-user-ineligible (D4): an enabled regular row; the remediation of each D4 condition it fails. */
function enabledUserIneligible(ctx: EnvironmentContext, row: RegularRow, user: DirectoryUser | null): Finding | null {
  const { environment } = ctx;
  const eligibility = evaluateEligibility({
    user,
    environment,
    catalog: ctx.directory.catalog,
    adminRoles: user ? adminRolesOf(ctx.directory, user.id) : new Set<never>(),
    group: environment.securityGroupId ? groupStanding(ctx.group, environment.securityGroupId, row.entraObjectId, ctx.groupIndex) : null,
    row,
  });
  if (!failsD4(eligibility)) return null;
  const d4 = eligibility.reasons.filter((r) => r.factId.startsWith('D4'));
  return findingOf('dataverse.enabled-user-ineligible', {
    targetId: ctx.envId,
    subjectId: row.entraObjectId,
    severity: 'warning',
    title: `${ctx.envName}: ${user?.userPrincipalName ?? row.domainName ?? row.entraObjectId} is enabled but no longer meets the requirements (${d4.map((r) => r.factId).join(', ')})`,
    details: {
      environment: ctx.envName,
      userPrincipalName: user?.userPrincipalName ?? null,
      domainName: row.domainName,
      systemUserId: row.id,
      failed: d4.map((r) => ({ factId: r.factId, message: r.message })),
    },
    remediation: d4.map((r) => r.remediation).join(' '),
  });
}

/** dataverse.enabled-user-without-role (U3): read-write, no role directly nor through a team (group teams from Entra, U4). */
function enabledUserWithoutRole(ctx: EnvironmentContext, row: RegularRow, user: DirectoryUser | null): Finding | null {
  if (row.accessMode !== AccessMode.ReadWrite || row.roleIds.length > 0 || ctx.teamRolesByMember.has(row.id)) return null;
  if (user && ctx.groupTeams.length > 0 && groupTeamsOf(ctx.groupTeams, (id) => ctx.groupPeople.get(id), user).length > 0) return null;
  return findingOf('dataverse.enabled-user-without-role', {
    targetId: ctx.envId,
    subjectId: row.entraObjectId,
    severity: 'info',
    title: `${ctx.envName}: ${user?.userPrincipalName ?? row.domainName} has no security role`,
    details: { environment: ctx.envName, userPrincipalName: user?.userPrincipalName ?? row.domainName, systemUserId: row.id },
  });
}

/** dataverse.profile-drift (P1) */
function profileDrift(ctx: EnvironmentContext, row: RegularRow, user: DirectoryUser): Finding | null {
  const differences = profileDifferences(user, row.profile);
  if (differences.length === 0) return null;
  return findingOf('dataverse.profile-drift', {
    targetId: ctx.envId,
    subjectId: user.id,
    severity: 'info',
    title: `${ctx.envName}: profile of ${user.userPrincipalName} differs from Entra ID (${differences.map((d) => d.systemuserField).join(', ')})`,
    details: { environment: ctx.envName, userPrincipalName: user.userPrincipalName, systemUserId: row.id, differences },
  });
}

/** dataverse.nested-security-group (E4) */
function nestedSecurityGroups(ctx: EnvironmentContext): Finding[] {
  const { group } = ctx;
  return (group?.members ?? [])
    .filter((member) => member.kind === 'group')
    .map((member) =>
      findingOf('dataverse.nested-security-group', {
        targetId: ctx.envId,
        subjectId: member.id,
        severity: 'warning',
        title: `${ctx.envName}: group "${member.displayName ?? member.id}" is nested in the security group "${group?.displayName}"`,
        details: { environment: ctx.envName, securityGroup: group?.displayName, securityGroupId: ctx.environment.securityGroupId, nestedGroup: member.displayName, nestedGroupId: member.id },
      }),
    );
}

/** dataverse.eligible-user-missing (D1, D5): the background sync should have added them. */
function eligibleUsersMissing(ctx: EnvironmentContext, systemUsers: readonly SystemUser[]): Finding[] {
  const { environment, directory } = ctx;
  if (environment.type !== 'Production' && environment.type !== 'Sandbox' && environment.type !== 'Default') return [];
  const withRow = new Set(systemUsers.map((r) => r.entraObjectId).filter((id): id is string => id !== null));
  const findings: Finding[] = [];
  for (const member of ctx.group?.members ?? []) {
    if (member.kind !== 'user' || withRow.has(member.id)) continue;
    const user = directory.users.get(member.id);
    if (!user || !user.accountEnabled) continue;
    const isAdmin = adminRolesOf(directory, user.id).size > 0;
    if (!holdsEnvironmentLicense(user, directory.catalog) && !isAdmin) continue;
    findings.push(
      findingOf('dataverse.eligible-user-missing', {
        targetId: ctx.envId,
        subjectId: user.id,
        severity: 'info',
        title: `${ctx.envName}: ${user.userPrincipalName} is entitled but has no systemuser yet`,
        details: { environment: ctx.envName, userPrincipalName: user.userPrincipalName, licenses: environmentLicensesOf(user, directory.catalog), administrator: isAdmin },
      }),
    );
  }
  return findings;
}

/** For the cross-environment check: which regular rows exist and whether they are disabled. */
export function summarizeEnvironmentUsers(
  environmentId: string,
  systemUsers: readonly SystemUser[],
  directory?: Pick<DirectorySnapshot, 'users'>,
): EnvironmentUserSummary {
  const summary: EnvironmentUserSummary = { environmentId, enabled: [], disabled: [] };
  for (const row of systemUsers) {
    if (!isRegularUser(row)) continue;
    // The directory's copy of the id where there is one: a run holds every environment's summary.
    const id = directory?.users.get(row.entraObjectId)?.id ?? row.entraObjectId;
    (row.isDisabled ? summary.disabled : summary.enabled).push(id);
  }
  return summary;
}
