import { SEVERITY_RANK, findingKey, type Finding, type FindingState, type Severity, type StoredFinding } from '../domain/finding.js';

/**
 * The life cycle of findings (SPEC §2), pure. A finding opens the first run it appears, stays open
 * while it appears, resolves the first successful run of its target in which it no longer appears,
 * and reopens if it comes back. Only what changed is returned for writing, so a rerun with nothing
 * changed writes nothing.
 */

/** What one run evaluated for a target: which checks ran (and may therefore resolve) and what they found. */
export interface EvaluatedScope {
  targetId: string;
  /** The checks that ran to completion for this target; `all` when the whole target was audited. */
  checkIds: ReadonlySet<string> | 'all';
  findings: Finding[];
}

export interface RunOutcome {
  /** Every finding that appears in this run, with its state for this run. */
  current: { finding: StoredFinding; state: OpenState }[];
  resolved: StoredFinding[];
  /** Stored findings to write (new, reopened, resolved, or changed). */
  changed: StoredFinding[];
}

/** The state in a run of a finding that is open after it. */
export type OpenState = Exclude<FindingState, 'resolved'>;

/**
 * The state of a finding in a run (SPEC §6 `state`), decided here and read everywhere else:
 * `new` or `reopened` when that run opened it, `open` when it was open before. Findings the run
 * changed carry it as `state`; for the others it follows from their record.
 */
export function openStateInRun(f: Pick<StoredFinding, 'openedRunId' | 'reopenCount'>, runId: string): OpenState {
  if (f.openedRunId !== runId) return 'open';
  return f.reopenCount > 0 ? 'reopened' : 'new';
}

/** `resolved` for a resolved finding, else its open state in the run. */
export function stateInRun(f: Pick<StoredFinding, 'status' | 'openedRunId' | 'reopenCount'>, runId: string): FindingState {
  return f.status === 'resolved' ? 'resolved' : openStateInRun(f, runId);
}

const inScope = (scope: EvaluatedScope, checkId: string) => scope.checkIds === 'all' || scope.checkIds.has(checkId);

function sameContent(a: Finding, b: Finding): boolean {
  return a.title === b.title && a.remediation === b.remediation && JSON.stringify(a.details) === JSON.stringify(b.details);
}

export function applyRun(previous: readonly StoredFinding[], scopes: readonly EvaluatedScope[], runId: string, now: Date): RunOutcome {
  const at = now.toISOString();
  const previousByKey = new Map(previous.map((p) => [findingKey(p), p]));
  const outcome: RunOutcome = { current: [], resolved: [], changed: [] };
  const seen = new Set<string>();

  for (const scope of scopes) {
    for (const finding of scope.findings) {
      const key = findingKey(finding);
      if (seen.has(key)) continue;
      seen.add(key);
      const before = previousByKey.get(key);
      if (!before) {
        const created: StoredFinding = {
          ...finding,
          status: 'open',
          state: 'new',
          firstSeenAt: at,
          lastSeenAt: at,
          openedAt: at,
          openedRunId: runId,
          resolvedAt: null,
          reopenCount: 0,
          previousSeverity: null,
          lastRunId: runId,
          alertedState: null,
        };
        outcome.current.push({ finding: created, state: 'new' });
        outcome.changed.push(created);
        continue;
      }
      if (before.status === 'resolved') {
        const reopened: StoredFinding = {
          ...before,
          ...finding,
          status: 'open',
          state: 'reopened',
          lastSeenAt: at,
          openedAt: at,
          openedRunId: runId,
          resolvedAt: null,
          reopenCount: before.reopenCount + 1,
          previousSeverity: null,
          lastRunId: runId,
        };
        outcome.current.push({ finding: reopened, state: 'reopened' });
        outcome.changed.push(reopened);
        continue;
      }
      // Still open. The state of this run: a second pass of the run that opened it keeps its state.
      const state = openStateInRun(before, runId);
      if (before.severity !== finding.severity || !sameContent(before, finding)) {
        const updated: StoredFinding = {
          ...before,
          ...finding,
          state,
          previousSeverity: before.severity !== finding.severity ? before.severity : before.previousSeverity,
          lastSeenAt: at,
          lastRunId: runId,
        };
        outcome.current.push({ finding: updated, state });
        outcome.changed.push(updated);
      } else {
        outcome.current.push({ finding: before, state });
      }
    }
  }

  for (const before of previous) {
    if (before.status !== 'open' || seen.has(findingKey(before))) continue;
    const scope = scopes.find((s) => s.targetId === before.targetId);
    if (!scope || !inScope(scope, before.checkId)) continue; // not evaluated this run: never resolved
    const resolved: StoredFinding = { ...before, status: 'resolved', state: 'resolved', resolvedAt: at, lastRunId: runId };
    outcome.resolved.push(resolved);
    outcome.changed.push(resolved);
  }
  return outcome;
}

/** The state an alert was last sent for: a finding alerts once per opening and once per rise. */
export const alertKey = (f: Pick<StoredFinding, 'openedRunId' | 'severity'>) => `${f.openedRunId}|${f.severity}`;

/** A finding with the alert key it moves to. */
export type AlertedFinding = StoredFinding & { alertedState: string };

export interface AlertDecision {
  alert: AlertedFinding[];
  /** Findings whose alert key moves without an alert (severity went down, or below the minimum). */
  silentlyAcknowledged: AlertedFinding[];
}

/**
 * Which open findings to alert on: opened, reopened or risen in severity since the last alert, at or
 * above the minimum severity, not suppressed. A finding that went down in severity updates its key
 * silently, so that only a later rise alerts again.
 */
export function decideAlerts(
  open: readonly StoredFinding[],
  minimum: Severity,
  isSuppressed: (f: StoredFinding) => boolean,
): AlertDecision {
  const decision: AlertDecision = { alert: [], silentlyAcknowledged: [] };
  for (const finding of open) {
    if (finding.status !== 'open') continue;
    const key = alertKey(finding);
    if (finding.alertedState === key) continue;
    if (SEVERITY_RANK[finding.severity] < SEVERITY_RANK[minimum] || isSuppressed(finding)) continue;
    const [alertedRun, alertedSeverity] = (finding.alertedState ?? '').split('|');
    const sameOpening = alertedRun === finding.openedRunId;
    if (sameOpening && alertedSeverity && SEVERITY_RANK[finding.severity] < SEVERITY_RANK[alertedSeverity as Severity]) {
      decision.silentlyAcknowledged.push({ ...finding, alertedState: key });
      continue;
    }
    decision.alert.push({ ...finding, alertedState: key });
  }
  return decision;
}
