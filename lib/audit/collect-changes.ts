import { isGroupTeam } from '../domain/group-teams.js';
import { buildLicenseCatalog, type LicenseSettings } from '../domain/licenses.js';
import type { DataverseTeam, DirectoryUser, Environment, SecurityGroup, SystemUser } from '../domain/model.js';
import type { DataverseChanges } from '../gateways/dataverse/port.js';
import type { DirectoryChanges, GroupChange } from '../gateways/graph/port.js';
import { allChanges, isRefusedDeltaToken, type DeltaPages } from '../gateways/http/delta.js';
import { allPages } from '../gateways/http/pages.js';
import { collectDirectory, collectEnvironment, type AuditSources } from './collect.js';
import { DELTA_STATE_FORMAT, type CollectionMode, type CollectionReason, type DirectoryDeltaState, type EnvironmentDeltaState, type KeptDirectoryState, type KeptEnvironmentState } from './delta-state.js';
import { environmentInputsKey } from './inputs-key.js';
import { directoryRead, type DirectoryHead, type DirectoryRead, type DirectorySnapshot, type EnvironmentData, type EnvironmentUserSummary } from './snapshot.js';

/**
 * SPEC §9, collection by changes: the directory and each environment are read in full when there is
 * no state to apply changes to (or a full run is due or asked for), else only what changed since the
 * last successful run is read and applied to its state. A refused token falls back to a full read.
 * A full read also starts the links of the next run, so the night after it can be incremental.
 */

/** A full read is wanted for this reason; null: the changes will do when there is a state. */
export type FullReason = Extract<CollectionReason, 'requested' | 'scheduled'> | null;

const GROUP_ROUND_IDS = 50;

const lower = (id: string) => id.toLowerCase();

/** The environments' security groups, lower-case, sorted: what a `/groups/delta` link tracks. */
function securityGroupIds(environments: readonly Environment[]): string[] {
  return [...new Set(environments.map((e) => e.securityGroupId).filter((id): id is string => !!id).map(lower))].sort();
}

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);

function deltaLinkOf<T>(pages: DeltaPages<T>): Promise<string> {
  return allChanges(pages).then((round) => round.deltaLink);
}

/**
 * A changed user as delta reads it, over what the state held: `signInActivity` and the licence
 * assignment errors are not tracked by delta (SPEC §9), so the last full read's stay, and a licence
 * in error then stays not held (L3).
 */
export function mergeUser(previous: DirectoryUser | undefined, changed: DirectoryUser): DirectoryUser {
  const licenseErrors = previous?.licenseErrors ?? [];
  const failed = new Set(licenseErrors.map((e) => e.skuId.toLowerCase()));
  return {
    ...changed,
    assignedSkuIds: failed.size === 0 ? changed.assignedSkuIds : changed.assignedSkuIds.filter((id) => !failed.has(id.toLowerCase())),
    signInActivity: previous?.signInActivity ?? null,
    licenseErrors,
  };
}

/** A group's members after a delta round's `members@delta`. */
export function applyGroupChange(previous: SecurityGroup | undefined, change: GroupChange): SecurityGroup {
  const removed = new Set(change.membersRemoved.map(lower));
  const members = (previous?.members ?? []).filter((m) => !removed.has(lower(m.id)));
  const known = new Set(members.map((m) => lower(m.id)));
  for (const member of change.membersAdded) if (!known.has(lower(member.id))) members.push(member);
  return { id: previous?.id ?? change.id, displayName: change.displayName ?? previous?.displayName ?? '', members, ownerIds: previous?.ownerIds ?? [] };
}

export interface DirectoryCollection {
  directory: DirectoryRead;
  /** The state for the next run; null when the gateway cannot read changes, or nothing changed. */
  state: DirectoryDeltaState | null;
  /** The delta links of the state in force after this run (lib/audit/inputs-key.ts); null without one. */
  links: (string | null)[] | null;
  collection: CollectionMode;
}

type ChangeableDirectory = AuditSources['directory'] & Partial<DirectoryChanges>;

