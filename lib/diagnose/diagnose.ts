import {
  describeAdminRoles,
  eligibilityChecklist,
  evaluateEligibility,
  type Checklist,
  type Eligibility,
  type GroupStanding,
  type Reason,
} from '../domain/eligibility.js';
import { buildLicenseCatalog } from '../domain/licenses.js';
import { groupPeople, groupTeamsOf, isGroupTeam } from '../domain/group-teams.js';
import { AccessMode, type DataverseTeam, type DirectoryUser, type Environment, type SystemUser } from '../domain/model.js';
import { accessModeName, isApplicationUser, isNonInteractiveUser } from '../domain/user-kinds.js';
import { isGuid } from '../gateways/http/odata.js';
import { allPages } from '../gateways/http/pages.js';
import { NotFoundError } from '../domain/errors.js';
import type { AppServices } from '../services.js';

/** SPEC §3: why can (or can't) this user get into this environment? */
export interface Diagnosis {
  user: Pick<DirectoryUser, 'id' | 'userPrincipalName' | 'displayName' | 'accountEnabled' | 'userType'> | null;
  environment: Pick<Environment, 'id' | 'displayName' | 'type' | 'hasDataverse' | 'securityGroupId'>;
  verdict: 'eligible' | 'not-eligible';
  addedBy: 'background-sync' | 'on-demand' | 'none';
  expectedAccessMode: 'administrative' | 'non-interactive' | 'read-write';
  currentRow: {
    id: string;
    isdisabled: boolean;
    accessMode: number;
    accessModeName: string;
    /** `via`: assigned directly, through a team's rows, or through a group team's Entra group (U4, `group` names it). */
    roles: { id: string; name: string | null; via: 'direct' | 'team' | 'group-team'; team?: string; group?: string }[];
  } | null;
  reasons: Reason[];
  notes: Reason[];
  /** Issue 14: each requirement passed or failed with its evidence, the row, sign-in now, what happens next. */
  checklist: Checklist;
}

/** What one Graph `$batch` tells about the user and the environment's security group. */
type AccessFacts = Awaited<ReturnType<AppServices['directory']['getUserAccessFacts']>>;
type DataverseTarget = Parameters<AppServices['dataverse']['findSystemUserByEntraId']>[0];

/**
 * A handful of upstream requests, never a tenant scan: the environment (BAP), one Graph `$batch`
 * (user, memberships, admin roles, SKUs, the security group), the user's row and, when there is a
 * row, its teams and the role names (Dataverse).
 */
export async function diagnose(services: AppServices, userRef: string, environmentId: string): Promise<Diagnosis> {
  const environment = await services.environments.getEnvironment(environmentId);
  if (!environment) throw new NotFoundError('environment', environmentId);
  const facts = await services.directory.getUserAccessFacts(userRef, environment.securityGroupId);
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const row = await findRow(services, target, environment, userRef, facts.user);
  requireSomeoneToDiagnose(userRef, facts.user, row);

  const group = groupStanding(environment, facts);
  const catalog = buildLicenseCatalog(facts.skus, services.settings);
  const eligibility = evaluateEligibility({ user: facts.user, environment, catalog, adminRoles: facts.adminRoles, group, row });

  let currentRow: Diagnosis['currentRow'] = null;
  let notes: Reason[];
  if (row) {
    currentRow = await describeRow(services, target, row, facts.user);
    notes = rowNotes(row, currentRow.roles.length > 0, eligibility, facts.user);
  } else {
    notes = missingRowNotes(eligibility, environment);
  }
  const checklist = eligibilityChecklist({ user: facts.user, environment, catalog, adminRoles: facts.adminRoles, group, row }, eligibility, {
    adminRoleGroups: facts.adminRoleGroups,
    groupNames: knownGroupNames(facts, environment),
    rowHasRole: currentRow ? currentRow.roles.length > 0 : null,
  });

  return {
    user: facts.user
      ? { id: facts.user.id, userPrincipalName: facts.user.userPrincipalName, displayName: facts.user.displayName, accountEnabled: facts.user.accountEnabled, userType: facts.user.userType }
      : null,
    environment: { id: environment.id, displayName: environment.displayName, type: environment.type, hasDataverse: environment.hasDataverse, securityGroupId: environment.securityGroupId },
    verdict: eligibility.eligible ? 'eligible' : 'not-eligible',
    addedBy: eligibility.addedBy,
    expectedAccessMode: eligibility.expectedAccessMode,
    currentRow,
    reasons: eligibility.reasons,
    notes: [...notes, ...adminThroughGroupNotes(facts)],
    checklist,
  };
}

