import type { CollectionMode as RunCollectionMode } from '../domain/finding.js';
import type { DirectoryUser, SecurityGroup, SystemUser } from '../domain/model.js';
import { compactDirectoryUser, StringPool } from '../domain/string-pool.js';
import type { ClaimStore } from '../gateways/storage/claims.js';
import type { EnvironmentUserSummary } from './snapshot.js';

/**
 * SPEC §9: what an incremental run applies the changes to, per target: the delta links of the last
 * successful run and the data it collected (the directory; an environment's rows and their roles).
 * Kept gzipped in Blob Storage (through the claim store, in its own container). A run writes its
 * target's state under its run id (`{target}/runs/{runId}`), and only once the target succeeded
 * does it point `{target}/current` at it: a failed night leaves the previous state, and its links,
 * in force, so the next run reads the changes of both nights.
 */

/**
 * 3: JSON lines, the records of each list packed as arrays of their values, the directory's groups
 * before its users (format 1 was one JSON document, format 2 had the users first; a state of
 * another format reads as none, so the run after an upgrade is full).
 */
export const DELTA_STATE_FORMAT = 3;

/** The blob container of the delta state (beside `audit-claims`). */
export const DELTA_STATE_CONTAINER = 'audit-delta-state';

/** Why a target was read in full or only for its changes (the run record says it). */
export type CollectionReason = 'no-token' | 'token-refused' | 'requested' | 'scheduled' | 'not-supported' | 'changes-since-last-run';

export type CollectionMode = RunCollectionMode & { reason: CollectionReason };

/** The tenant target's state: the directory as the last run left it, and its delta links. */
export interface DirectoryDeltaState {
  format: typeof DELTA_STATE_FORMAT;
  /** When the last full read was (the schedule of full runs counts from it). */
  fullAt: string;
  usersLink: string;
  /** The `/groups/delta` link of `groupIds` (null when they are more than one round takes). */
  groupsLink: string | null;
  /** The environments' security groups the link tracks, lower-case, sorted. */
  groupIds: string[];
  users: DirectoryUser[];
  groups: SecurityGroup[];
  signInActivityAvailable: boolean;
}

/** An environment's state: its rows (without roles), the roles given directly, and their links. */
export interface EnvironmentDeltaState {
  format: typeof DELTA_STATE_FORMAT;
  fullAt: string;
  systemUsersLink: string;
  roleAssignmentsLink: string;
  rows: SystemUser[];
  /** `[intersect row id, systemuserid, roleid]`. */
  roleAssignments: [string, string, string][];
  /** What else its checks read when this state was written (lib/audit/inputs-key.ts). */
  inputsKey?: string;
  /** Its summary for the cross-environment check, as of this state. */
  summary?: EnvironmentUserSummary;
}

/** An environment's state without its rows: the first line of what is kept. */
export type EnvironmentDeltaHeader = Omit<EnvironmentDeltaState, 'rows' | 'roleAssignments'>;

/** The directory's state without its users and groups: the first line of what is kept. */
export type DirectoryDeltaHeader = Omit<DirectoryDeltaState, 'users' | 'groups'>;

/**
 * The state in force for a target: its first line at once, the whole of it when the changes need
 * it (null when it went meanwhile: a newer run committed its own).
 */
export interface KeptState<H, T> {
  header: H;
  load(): Promise<T | null>;
}

export type KeptEnvironmentState = KeptState<EnvironmentDeltaHeader, EnvironmentDeltaState>;
export interface KeptDirectoryState extends KeptState<DirectoryDeltaHeader, DirectoryDeltaState> {
  /** Its groups alone (the lines before the users); null when it went meanwhile. */
  groups(): Promise<SecurityGroup[] | null>;
}

interface Pointer {
  runId: string;
  format?: number;
  /** The first line of the state, when the run that committed it had it at hand: one read less per target and night. */
  header?: Record<string, unknown>;
}

const TENANT_TARGET = 'tenant';

type DeltaState = DirectoryDeltaState | EnvironmentDeltaState;

/**
 * The lists of a state (one line each of their records), in the order they are written; the rest
 * of it is the first line. The groups come before the users, so that they can be read alone.
 */
const LISTS = ['groups', 'users', 'rows', 'roleAssignments'] as const;
type ListName = (typeof LISTS)[number];

/**
 * A state as JSON lines: first its scalars and the field names of each list, then a line per record
 * (`[list, ...values in field order]`; a record of another shape keeps its keys: `[list*, {…}]`).
 * Field names are written once, not once per user (a 100,000-user directory is half key names in
 * plain JSON), and no line is more than one record, so neither writing nor reading holds the whole
 * state as one string (SPEC §9, issue 15: the data kept between runs is compact).
 */
export function* stateLines(state: DeltaState): Generator<unknown> {
  const fields: Partial<Record<ListName, string[]>> = {};
  for (const list of LISTS) {
    const first = (state as unknown as Record<string, unknown[] | undefined>)[list]?.[0];
    if (first && typeof first === 'object' && !Array.isArray(first)) fields[list] = Object.keys(first);
  }
  yield { ...headerOf(state), fields, lists: LISTS.filter((list) => list in state) };
  for (const list of LISTS) {
    const records = (state as unknown as Record<string, unknown[] | undefined>)[list];
    const names = fields[list];
    for (const record of records ?? []) {
      if (Array.isArray(record)) yield [list, ...record];
      else if (names && sameKeys(record as object, names)) yield [list, ...names.map((name) => (record as Record<string, unknown>)[name])];
      else yield [`${list}*`, record];
    }
  }
}