export async function collectDirectoryChanges(
  directory: ChangeableDirectory,
  environments: readonly Environment[],
  settings: LicenseSettings,
  previous: KeptDirectoryState | null,
  wantFull: FullReason,
  now: Date,
): Promise<DirectoryCollection> {
  const changes = directory.userChanges && directory.groupChanges ? (directory as ChangeableDirectory & DirectoryChanges) : null;
  if (!changes) return { directory: directoryRead(await collectDirectory(directory, environments, settings)), state: null, links: null, collection: { mode: 'full', reason: 'not-supported' } };
  if (previous && !wantFull) {
    try {
      return (await readDirectoryChanges(changes, environments, settings, previous)) ?? (await readDirectoryInFull(changes, environments, settings, now, 'no-token'));
    } catch (error) {
      if (!isRefusedDeltaToken(error)) throw error;
      return readDirectoryInFull(changes, environments, settings, now, 'token-refused');
    }
  }
  return readDirectoryInFull(changes, environments, settings, now, wantFull ?? 'no-token');
}

/** The links first, then the full read: a change in between is read twice, never missed. */
async function readDirectoryInFull(
  directory: ChangeableDirectory & DirectoryChanges,
  environments: readonly Environment[],
  settings: LicenseSettings,
  now: Date,
  reason: CollectionReason,
): Promise<DirectoryCollection> {
  const groupIds = securityGroupIds(environments);
  const [usersLink, groupsLink] = await Promise.all([
    deltaLinkOf(directory.userChanges('latest')),
    groupIds.length > 0 && groupIds.length <= GROUP_ROUND_IDS ? deltaLinkOf(directory.groupChanges(groupIds, 'latest')) : Promise.resolve(null),
  ]);
  const snapshot = await collectDirectory(directory, environments, settings);
  const state: DirectoryDeltaState = {
    format: DELTA_STATE_FORMAT,
    fullAt: now.toISOString(),
    usersLink,
    groupsLink,
    groupIds,
    users: [...snapshot.users.values()],
    groups: [...snapshot.groups.values()],
    signInActivityAvailable: snapshot.signInActivityAvailable,
  };
  return { directory: directoryRead(snapshot), state, links: [usersLink, groupsLink], collection: { mode: 'full', reason } };
}

/**
 * The changes are read while the groups of the state they apply to are read back (its first line
 * names the links). When neither the users nor the groups changed, the users of the state are read
 * back only if a check needs them. Null when the state went meanwhile (a newer run committed its
 * own): the caller reads in full.
 */
async function readDirectoryChanges(
  directory: ChangeableDirectory & DirectoryChanges,
  environments: readonly Environment[],
  settings: LicenseSettings,
  kept: KeptDirectoryState,
): Promise<DirectoryCollection | null> {
  const header = kept.header;
  const groupIds = securityGroupIds(environments);
  const groupsTracked = header.groupsLink !== null && sameIds(groupIds, header.groupIds);
  const [usersRound, groupsRound, skus, adminRoles, keptGroups] = await Promise.all([
    allChanges(directory.userChanges(header.usersLink)),
    groupsTracked
      ? allChanges(directory.groupChanges(groupIds, header.groupsLink!))
      : // A new set of security groups: theirs is read in full, with a link for the next run.
        Promise.all([
          directory.getSecurityGroups(groupIds),
          groupIds.length > 0 && groupIds.length <= GROUP_ROUND_IDS ? deltaLinkOf(directory.groupChanges(groupIds, 'latest')) : Promise.resolve(null),
        ]),
    allPages(directory.listSubscribedSkus()),
    directory.getAdminRoleMembers(),
    kept.groups(),
  ]);
  if (!keptGroups) return null;
  let groups: Map<string, SecurityGroup>;
  let groupsLink: string | null;
  let groupsChanged: number;
  if (Array.isArray(groupsRound)) {
    [groups, groupsLink] = [byOriginalIds(groupsRound[0], environments), groupsRound[1]];
    groupsChanged = Number.POSITIVE_INFINITY;
  } else {
    const byId = new Map(keptGroups.map((g) => [lower(g.id), g]));
    for (const entry of groupsRound.entries) {
      if (entry.kind === 'removed') byId.delete(lower(entry.id));
      else byId.set(lower(entry.item.id), applyGroupChange(byId.get(lower(entry.item.id)), entry.item));
    }
    [groups, groupsLink, groupsChanged] = [byOriginalIds(byId, environments), groupsRound.deltaLink, groupsRound.entries.length];
  }
  const head: DirectoryHead = { skus, catalog: buildLicenseCatalog(skus, settings), adminRoles, groups, signInActivityAvailable: header.signInActivityAvailable };
  const incremental = { mode: 'incremental', reason: 'changes-since-last-run' } as const;
  // Nothing changed: the state in force, and its links, serve the next run as well (writing it
  // again would cost as much as reading it; SPEC §9, cost proportional to change).
  if (usersRound.entries.length + groupsChanged === 0) {
    return { directory: { head, users: once(() => usersOf(kept)) }, state: null, links: [header.usersLink, header.groupsLink], collection: { ...incremental, stateRenewed: false } };
  }
  const previous = await kept.load();
  if (!previous) return null;
  const users = usersById(previous.users);
  for (const entry of usersRound.entries) {
    if (entry.kind === 'removed') users.delete(entry.id);
    else users.set(entry.item.id, mergeUser(users.get(entry.item.id), entry.item));
  }
  const state: DirectoryDeltaState = { ...previous, usersLink: usersRound.deltaLink, groupsLink, groupIds, users: [...users.values()], groups: [...groups.values()] };
  return { directory: directoryRead({ ...head, users }), state, links: [usersRound.deltaLink, groupsLink], collection: incremental };
}

