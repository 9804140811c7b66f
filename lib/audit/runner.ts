import { AsyncLocalStorage } from 'node:async_hooks';
import pLimit from 'p-limit';
import { NotFoundError } from '../domain/errors.js';
import { SEVERITY_RANK, type AuditRun, type FindingState, type RunTarget, type Severity, type StoredFinding, type Suppression } from '../domain/finding.js';
import { isSuppressed } from '../domain/suppression.js';
import type { AuditQueue, AuditTargetMessage } from '../gateways/storage/audit-queue.js';
import type { AuditStore, RunFindingEntry } from '../gateways/storage/audit-store.js';
import type { AuditPipeline, AuditRunReport, TargetAttempt } from './pipeline.js';
import type { ReportFormat, RunReports } from './run-report.js';

import { recordAuditRunMetrics } from '../telemetry/audit-metrics.js';
import { logEvent } from '../telemetry/log.js';
import { tallyUpstreamRequests, type RequestTally } from '../telemetry/upstream.js';
/**
 * Where a started run's targets go, decided once at composition:
 * - `queue` (Azure Functions): one queue message per target, each audited by whichever worker
 *   takes it, the run's shared data in claim-check blobs; the last target asks for finalize;
 * - `in-process` (the CLI, `steward serve`, tests): audited here in the background, the shared
 *   data in memory.
 */
export type AuditDispatch = { mode: 'queue'; queue: AuditQueue } | { mode: 'in-process' };

export interface AuditRunnerDependencies {
  pipeline: AuditPipeline;
  store: AuditStore;
  /** The finished runs' reports (issue 13), written by the pipeline's finalize. */
  reports: RunReports;
  dispatch: AuditDispatch;
  /**
   * Targets audited here: how many at once, and how many tries each before it is recorded as
   * failed, as a queue message gets its dequeue count (the gateways already retried throttling
   * within a try).
   */
  concurrency: number;
  attempts?: number;
  now: () => Date;
}

/** A whole run in this process: how many targets at once, how many tries each, progress. */
export interface InProcessRunOptions {
  concurrency?: number;
  /** Attempts per target before it is recorded as failed (the queue's dequeue count in Azure). */
  attempts?: number;
  /** After each target: `done` of `total` counts every target of the run (the directory and skipped ones done from the start). */
  onTargetDone?: (target: RunTarget, done: number, total: number) => void;
  /** SPEC §9: read everything, not only the changes since the last run. */
  full?: boolean;
}

/** The name of the target whose audit the current call belongs to (in-process runs), for progress. */
const auditedTarget = new AsyncLocalStorage<string>();
const DIRECTORY_TARGET_NAME = 'Entra ID directory';

/** The target being audited where this is called from (a retry's wait names it); undefined outside a target. */
export const currentAuditedTarget = (): string | undefined => auditedTarget.getStore();

export interface StartedRun {
  run: AuditRun;
  /**
   * Every target of the run, as its record lists them: the tenant's directory, each environment
   * (skipped ones too) and each Salesforce org. The CLI's table, its progress and POST /api/audits
   * count the same.
   */
  targetCount: number;
}

export interface FindingQuery {
  targetId?: string;
  checkId?: string;
  severity?: Severity;
  status?: StoredFinding['status'];
  suppressed?: boolean;
}

/** A run's report file: still to come while the run is running, else its text. */
export type RunReportAnswer = { kind: 'running'; run: AuditRun } | { kind: 'ready'; run: AuditRun; format: ReportFormat; body: string };

/** What a run changed (its history), by state. */
export interface RunChanges {
  run: AuditRun;
  byState: Record<FindingState, number>;
  /** The entries that match the filter. */
  findings: RunFindingEntry[];
}

const DEFAULT_ATTEMPTS = 3;

/**
 * The audit's one front door (SPEC §2): start a run, audit a target, finalize, read runs and
 * findings, suppress. Composed once (lib/composition.ts); the triggers, the HTTP handlers and the
 * CLI call it. The steps themselves are the pipeline's.
 */