/** A state without its lists: what its first line holds. */
function headerOf(state: DeltaState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).filter(([key]) => !(LISTS as readonly string[]).includes(key)));
}

function sameKeys(record: object, names: string[]): boolean {
  const keys = Object.keys(record);
  // A key whose value is undefined is not written by JSON: such a record keeps its keys.
  return keys.length === names.length && keys.every((key, index) => key === names[index] && (record as Record<string, unknown>)[key] !== undefined);
}

/** The first line of a state `stateLines` wrote: everything but its lists; the rest is not read. */
export async function headerFromLines<T>(values: AsyncIterable<unknown>): Promise<T | null> {
  for await (const value of values) {
    const { fields: _fields, lists: _lists, ...header } = value as Record<string, unknown>;
    return header.format === DELTA_STATE_FORMAT ? (header as T) : null;
  }
  return null;
}

/** How a list's records are made compact as they are read (one pool for the whole state). */
export type Compaction = Partial<Record<ListName, (record: never, pool: StringPool) => unknown>>;

/**
 * The state `stateLines` wrote, read line by line. Each JSON line gives its record fresh strings
 * and lists: `compaction` makes the records of a list share them instead, as a Graph read does.
 */
export async function stateFromLines<T extends DeltaState>(values: AsyncIterable<unknown>, compaction: Compaction = {}, onlyList?: ListName): Promise<T | null> {
  const pool = new StringPool();
  let state: Record<string, unknown> | null = null;
  let fields: Partial<Record<ListName, string[]>> = {};
  for await (const value of values) {
    if (!state) {
      const { fields: names, lists, ...header } = value as Record<string, unknown> & { fields: typeof fields; lists: ListName[] };
      if (header.format !== DELTA_STATE_FORMAT) return null;
      fields = names;
      state = header;
      for (const list of lists) state[list] = [];
      continue;
    }
    const [tag, ...rest] = value as [string, ...unknown[]];
    const list = tag.replace(/\*$/, '') as ListName;
    // Lists are written one after the other: the first record of another list ends the one asked for.
    if (onlyList !== undefined && list !== onlyList) break;
    const names = fields[list];
    const record = tag.endsWith('*') ? rest[0] : names ? Object.fromEntries(names.map((name, index) => [name, rest[index]])) : rest;
    const compact = compaction[list];
    (state[list] as unknown[]).push(compact ? compact(record as never, pool) : record);
  }
  return state as T | null;
}

export class DeltaStateStore {
  constructor(private readonly blobs: Pick<ClaimStore, 'put' | 'get' | 'putLines' | 'getLines'>) {}

  /** A target's state in force, its first line read now and the rest on demand; null when there is none (or of another format). */
  private async kept<H, T extends DeltaState>(targetId: string, compaction: Compaction = {}): Promise<(KeptState<H, T> & { runId: string }) | null> {
    const pointer = await this.blobs.get<Pointer>(targetId, 'current');
    if (!pointer || pointer.format !== DELTA_STATE_FORMAT) return null;
    let header: H | null = pointer.header ? (pointer.header as H) : null;
    if (!header) {
      const lines = await this.blobs.getLines(targetId, `runs/${pointer.runId}`);
      header = lines ? await headerFromLines<H>(lines) : null;
    }
    if (!header) return null;
    return {
      header,
      runId: pointer.runId,
      load: async () => {
        const all = await this.blobs.getLines(targetId, `runs/${pointer.runId}`);
        return all ? stateFromLines<T>(all, compaction) : null;
      },
    };
  }

  keptEnvironment(targetId: string): Promise<KeptEnvironmentState | null> {
    return this.kept(targetId);
  }

  /** Users read back share one copy of each repeated value and list (lib/domain/string-pool.ts). */
  async keptDirectory(): Promise<KeptDirectoryState | null> {
    const kept = await this.kept<DirectoryDeltaHeader, DirectoryDeltaState>(TENANT_TARGET, { users: compactDirectoryUser });
    if (!kept) return null;
    return {
      ...kept,
      groups: async () => {
        const lines = await this.blobs.getLines(TENANT_TARGET, `runs/${kept.runId}`);
        const state = lines ? await stateFromLines<DirectoryDeltaState>(lines, {}, 'groups') : null;
        return state ? state.groups : null;
      },
    };
  }

  /** The key of what the tenant's checks were last evaluated on (lib/audit/inputs-key.ts `tenantInputsKey`). */
  async tenantCheckedOn(): Promise<string | null> {
    return (await this.blobs.get<{ key: string }>(TENANT_TARGET, 'checked'))?.key ?? null;
  }

  /** The tenant's findings of a run are recorded: they were evaluated on this key. */
  noteTenantChecked(key: string): Promise<void> {
    return this.blobs.put(TENANT_TARGET, 'checked', { key });
  }

  /** Writes a run's state for a target, not yet in force. */
  stage(targetId: string, runId: string, state: DeltaState): Promise<void> {
    return this.blobs.putLines(targetId, `runs/${runId}`, stateLines(state));
  }

  /** The target succeeded in this run: its staged state (given when at hand, for its first line) is the one in force. */
  commit(targetId: string, runId: string, staged?: DeltaState): Promise<void> {
    return this.blobs.put(targetId, 'current', { runId, format: DELTA_STATE_FORMAT, ...(staged ? { header: headerOf(staged) } : {}) } satisfies Pointer);
  }

}

/** SPEC §9: the last full read is at least `everyDays` old (a Graph delta token also lasts 7 days). */
export function fullRunDue(fullAt: string, now: Date, everyDays: number): boolean {
  return now.getTime() - Date.parse(fullAt) >= everyDays * 24 * 3600 * 1000;
}