/** The users of the state in force, read back when a check first needs them. */
async function usersOf(kept: KeptDirectoryState): Promise<Map<string, DirectoryUser>> {
  const state = await kept.load();
  // Only a newer run replaces it, and it keeps the blobs of earlier runs: a missing state is a fault.
  if (!state) throw new Error('the directory state in force could not be read back');
  return usersById(state.users);
}

/** The users by id, without a pair per user on the way (a million of them at the upper end). */
function usersById(users: readonly DirectoryUser[]): Map<string, DirectoryUser> {
  const byId = new Map<string, DirectoryUser>();
  for (const user of users) byId.set(user.id, user);
  return byId;
}

/** `read` once, on the first call; its promise is shared by every later one. */
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= read());
}

/** The groups keyed by the ids the environments name (as the full read keys them). */
function byOriginalIds(groups: Map<string, SecurityGroup>, environments: readonly Environment[]): Map<string, SecurityGroup> {
  const out = new Map<string, SecurityGroup>();
  for (const id of new Set(environments.map((e) => e.securityGroupId).filter((g): g is string => !!g))) {
    const group = groups.get(id) ?? groups.get(lower(id));
    if (group) out.set(id, group);
  }
  return out;
}

// ── environments ──

export type EnvironmentCollection =
  | { data: EnvironmentData; unchanged?: undefined; state: EnvironmentDeltaState | null; collection: CollectionMode }
  /** Nothing its checks read has changed since its state was written: its findings stand (SPEC §9). */
  | { data?: undefined; unchanged: { summary: EnvironmentUserSummary }; state: null; collection: CollectionMode };

type ChangeableDataverse = AuditSources['dataverse'] & Partial<DataverseChanges>;

export async function collectEnvironmentChanges(
  sources: { dataverse: ChangeableDataverse; directory: AuditSources['directory'] },
  environment: Environment,
  knownGroups: ReadonlyMap<string, SecurityGroup>,
  kept: KeptEnvironmentState | null,
  wantFull: FullReason,
  now: Date,
  directoryKey?: string,
): Promise<EnvironmentCollection> {
  const { dataverse } = sources;
  if (!dataverse.systemUserChanges || !dataverse.roleAssignmentChanges) {
    return { data: await collectEnvironment(sources, environment, knownGroups), state: null, collection: { mode: 'full', reason: 'not-supported' } };
  }
  const changes = dataverse as ChangeableDataverse & DataverseChanges;
  const incremental = kept !== null && !wantFull;
  const read = (from: KeptEnvironmentState | null, reason: CollectionReason) => readEnvironment(sources, changes, environment, knownGroups, from, now, reason, directoryKey);
  try {
    return await read(incremental ? kept : null, wantFull ?? 'no-token');
  } catch (error) {
    if (!incremental || !isRefusedDeltaToken(error)) throw error;
    return read(null, 'token-refused');
  }
}

/**
 * The rows and the roles given directly, each by change tracking (the first round of each is every
 * row); the teams in full, with their roles and members in one page (a team's roles and members are
 * intersect rows too, and an environment has few teams). The rows kept from the last run are read
 * only when there is something to apply them to or check them for.
 */
