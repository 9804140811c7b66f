import { evaluateEligibility, failsD4, type GroupStanding } from '../../domain/eligibility.js';
import type { Finding } from '../../domain/finding.js';
import { environmentLicensesOf, holdsAnyLicense, holdsEnvironmentLicense, licenseNamesOf } from '../../domain/licenses.js';
import { AccessMode, type SecurityGroup, type SystemUser } from '../../domain/model.js';
import { profileDifferences } from '../../domain/profile-sync.js';
import { isApplicationUser, isNonInteractiveUser, isRegularUser } from '../../domain/user-kinds.js';
import { adminRolesOf, type DirectorySnapshot, type EnvironmentData, type EnvironmentUserSummary } from '../snapshot.js';

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

/** Every check of SPEC §2 whose target is one environment. */
export function runEnvironmentChecks(directory: DirectorySnapshot, data: EnvironmentData, settings: EnvironmentCheckSettings): Finding[] {
  const { environment, systemUsers, teams } = data;
  const envId = environment.id;
  const envName = environment.displayName;
  const findings: Finding[] = [];
  const group = environment.securityGroupId ? directory.groups.get(environment.securityGroupId) : undefined;
  const groupIndex = group ? indexGroup(group) : undefined;

  // dataverse.non-interactive-cap (T3): application users do not count.
  const nonInteractive = systemUsers.filter((row) => isNonInteractiveUser(row) && !row.isDisabled);
  const n = nonInteractive.length;
  if (n >= settings.nonInteractiveWarnAt || n >= NON_INTERACTIVE_CAP) {
    findings.push({
      checkId: 'dataverse.non-interactive-cap',
      targetId: envId,
      subjectId: 'cap',
      severity: n >= NON_INTERACTIVE_CAP ? 'critical' : 'warning',
      title:
        n >= NON_INTERACTIVE_CAP
          ? `${envName}: ${n} enabled non-interactive users, the cap of 7 is reached`
          : `${envName}: ${n} of 7 non-interactive users in use`,
      details: {
        environment: envName,
        enabledNonInteractiveUsers: n,
        cap: NON_INTERACTIVE_CAP,
        warnAt: settings.nonInteractiveWarnAt,
        users: nonInteractive.map((row) => row.domainName),
      },
      remediation:
        'An environment allows at most 7 non-interactive users (T3). Disable the ones no longer used, or move integrations to application users, which have no limit (T2).',
    });
  }

  const teamRolesByMember = new Map<string, number>();
  for (const team of teams) {
    if (team.roleIds.length === 0) continue;
    for (const member of team.memberIds) teamRolesByMember.set(member, (teamRolesByMember.get(member) ?? 0) + team.roleIds.length);
  }

  for (const row of systemUsers) {
    // dataverse.application-user-disabled (T2)
    if (isApplicationUser(row)) {
      if (row.isDisabled) {
        findings.push({
          checkId: 'dataverse.application-user-disabled',
          targetId: envId,
          subjectId: row.applicationId!,
          severity: 'warning',
          title: `${envName}: application user ${row.fullName ?? row.domainName ?? row.applicationId} is disabled`,
          details: { environment: envName, applicationId: row.applicationId, systemUserId: row.id, name: row.fullName, domainName: row.domainName },
          remediation:
            'A disabled application user breaks every integration that uses it (T2). Re-enable it if an integration still needs it, or delete it together with its app registration.',
        });
      }
      continue;
    }
    const objectId = row.entraObjectId;
    const user = objectId ? directory.users.get(objectId) ?? null : null;

    // dataverse.non-interactive-licensed (T3): enabled or not, the license is wasted.
    if (isNonInteractiveUser(row) && user && holdsAnyLicense(user)) {
      findings.push({
        checkId: 'dataverse.non-interactive-licensed',
        targetId: envId,
        subjectId: user.id,
        severity: 'warning',
        title: `${envName}: non-interactive user ${user.userPrincipalName} still holds a license`,
        details: { environment: envName, userPrincipalName: user.userPrincipalName, licenses: licenseNamesOf(user, directory.catalog), systemUserId: row.id },
        remediation: 'Non-interactive users need no license: remove it from the Entra account to reuse it (T3).',
      });
    }

    // dataverse.administrative-licensed (A2)
    if (row.accessMode === AccessMode.Administrative && user && holdsEnvironmentLicense(user, directory.catalog)) {
      findings.push({
        checkId: 'dataverse.administrative-licensed',
        targetId: envId,
        subjectId: user.id,
        severity: 'warning',
        title: `${envName}: administrative user ${user.userPrincipalName} holds an environment license`,
        details: { environment: envName, userPrincipalName: user.userPrincipalName, licenses: environmentLicensesOf(user, directory.catalog), systemUserId: row.id },
        remediation: 'Administrative access mode needs no license after setup: remove the license once the access mode is set (A2).',
      });
    }

    if (!isRegularUser(row)) continue;

    // dataverse.enabled-user-ineligible (D4)
    if (!row.isDisabled) {
      const roles = user ? adminRolesOf(directory, user.id) : new Set<never>();
      const eligibility = evaluateEligibility({
        user,
        environment,
        catalog: directory.catalog,
        adminRoles: roles,
        group: environment.securityGroupId ? groupStanding(group, environment.securityGroupId, row.entraObjectId, groupIndex) : null,
        row,
      });
      if (failsD4(eligibility)) {
        const d4 = eligibility.reasons.filter((r) => r.factId.startsWith('D4'));
        findings.push({
          checkId: 'dataverse.enabled-user-ineligible',
          targetId: envId,
          subjectId: row.entraObjectId,
          severity: 'warning',
          title: `${envName}: ${user?.userPrincipalName ?? row.domainName ?? row.entraObjectId} is enabled but no longer meets the requirements (${d4.map((r) => r.factId).join(', ')})`,
          details: {
            environment: envName,
            userPrincipalName: user?.userPrincipalName ?? null,
            domainName: row.domainName,
            systemUserId: row.id,
            failed: d4.map((r) => ({ factId: r.factId, message: r.message })),
          },
          remediation: d4.map((r) => r.remediation).join(' '),
        });
      }

      // dataverse.enabled-user-without-role (U3)
      if (row.accessMode === AccessMode.ReadWrite && row.roleIds.length === 0 && !teamRolesByMember.has(row.id)) {
        findings.push({
          checkId: 'dataverse.enabled-user-without-role',
          targetId: envId,
          subjectId: row.entraObjectId,
          severity: 'info',
          title: `${envName}: ${user?.userPrincipalName ?? row.domainName} has no security role`,
          details: { environment: envName, userPrincipalName: user?.userPrincipalName ?? row.domainName, systemUserId: row.id },
          remediation: 'A user without a security role, direct or through a team, cannot use the apps (U3): assign a role or add the user to a team that has one.',
        });
      }
    }

    // dataverse.profile-drift (P1)
    if (user) {
      const differences = profileDifferences(user, row.profile);
      if (differences.length > 0) {
        findings.push({
          checkId: 'dataverse.profile-drift',
          targetId: envId,
          subjectId: user.id,
          severity: 'info',
          title: `${envName}: profile of ${user.userPrincipalName} differs from Entra ID (${differences.map((d) => d.systemuserField).join(', ')})`,
          details: { environment: envName, userPrincipalName: user.userPrincipalName, systemUserId: row.id, differences },
          remediation: 'These fields are synced from Entra ID (P1): force a sync of the user (D1) to refresh them; edit them in Entra ID, not in Dataverse.',
        });
      }
    }
  }

  if (environment.securityGroupId) {
    // dataverse.nested-security-group (E4)
    for (const member of group?.members ?? []) {
      if (member.kind !== 'group') continue;
      findings.push({
        checkId: 'dataverse.nested-security-group',
        targetId: envId,
        subjectId: member.id,
        severity: 'warning',
        title: `${envName}: group "${member.displayName ?? member.id}" is nested in the security group "${group?.displayName}"`,
        details: { environment: envName, securityGroup: group?.displayName, securityGroupId: environment.securityGroupId, nestedGroup: member.displayName, nestedGroupId: member.id },
        remediation: "Nested groups in an environment's security group are not supported and are ignored (E4): add their members directly to the security group.",
      });
    }

    // dataverse.eligible-user-missing (D1, D5): the background sync should have added them.
    if (environment.type === 'Production' || environment.type === 'Sandbox' || environment.type === 'Default') {
      const withRow = new Set(systemUsers.map((r) => r.entraObjectId).filter((id): id is string => id !== null));
      for (const member of group?.members ?? []) {
        if (member.kind !== 'user' || withRow.has(member.id)) continue;
        const user = directory.users.get(member.id);
        if (!user || !user.accountEnabled) continue;
        const isAdmin = adminRolesOf(directory, user.id).size > 0;
        if (!holdsEnvironmentLicense(user, directory.catalog) && !isAdmin) continue;
        findings.push({
          checkId: 'dataverse.eligible-user-missing',
          targetId: envId,
          subjectId: user.id,
          severity: 'info',
          title: `${envName}: ${user.userPrincipalName} is entitled but has no systemuser yet`,
          details: {
            environment: envName,
            userPrincipalName: user.userPrincipalName,
            licenses: environmentLicensesOf(user, directory.catalog),
            administrator: isAdmin,
          },
          remediation: 'The background sync adds entitled users periodically (D1); to add the user now, force a sync (POST …/users/{user}/sync, the admin center, or the user signs in).',
        });
      }
    }
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
