import { findingKey, type StoredFinding } from '../domain/finding.js';
import type { Environment } from '../domain/model.js';
import type { ClaimStore } from '../gateways/storage/claims.js';
import { directoryFromJson, directoryToJson, type DirectorySnapshot, type DirectorySnapshotJson, type EnvironmentUserSummary } from './snapshot.js';

/** What an in-process run's steps hand each other in memory instead of through storage. */
interface InProcessRun {
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
  private directories = new Map<string, DirectorySnapshot>();
  private environments = new Map<string, Promise<Environment[]>>();
  private inProcessRuns = new Map<string, InProcessRun>();

  constructor(private readonly claims: ClaimStorage) {}

  /** What the start of a run read, for the steps after it. */
  async begin(runId: string, directory: DirectorySnapshot, environments: Environment[], inProcess: boolean): Promise<void> {
    this.directories.set(runId, directory);
    this.environments.set(runId, Promise.resolve(environments));
    if (inProcess) this.inProcessRuns.set(runId, { summaries: new Map(), findings: new Map() });
    else await Promise.all([this.claims.put(runId, 'directory', directoryToJson(directory)), this.claims.put(runId, 'environments', environments)]);
  }

  /** The run's directory snapshot; null when it is missing (the tenant target failed). */
  async directory(runId: string): Promise<DirectorySnapshot | null> {
    const cached = this.directories.get(runId);
    if (cached) return cached;
    const json = await this.claims.get<DirectorySnapshotJson>(runId, 'directory');
    if (!json) return null;
    const snapshot = directoryFromJson(json);
    this.directories.set(runId, snapshot);
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
    this.directories.delete(runId);
    this.environments.delete(runId);
    this.inProcessRuns.delete(runId);
  }
}
