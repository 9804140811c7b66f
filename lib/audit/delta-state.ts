import type { CollectionMode as RunCollectionMode } from '../domain/finding.js';
import type { DirectoryUser, SecurityGroup, SystemUser } from '../domain/model.js';
import type { ClaimStorage } from './run-data.js';

/**
 * SPEC §9: what an incremental run applies the changes to, per target: the delta links of the last
 * successful run and the data it collected (the directory; an environment's rows and their roles).
 * Kept gzipped in Blob Storage (through the claim store, in its own container). A run writes its
 * target's state under its run id (`{target}/runs/{runId}`), and only once the target succeeded
 * does it point `{target}/current` at it: a failed night leaves the previous state, and its links,
 * in force, so the next run reads the changes of both nights.
 */

export const DELTA_STATE_FORMAT = 1;

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
}

interface Pointer {
  runId: string;
}

const TENANT_TARGET = 'tenant';

export class DeltaStateStore {
  constructor(private readonly blobs: ClaimStorage) {}

  /** The state in force for a target; null when there is none (or of another format). */
  async current<T extends { format: number }>(targetId: string): Promise<T | null> {
    const pointer = await this.blobs.get<Pointer>(targetId, 'current');
    if (!pointer) return null;
    const state = await this.blobs.get<T>(targetId, `runs/${pointer.runId}`);
    return state && state.format === DELTA_STATE_FORMAT ? state : null;
  }

  /** Writes a run's state for a target, not yet in force. */
  stage(targetId: string, runId: string, state: DirectoryDeltaState | EnvironmentDeltaState): Promise<void> {
    return this.blobs.put(targetId, `runs/${runId}`, state);
  }

  /** The target succeeded in this run: its staged state is the one in force. */
  commit(targetId: string, runId: string): Promise<void> {
    return this.blobs.put(targetId, 'current', { runId } satisfies Pointer);
  }

  currentDirectory(): Promise<DirectoryDeltaState | null> {
    return this.current<DirectoryDeltaState>(TENANT_TARGET);
  }
}

/** SPEC §9: the last full read is at least `everyDays` old (a Graph delta token also lasts 7 days). */
export function fullRunDue(fullAt: string, now: Date, everyDays: number): boolean {
  return now.getTime() - Date.parse(fullAt) >= everyDays * 24 * 3600 * 1000;
}