export class AuditRunner {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: AuditRunnerDependencies) {}

  /** Whether runs started here keep their shared data in this process (in-process dispatch). */
  get inProcess(): boolean {
    return this.deps.dispatch.mode === 'in-process';
  }

  // ── runs ──

  /** Starts a run and dispatches its targets; answers once the run and its targets are recorded. */
  async start(trigger: AuditRun['trigger'], options: { full?: boolean } = {}): Promise<StartedRun> {
    const { pipeline, dispatch } = this.deps;
    const { run, messages } = await pipeline.startRun(trigger, { inProcess: this.inProcess, full: options.full });
    if (dispatch.mode === 'queue') {
      if (messages.length === 0) await dispatch.queue.sendFinalize({ runId: run.runId });
      else await dispatch.queue.sendTargets(messages);
    } else {
      this.inBackground(run.runId, async () => {
        await this.auditHere(run, messages, {});
        await this.finalize(run.runId);
      });
    }
    return { run, targetCount: run.targets.length };
  }

  /** A whole run in this process, to its report (the CLI, the demo, the bench, tests). */
  async run(trigger: AuditRun['trigger'], options: InProcessRunOptions = {}): Promise<AuditRunReport> {
    const { pipeline } = this.deps;
    // The directory is read when the run starts: a wait then is the directory's.
    const { run, messages } = await auditedTarget.run(DIRECTORY_TARGET_NAME, () => pipeline.startRun(trigger, { inProcess: true, full: options.full }));
    await this.auditHere(run, messages, options);
    return this.finalize(run.runId);
  }

  /**
   * Audits one target of a run (a queue message; `attempt` is its dequeue count). Throws when the
   * collection failed and another attempt follows; on the final one records the target as failed.
   * The last target of the run asks for the finalize step.
   */
  async auditTarget(message: AuditTargetMessage, attempt: TargetAttempt): Promise<RunTarget> {
    const { pipeline, dispatch } = this.deps;
    const target = await pipeline.auditTarget(message, attempt);
    if (await pipeline.allTargetsDone(message.runId)) {
      if (dispatch.mode === 'queue') await dispatch.queue.sendFinalize({ runId: message.runId });
      else await this.finalize(message.runId);
    }
    return target;
  }

  /**
   * Tenant-wide checks, failed targets, alerts, and the run's closing status (idempotent if asked
   * twice); then the run's metrics (lib/telemetry/audit-metrics.ts), its upstream requests being
   * those of its targets (kept on each) and of this step.
   */
  async finalize(runId: string): Promise<AuditRunReport> {
    const tally: RequestTally = { requests: 0 };
    const report = await tallyUpstreamRequests(tally, () => this.deps.pipeline.finalize(runId));
    const upstreamRequests = report.run.targets.reduce((sum, target) => sum + (target.upstreamRequests ?? 0), tally.requests);
    recordAuditRunMetrics(report.run, { upstreamRequests });
    return report;
  }

  /** Waits for every run started in the background so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private inBackground(runId: string, work: () => Promise<void>): void {
    const running = work().catch((error: unknown) => void logEvent('error', 'audit.run-failed', { runId, message: (error as Error)?.message }));
    this.running.add(running);
    void running.finally(() => this.running.delete(running));
  }

  /**
   * Audits the targets here with bounded concurrency, each with its attempts. Progress counts every
   * target of the run: the directory and skipped environments are done before the first message.
   */
  private async auditHere(run: AuditRun, messages: readonly AuditTargetMessage[], options: InProcessRunOptions): Promise<void> {
    const attempts = options.attempts ?? this.deps.attempts ?? DEFAULT_ATTEMPTS;
    const limit = pLimit(options.concurrency ?? this.deps.concurrency);
    const total = run.targets.length;
    const names = new Map(run.targets.map((t) => [t.id, t.name ?? t.id]));
    let done = total - messages.length;
    const auditOne = async (message: AuditTargetMessage) => {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const target = await auditedTarget.run(names.get(message.targetId) ?? message.targetId, () =>
            this.deps.pipeline.auditTarget(message, { finalAttempt: attempt === attempts, attempt }),
          );
          options.onTargetDone?.(target, ++done, total);
          return;
        } catch {
          // the next attempt follows, as a redelivered queue message would
        }
      }
    };
    await Promise.all(messages.map((message) => limit(() => auditOne(message))));
  }

  // ── reads ──

  /** A run with its targets' latest status. */
  async getRun(runId: string): Promise<AuditRun> {
    const run = await this.deps.store.getRun(runId);
    if (!run) throw new NotFoundError('audit-run', runId, `No audit run '${runId}'.`);
    return this.withTargets(await this.deps.pipeline.closeIfStalled(run));
  }

  /** The run started last, with its targets' latest status. */
  async latestRun(): Promise<AuditRun> {
    const run = await this.deps.store.getLatestRun();
    if (!run) throw new NotFoundError('audit-run', 'latest', 'No audit has run yet.');
    return this.withTargets(await this.deps.pipeline.closeIfStalled(run));
  }

  private async withTargets(run: AuditRun): Promise<AuditRun> {
    const targets = await this.deps.store.listTargets(run.runId);
    return { ...run, targets: targets.length > 0 ? targets : run.targets };
  }

  /** The report page (or the findings CSV) of a run, as stored when it finished (issue 13). */
  async report(runId: string, format: ReportFormat): Promise<RunReportAnswer> {
    return this.reportOf(await this.getRun(runId), format);
  }

  /** The report of the run started last. */
  async latestReport(format: ReportFormat): Promise<RunReportAnswer> {
    return this.reportOf(await this.latestRun(), format);
  }

  private async reportOf(run: AuditRun, format: ReportFormat): Promise<RunReportAnswer> {
    if (run.status === 'running') return { kind: 'running', run };
    const body = await this.deps.reports.read(run.runId, format);
    if (body === null) throw new NotFoundError('audit-report', run.runId, `Audit run '${run.runId}' has no stored report (it could not be written when the run finished).`);
    return { kind: 'ready', run, format, body };
  }

  /** A run's report: what opened, reopened, changed while open or resolved in it, from its history. */
  async runChanges(runId: string, filter: { state?: FindingState; targetId?: string; checkId?: string } = {}): Promise<RunChanges> {
    const { store } = this.deps;
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError('audit-run', runId, `No audit run '${runId}'.`);
    const history = await store.listRunFindings(run.runId);
    const byState = { new: 0, reopened: 0, open: 0, resolved: 0 };
    for (const entry of history) byState[entry.state]++;
    const findings = history.filter(
      (e) =>
        (filter.state === undefined || e.state === filter.state) &&
        (filter.targetId === undefined || e.targetId === filter.targetId) &&
        (filter.checkId === undefined || e.checkId === filter.checkId),
    );
    return { run, byState, findings };
  }

  /** Findings with whether a suppression is in force, most severe first, then by target and check. */
  async listFindings(query: FindingQuery = {}): Promise<(StoredFinding & { suppressed: boolean })[]> {
    const { store } = this.deps;
    const now = this.deps.now();
    const [findings, suppressions] = await Promise.all([
      store.listFindings({ targetId: query.targetId, checkId: query.checkId, severity: query.severity, status: query.status }),
      store.listSuppressions({ activeAt: now }),
    ]);
    return findings
      .map((f) => ({ ...f, suppressed: isSuppressed(f, suppressions, now) }))
      .filter((f) => query.suppressed === undefined || f.suppressed === query.suppressed)
      .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.targetId.localeCompare(b.targetId) || a.checkId.localeCompare(b.checkId));
  }

  // ── suppressions ──

  /** Suppresses a finding (or, with subject `*`, a whole check on a target) until its expiry. */
  async suppress(input: Omit<Suppression, 'createdBy' | 'createdAt'>, createdBy: string): Promise<Suppression> {
    const suppression: Suppression = { ...input, createdBy, createdAt: this.deps.now().toISOString() };
    await this.deps.store.suppress(suppression);
    return suppression;
  }

  /** Removes a suppression; NotFoundError when there is none. */
  async unsuppress(checkId: string, targetId: string, subjectId: string): Promise<void> {
    const removed = await this.deps.store.unsuppress(checkId, targetId, subjectId);
    if (!removed) throw new NotFoundError('suppression', `${targetId}/${checkId}/${subjectId}`);
  }

  /** All suppressions, or only those still in force at `activeAt`. */
  listSuppressions(options: { activeAt?: Date; targetId?: string } = {}): Promise<Suppression[]> {
    return this.deps.store.listSuppressions(options);
  }
}