/** The names of the groups the facts hold, by id (lower case), for the checklist's evidence. */
function knownGroupNames(facts: AccessFacts, environment: Environment): Map<string, string> {
  const names = new Map<string, string>();
  const add = (id: string, name: string | null | undefined) => name && names.set(id.toLowerCase(), name);
  if (environment.securityGroupId) add(environment.securityGroupId, facts.securityGroupName);
  for (const g of [...facts.nestedGroups, ...facts.securityGroupNestedGroups, ...[...facts.adminRoleGroups.values()].flat()]) add(g.id, g.displayName);
  return names;
}

/** U5: an admin role held through a role-assignable group counts for D4's exemptions: say through which group. */
function adminThroughGroupNotes(facts: AccessFacts): Reason[] {
  return [...facts.adminRoleGroups].map(([role, groups]) => {
    const label = describeAdminRoles(new Set([role]))[0]!;
    const names = groups.map((g) => `"${g.displayName ?? g.id}"`).join(', ');
    return {
      factId: 'U5',
      message: `The user is a ${label} through ${groups.length === 1 ? 'the role-assignable group' : 'one of the role-assignable groups'} ${names || '(not readable)'}: a direct member of a group that holds the role holds it, and counts as a ${label} for D4.`,
      remediation: `Nothing to do for access. To withdraw the role, remove the user from the group, or the role assignment from the group (U5).`,
    };
  });
}

/**
 * The user's row, by the Entra object id; when Entra no longer knows the user (D4.1), by the id
 * asked for, or by the UPN asked for (the row's `domainname`, P1).
 */
async function findRow(services: AppServices, target: DataverseTarget, environment: Environment, userRef: string, user: DirectoryUser | null): Promise<SystemUser | null> {
  if (!environment.hasDataverse) return null; // D3: no rows without a database
  const objectId = user?.id ?? (isGuid(userRef) ? userRef.toLowerCase() : null);
  if (objectId) return services.dataverse.findSystemUserByEntraId(target, objectId);
  if (!userRef.includes('@')) return null;
  // A deleted user's row keeps its object id; a stub, support or delegated admin row has none (T4–T6).
  const row = await services.dataverse.findSystemUserByDomainName(target, userRef);
  return row?.entraObjectId ? row : null;
}

function requireSomeoneToDiagnose(userRef: string, user: DirectoryUser | null, row: SystemUser | null): void {
  // D4.1: an id that Entra no longer knows, but that still has a row, is a deleted user.
  if (!user && !row) throw new NotFoundError('user', userRef);
  // T2: unless the row is an application user's (a service principal, never a user in Graph): it is
  // not a deleted user, and removing its row would break every integration that uses it.
  if (!user && row && isApplicationUser(row)) {
    throw new NotFoundError(
      'user',
      userRef,
      `'${userRef}' is the Entra object of an application user (T2), not of a user: application users need no license and are not diagnosed like people; disabling one breaks every integration that uses it.`,
    );
  }
}

/** D4.3: direct member or owner of the environment's security group; nested memberships are named (E4). */
function groupStanding(environment: Environment, facts: AccessFacts): GroupStanding | null {
  if (!environment.securityGroupId) return null;
  return {
    groupId: environment.securityGroupId,
    groupName: facts.securityGroupName,
    directMember: facts.directGroupIds.includes(environment.securityGroupId),
    owner: facts.user ? facts.securityGroupOwnerIds.includes(facts.user.id) : false,
    nestedVia: facts.securityGroupNestedGroups
      .filter((g) => facts.nestedGroups.some((n) => n.id === g.id) || facts.directGroupIds.includes(g.id))
      .map((g) => ({ id: g.id, displayName: g.displayName })),
  };
}

