import { findingKey, type StoredFinding } from '../domain/finding.js';
import type { Environment } from '../domain/model.js';
import type { ClaimStore } from '../gateways/storage/claims.js';
import { logEvent } from '../telemetry/log.js';
import { describeError } from './target-failure.js';
import { directoryFromJson, directoryToJson, type DirectoryHead, type DirectoryRead, type DirectorySnapshot, type DirectorySnapshotJson, type EnvironmentUserSummary } from './snapshot.js';

/** What an in-process run's steps hand each other in memory instead of through storage. */
interface InProcessRun {
  /** The directory's delta state being written; resolves false when it could not be (it is then not put in force). */
  directoryState: Promise<boolean>;
  summaries: Map<string, EnvironmentUserSummary>;
  /** Per target recorded here: its stored findings after this run's life cycle. */
  findings: Map<string, StoredFinding[]>;
}

/** The claims a run may hand its steps through claim-check blobs. */
export type ClaimStorage = Pick<ClaimStore, 'put' | 'get' | 'list'>;

/**
 * The data a run's steps share: the directory snapshot, the environment list, each environment's
 * summary for the cross-environment check, and the findings recorded so far.
 *
 * A run whose steps all happen in this process (the CLI, `steward serve`, tests) keeps them in
 * memory and writes no claim-check. Otherwise (Azure Functions) each step may run in another
 * worker: the directory, the environment list and the summaries go to claim-check blobs, and
 * finalize reads the findings back from the store. Claim reads are cached per run in this
 * process, so a worker reads a claim once per run however many targets it audits.
 */
export class RunData {
  /** In-process runs: the directory as the start read it. */
  private reads = new Map<string, DirectoryRead>();
  private directories = new Map<string, Promise<DirectorySnapshot | null>>();
  private environments = new Map<string, Promise<Environment[]>>();
  private inProcessRuns = new Map<string, InProcessRun>();

  constructor(private readonly claims: ClaimStorage) {}

  /**
   * What the start of a run read, for the steps after it (another worker's steps get the users too).
   * In-process, `staging` is the directory's delta state still being written.
   */
  async begin(runId: string, directory: DirectoryRead, environments: Environment[], inProcess: { staging?: Promise<void> } | false): Promise<void> {
    this.environments.set(runId, Promise.resolve(environments));
    if (inProcess) {
      this.reads.set(runId, directory);
      const directoryState = (inProcess.staging ?? Promise.resolve()).then(
        () => true,
        (error: unknown) => (logEvent('warn', 'audit.delta-state-not-stored', { runId, targetId: 'tenant', message: describeError(error) }), false),
      );
      this.inProcessRuns.set(runId, { directoryState, summaries: new Map(), findings: new Map() });
      return;
    }
    const snapshot: DirectorySnapshot = { ...directory.head, users: await directory.users() };
    this.directories.set(runId, Promise.resolve(snapshot));
    await Promise.all([this.claims.put(runId, 'directory', directoryToJson(snapshot)), this.claims.put(runId, 'environments', environments)]);
  }

  /** The run's directory without its users (nothing more is read for it in-process); null when it is missing (the tenant target failed). */
  async directoryHead(runId: string): Promise<DirectoryHead | null> {
    const read = this.reads.get(runId);
    if (read) return read.head;
    const snapshot = await this.directory(runId);
    if (!snapshot) return null;
    const { users: _users, ...head } = snapshot;
    return head;
  }

  /** The run's directory snapshot, its users read once; null when it is missing (the tenant target failed). */
  directory(runId: string): Promise<DirectorySnapshot | null> {
    let snapshot = this.directories.get(runId);
    if (!snapshot) {
      const read = this.reads.get(runId);
      snapshot = read
        ? read.users().then((users) => ({ ...read.head, users }))
        : this.claims.get<DirectorySnapshotJson>(runId, 'directory').then((json) => {
            if (!json) this.directories.delete(runId); // not there yet: asked again next time
            return json ? directoryFromJson(json) : null;
          });
      snapshot.catch(() => this.directories.delete(runId));
      this.directories.set(runId, snapshot);
    }
    return snapshot;
  }

  environmentList(runId: string): Promise<Environment[]> {
    let environments = this.environments.get(runId);
    if (!environments) {
      environments = this.claims.get<Environment[]>(runId, 'environments').then((list) => list ?? []);
      environments.catch(() => this.environments.delete(runId));
      this.environments.set(runId, environments);
    }
    return environments;
  }

  /**
   * Whether the directory's delta state of the run was written (another worker's start wrote it
   * before the targets went out). When it was not, the state in force stays, and the next run
   * reads the changes since it: more work, nothing missed.
   */
  directoryStateWritten(runId: string): Promise<boolean> {
    return this.inProcessRuns.get(runId)?.directoryState ?? Promise.resolve(true);
  }

  /** Stores an environment's summary (in memory, or as a claim). */
  async putSummary(runId: string, summary: EnvironmentUserSummary): Promise<void> {
    const inProcess = this.inProcessRuns.get(runId);
    if (inProcess) inProcess.summaries.set(summary.environmentId, summary);
    else await this.claims.put(runId, `summaries/${summary.environmentId}`, summary);
  }

  async summaries(runId: string): Promise<EnvironmentUserSummary[]> {
    const inProcess = this.inProcessRuns.get(runId);
    return inProcess ? [...inProcess.summaries.values()] : this.claims.list<EnvironmentUserSummary>(runId, 'summaries/');
  }

  /**
   * In-process runs: what the store now holds for these targets, the previous findings with the
   * changed ones written over them.
   */
  noteRecorded(runId: string, targetIds: readonly string[], previous: readonly StoredFinding[], changed: readonly StoredFinding[]): void {
    const inProcess = this.inProcessRuns.get(runId);
    if (!inProcess) return;
    const after = new Map<string, Map<string, StoredFinding>>(targetIds.map((targetId) => [targetId, new Map()]));
    for (const f of [...previous, ...changed]) after.get(f.targetId)?.set(findingKey(f), f);
    for (const [targetId, findings] of after) inProcess.findings.set(targetId, [...findings.values()]);
  }

  /** In-process runs: a target's findings after this run, when it was recorded here; undefined otherwise. */
  recordedFindings(runId: string, targetId: string): StoredFinding[] | undefined {
    return this.inProcessRuns.get(runId)?.findings.get(targetId);
  }

  /** The run is over: forget it. */
  end(runId: string): void {
    this.reads.delete(runId);
    this.directories.delete(runId);
    this.environments.delete(runId);
    this.inProcessRuns.delete(runId);
  }
}
