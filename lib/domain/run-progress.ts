import type { AuditRun, RunStall, RunStatus, RunTarget } from './finding.js';

/**
 * When a run has stopped making progress. Every step of a run leaves a trace in storage: the run
 * record when it starts, a target's status row when that target is done (each row carries when it
 * was written). A run still `running` whose newest trace is older than the stall period had a
 * worker die under it (a killed host, a lost queue message): nothing will finish it, so it is
 * closed as `failed`, saying at which step and since when, and its findings are left as they were.
 * Pure: the audit runner reads the traces and writes the closure.
 */

const TENANT_TARGET = 'tenant';

/** Where a stalled run was, and since when nothing moved. `null` while it is still progressing. */
export function stallOf(run: AuditRun, targets: readonly RunTarget[], now: Date, stallMs: number): Omit<RunStall, 'closedAt'> | null {
  if (run.status !== 'running') return null;
  const traces = [Date.parse(run.startedAt), ...targets.map((t) => (t.updatedAt ? Date.parse(t.updatedAt) : Number.NaN))].filter(Number.isFinite);
  const last = Math.max(...traces);
  if (now.getTime() - last < stallMs) return null;
  const lastProgressAt = new Date(last).toISOString();
  // No target rows yet: it never got past reading the directory and discovering the targets.
  if (targets.length === 0) return { step: 'start', lastProgressAt, waitingOn: [] };
  const pending = targets.filter((t) => t.status === 'pending' && t.id !== TENANT_TARGET);
  if (pending.length > 0) return { step: 'targets', lastProgressAt, waitingOn: pending.map((t) => t.name ?? t.id) };
  return { step: 'finalize', lastProgressAt, waitingOn: [] };
}

/** The run closed as failed by its stall; targets that never finished say so. */
export function closedByStall(run: AuditRun, targets: readonly RunTarget[], stall: Omit<RunStall, 'closedAt'>, now: Date, supersededBy?: string): AuditRun {
  const closedAt = now.toISOString();
  return {
    ...run,
    status: 'failed',
    finishedAt: closedAt,
    targets: targets.map((t) =>
      t.status === 'pending'
        ? { ...t, status: 'failed', error: `not finished: the run made no progress after ${stall.lastProgressAt}`, failure: { service: null, status: null, code: 'run-stalled' } }
        : t,
    ),
    stalled: { ...stall, closedAt, ...(supersededBy ? { supersededBy } : {}) },
  };
}

// ── Progress as lines (issue 14): the CLI writes these to stderr when it is not a terminal ──

/** `[3/8] Tailspin Prod: succeeded`, a finished target of `total` (every target of the run). */
export function targetDoneLine(target: Pick<RunTarget, 'id' | 'name' | 'status' | 'error'>, done: number, total: number): string {
  return `[${done}/${total}] ${target.name ?? target.id}: ${target.status}${target.error ? ` (${target.error})` : ''}`;
}

/** `Tailspin Sales (Salesforce): salesforce answered HTTP 503, retrying in 2 s (try 2)`: a target waiting on retries. */
export function retryWaitLine(targetName: string | undefined, wait: { service: string; status: number | undefined; attempt: number; waitMs: number }): string {
  const seconds = wait.waitMs >= 1000 ? `${Math.round(wait.waitMs / 100) / 10} s` : `${wait.waitMs} ms`;
  const answer = wait.status !== undefined ? `answered HTTP ${wait.status}` : 'did not answer';
  return `${targetName ?? 'Steward'}: ${wait.service} ${answer}, retrying in ${seconds} (try ${wait.attempt + 1})`;
}

/** `succeeded` when nothing failed, `failed` when everything audited failed, `partial` in between. */
export function closingStatus(targets: readonly RunTarget[]): RunStatus {
  const failed = targets.filter((t) => t.status === 'failed').length;
  const audited = targets.filter((t) => t.status !== 'skipped').length;
  return failed === 0 ? 'succeeded' : failed >= audited ? 'failed' : 'partial';
}