/** The row as an admin reads it: mode by name, and every role, direct, through a team or a group team (U3, U4). */
async function describeRow(services: AppServices, target: DataverseTarget, row: SystemUser, user: DirectoryUser | null): Promise<NonNullable<Diagnosis['currentRow']>> {
  const [teams, groupTeams] = await Promise.all([allPages(services.dataverse.listTeamsOfUser(target, row.id)), groupTeamsOfUser(services, target, user)]);
  // U4: a group team's `teammembership` rows are not who holds its roles; its group is.
  const rowTeams = teams.filter((t) => !isGroupTeam(t));
  const hasRoles = row.roleIds.length > 0 || rowTeams.some((t) => t.roleIds.length > 0) || groupTeams.length > 0;
  const roleNames = hasRoles ? new Map((await allPages(services.dataverse.listRoles(target))).map((r) => [r.id, r.name])) : new Map<string, string>();
  return {
    id: row.id,
    isdisabled: row.isDisabled,
    accessMode: row.accessMode,
    accessModeName: accessModeName(row.accessMode),
    roles: [
      ...row.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? null, via: 'direct' as const })),
      ...rowTeams.flatMap((t) => t.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? null, via: 'team' as const, team: t.name }))),
      ...groupTeams.flatMap(({ team, group }) =>
        team.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? null, via: 'group-team' as const, team: team.name, group })),
      ),
    ],
  };
}

/**
 * The environment's group teams with roles whose Entra group takes the user (U4): the teams from
 * Dataverse, the groups' direct members and owners from Graph (one `$batch`, only when there are such teams).
 */
async function groupTeamsOfUser(services: AppServices, target: DataverseTarget, user: DirectoryUser | null): Promise<{ team: DataverseTeam; group: string }[]> {
  if (!user) return [];
  const teams = (await allPages(services.dataverse.listGroupTeams(target))).filter((t) => isGroupTeam(t) && t.roleIds.length > 0);
  if (teams.length === 0) return [];
  const groups = new Map(
    [...(await services.directory.getSecurityGroups([...new Set(teams.map((t) => t.groupId!.toLowerCase()))]))].map(([id, g]) => [id.toLowerCase(), g]),
  );
  const people = new Map([...groups].map(([id, g]) => [id, groupPeople(g)]));
  return groupTeamsOf(teams, (id) => people.get(id), user).map((team) => ({ team, group: groups.get(team.groupId!.toLowerCase())?.displayName ?? team.groupId! }));
}

/** Advice about an existing row that does not change the verdict: U3, D1, T3. */
function rowNotes(row: SystemUser, hasRoles: boolean, eligibility: Eligibility, user: DirectoryUser | null): Reason[] {
  const notes: Reason[] = [];
  if (!row.isDisabled && row.accessMode === AccessMode.ReadWrite && !hasRoles) {
    notes.push({
      factId: 'U3',
      message: 'The user has no security role, directly or through a team: they can sign in but cannot use the apps.',
      remediation: 'Assign a security role, or add the user to a team that has one (U3).',
    });
  }
  if (row.isDisabled && eligibility.eligible) {
    notes.push({
      factId: 'D1',
      message: 'The systemuser row is disabled although the user meets every requirement.',
      remediation: 'Force a sync (POST …/users/{user}/sync) or let the user sign in: the first sign-in re-enables an entitled user (D1).',
    });
  }
  if (eligibility.eligible && row.accessMode === AccessMode.Administrative && eligibility.expectedAccessMode !== 'administrative') {
    notes.push({
      factId: 'A2',
      message: 'The row is in Administrative mode: the user reaches settings and administration but no data, although they hold a licence, which gives Read-Write.',
      remediation: 'If the user should use the apps, set the access mode to Read-Write (PUT …/users/{user}/access-mode); if administration alone is intended, remove the licence, which Administrative mode does not need (A2).',
    });
  }
  if (isNonInteractiveUser(row) && user && user.assignedSkuIds.length > 0) {
    notes.push({
      factId: 'T3',
      message: 'The row is non-interactive but the account still holds a license.',
      remediation: 'Non-interactive users need no license: remove it to reuse it (T3).',
    });
  }
  return notes;
}

/** An eligible user without a row yet: how it will come (D1), or that the sync will not add it (D2). */
function missingRowNotes(eligibility: Eligibility, environment: Environment): Reason[] {
  if (!eligibility.eligible || !environment.hasDataverse) return [];
  const onDemand = eligibility.addedBy === 'on-demand';
  return [
    {
      factId: onDemand ? 'D2' : 'D1',
      message: onDemand
        ? 'The user has no row yet and the background sync will not add one here: it is added on demand or at first access.'
        : 'The user has no row yet; the background sync adds it within minutes (U2).',
      remediation: 'Force a sync (POST …/users/{user}/sync) or ask the user to sign in (D1).',
    },
  ];
}