async function readEnvironment(
  sources: { dataverse: ChangeableDataverse; directory: AuditSources['directory'] },
  dataverse: DataverseChanges,
  environment: Environment,
  knownGroups: ReadonlyMap<string, SecurityGroup>,
  kept: KeptEnvironmentState | null,
  now: Date,
  fullReason: CollectionReason,
  directoryKey: string | undefined,
): Promise<EnvironmentCollection> {
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const [rowsRound, assignmentsRound, teams] = await Promise.all([
    allChanges(dataverse.systemUserChanges(target, kept?.header.systemUsersLink ?? null)),
    allChanges(dataverse.roleAssignmentChanges(target, kept?.header.roleAssignmentsLink ?? null)),
    allPages(sources.dataverse.listTeams(target)),
  ]);
  const groupTeamGroups = await groupTeamGroupsOf(sources.directory, teams, knownGroups);
  const inputsKey = environmentInputsKey(directoryKey, teams, groupTeamGroups);
  const quiet = kept !== null && rowsRound.entries.length + assignmentsRound.entries.length === 0;
  const incremental: CollectionMode = { mode: 'incremental', reason: 'changes-since-last-run' };
  if (quiet && inputsKey !== undefined && kept.header.inputsKey === inputsKey && kept.header.summary) {
    return { unchanged: { summary: kept.header.summary }, state: null, collection: { ...incremental, stateRenewed: false } };
  }
  const previous = kept ? await kept.load() : null;
  // The state went between its first line and the rest (a newer run committed its own): read in full.
  if (kept && !previous) return readEnvironment(sources, dataverse, environment, knownGroups, null, now, 'no-token', directoryKey);
  const rows = new Map((previous?.rows ?? []).map((r) => [r.id, r]));
  for (const entry of rowsRound.entries) {
    if (entry.kind === 'removed') rows.delete(entry.id);
    else rows.set(entry.item.id, entry.item);
  }
  const assignments = new Map((previous?.roleAssignments ?? []).map(([id, user, role]) => [id, [user, role] as const]));
  for (const entry of assignmentsRound.entries) {
    if (entry.kind === 'removed') assignments.delete(entry.id);
    else assignments.set(entry.item.id, [entry.item.systemUserId, entry.item.roleId]);
  }
  const rolesByRow = new Map<string, string[]>();
  for (const [user, role] of assignments.values()) {
    const roles = rolesByRow.get(user) ?? [];
    if (!roles.includes(role)) roles.push(role);
    rolesByRow.set(user, roles);
  }
  const systemUsers: SystemUser[] = [...rows.values()].map((row) => ({ ...row, roleIds: rolesByRow.get(row.id) ?? [] }));
  const data = { environment, systemUsers, teams, groupTeamGroups };
  // Its rows and their roles did not change, nor what else it was checked against: the state stays.
  if (quiet && previous?.inputsKey === inputsKey && previous?.summary) return { data, state: null, collection: { ...incremental, stateRenewed: false } };
  const state: EnvironmentDeltaState = {
    format: DELTA_STATE_FORMAT,
    fullAt: previous?.fullAt ?? now.toISOString(),
    systemUsersLink: rowsRound.deltaLink,
    roleAssignmentsLink: assignmentsRound.deltaLink,
    rows: [...rows.values()],
    roleAssignments: [...assignments].map(([id, [user, role]]) => [id, user, role]),
    ...(inputsKey !== undefined ? { inputsKey } : {}),
  };
  const collection: CollectionMode = previous ? incremental : { mode: 'full', reason: fullReason };
  return { data, state, collection };
}

/** U4: as `collectEnvironment` reads them (the directory's groups first, the others in one batch). */
async function groupTeamGroupsOf(
  directory: AuditSources['directory'],
  teams: readonly DataverseTeam[],
  knownGroups: ReadonlyMap<string, SecurityGroup>,
): Promise<Map<string, SecurityGroup>> {
  const groups = new Map<string, SecurityGroup>();
  const known = new Map([...knownGroups].map(([id, g]) => [lower(id), g]));
  const wanted = new Set<string>();
  for (const team of teams) {
    if (!isGroupTeam(team) || team.roleIds.length === 0) continue;
    const id = lower(team.groupId);
    const group = known.get(id);
    if (group) groups.set(id, group);
    else wanted.add(id);
  }
  if (wanted.size > 0) for (const [id, group] of await directory.getSecurityGroups([...wanted])) groups.set(lower(id), group);
  return groups;
}
