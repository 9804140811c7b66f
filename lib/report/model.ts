import { CHECK_CATALOGUE } from '../domain/check-catalogue.js';
import { SEVERITY_RANK, type AuditRun, type RunTarget, type Severity, type StoredFinding, type Suppression } from '../domain/finding.js';
import { reclaimableMonthlyTotals, type Money } from '../domain/money.js';
import { findSuppression } from '../domain/suppression.js';

/**
 * The nightly report of one run (issue 13), as data: what the HTML page and the CSV export show.
 * Built here, pure, from the run record, its findings after the run, the suppressions in force and
 * the last runs' counts; rendered by html.ts and csv.ts. Nothing here reads or writes anything.
 */

/** An open finding after the run, with its state in the run (SPEC §6) and whether it is suppressed (SPEC §2). */
export type ReportFindingInput = StoredFinding & { runState: 'new' | 'open' | 'reopened'; suppressed: boolean };

/** One earlier (or this) run's open findings by severity, for the trend. */
export interface TrendPoint {
  runId: string;
  startedAt: string;
  status: AuditRun['status'];
  critical: number;
  warning: number;
  info: number;
}

export interface RunReportInput {
  /** The finished run, with its targets and summary. */
  run: AuditRun;
  findings: readonly ReportFindingInput[];
  /** What this run resolved. */
  resolved: readonly StoredFinding[];
  /** Suppressions in force when the run finished (the reason and expiry of each suppressed finding). */
  suppressions: readonly Suppression[];
  /** Runs before this one, any order; the last TREND_RUNS (this one included) are charted. */
  history: readonly TrendPoint[];
  generatedAt: Date;
  /** Where `docs/checks/<checkId>.md` lives: a URL or a repository-relative path (STEWARD_DOCS_BASE_URL). */
  docsBaseUrl: string;
}

/** How many runs the trend chart shows (issue 13: "the last 30 runs"). */
export const TREND_RUNS = 30;

export type ChangeKind = 'opened' | 'reopened' | 'worsened' | 'resolved';

export interface ReportFinding {
  checkId: string;
  targetId: string;
  targetName: string;
  subjectId: string;
  severity: Severity;
  previousSeverity: Severity | null;
  status: 'open' | 'resolved';
  /** SPEC §6 state in this run; `resolved` for what this run resolved. */
  state: 'new' | 'open' | 'reopened' | 'resolved';
  title: string;
  details: Record<string, unknown>;
  remediation: string;
  /** The SPEC §1 facts its check rests on (the check catalogue). */
  factIds: readonly string[];
  /** The check's page under docs/checks/. */
  docsUrl: string;
  firstSeenAt: string;
  openedAt: string;
  resolvedAt: string | null;
  suppression: Pick<Suppression, 'reason' | 'expiresAt' | 'createdBy' | 'subjectId'> | null;
}

export interface CheckGroup {
  checkId: string;
  factIds: readonly string[];
  docsUrl: string;
  findings: ReportFinding[];
}

export interface TargetGroup {
  target: RunTarget;
  checks: CheckGroup[];
}

export interface RunReport {
  run: AuditRun;
  /** The run's targets in reading order: the directory, environments, orgs, each by name. */
  targets: RunTarget[];
  generatedAt: string;
  /** Open findings (suppressed ones included) by severity, and how each stands in this run. */
  counts: {
    bySeverity: Record<Severity, number>;
    byState: { new: number; reopened: number; open: number; resolved: number; suppressed: number };
    /** Severity × state, for the counts table (suppressed findings counted in their state too). */
    matrix: Record<Severity, { new: number; reopened: number; open: number; suppressed: number }>;
  };
  /** SPEC §7 Money: reclaimable monthly cost of the open, unsuppressed licence-waste findings, per currency. */
  reclaimableMonthly: Money[];
  changes: Record<ChangeKind, ReportFinding[]>;
  /** Open, unsuppressed findings by target (the directory, environments, orgs) and check. */
  open: TargetGroup[];
  /** Suppressed findings, apart (SPEC §2: recorded, no alert, shown as suppressed until the expiry). */
  suppressed: ReportFinding[];
  /** Every finding of the report, in report order: the open ones, the suppressed ones, then the resolved. */
  all: ReportFinding[];
  /** Oldest first, at most TREND_RUNS, this run last. */
  trend: TrendPoint[];
}

const CATALOGUE = new Map<string, { factIds: readonly string[] }>(CHECK_CATALOGUE.map((c) => [c.id, c]));
const KIND_RANK: Record<RunTarget['kind'], number> = { tenant: 0, environment: 1, 'salesforce-org': 2 };

/** The documentation page of a check: `<base>/<checkId>.md` (docs/checks/ in the repository). */
export function checkDocsUrl(docsBaseUrl: string, checkId: string): string {
  const base = docsBaseUrl.endsWith('/') ? docsBaseUrl : `${docsBaseUrl}/`;
  return `${base}${encodeURIComponent(checkId)}.md`;
}

/** True when a finding's severity rose in this run while it stayed open (the alert's `severity-raised`). */
function worsenedIn(f: StoredFinding, runId: string): boolean {
  return f.previousSeverity !== null && f.lastRunId === runId && SEVERITY_RANK[f.severity] > SEVERITY_RANK[f.previousSeverity];
}

type Placed = { stored: ReportFindingInput; view: ReportFinding; suppressed: boolean };

/** Reading order: the directory, environments, orgs, each by name. */
function targetOrder(targetOf: (id: string) => RunTarget) {
  return (a: string, b: string) => {
    const ta = targetOf(a);
    const tb = targetOf(b);
    return KIND_RANK[ta.kind] - KIND_RANK[tb.kind] || (ta.name ?? ta.id).localeCompare(tb.name ?? tb.id) || a.localeCompare(b);
  };
}

function countsOf(findings: readonly Placed[], resolved: number): RunReport['counts'] {
  const zero = () => ({ new: 0, reopened: 0, open: 0, suppressed: 0 });
  const matrix: RunReport['counts']['matrix'] = { critical: zero(), warning: zero(), info: zero() };
  const bySeverity: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  const byState = { new: 0, reopened: 0, open: 0, resolved, suppressed: 0 };
  for (const { view: f, suppressed } of findings) {
    const state = f.state as 'new' | 'open' | 'reopened';
    bySeverity[f.severity]++;
    byState[state]++;
    matrix[f.severity][state]++;
    if (suppressed) {
      byState.suppressed++;
      matrix[f.severity].suppressed++;
    }
  }
  return { bySeverity, byState, matrix };
}

/** Open, unsuppressed findings (already in reading order) by target, then check. */
function groupByTargetAndCheck(findings: readonly ReportFinding[], targetOf: (id: string) => RunTarget): TargetGroup[] {
  const open: TargetGroup[] = [];
  for (const f of findings) {
    let group = open.at(-1);
    if (group?.target.id !== f.targetId) open.push((group = { target: targetOf(f.targetId), checks: [] }));
    let check = group.checks.at(-1);
    if (check?.checkId !== f.checkId) group.checks.push((check = { checkId: f.checkId, factIds: f.factIds, docsUrl: f.docsUrl, findings: [] }));
    check.findings.push(f);
  }
  return open;
}

/** The last TREND_RUNS runs, oldest first, this one last (its own counts). */
function trendOf(run: AuditRun, history: readonly TrendPoint[], bySeverity: Record<Severity, number>): TrendPoint[] {
  const current: TrendPoint = {
    runId: run.runId,
    startedAt: run.startedAt,
    status: run.status,
    critical: run.summary?.critical ?? bySeverity.critical,
    warning: run.summary?.warning ?? bySeverity.warning,
    info: run.summary?.info ?? bySeverity.info,
  };
  return [...history.filter((p) => p.runId !== run.runId), current]
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId))
    .slice(-TREND_RUNS);
}

export function buildRunReport(input: RunReportInput): RunReport {
  const { run, docsBaseUrl } = input;
  const targetById = new Map(run.targets.map((t) => [t.id, t]));
  const targetOf = (id: string): RunTarget => targetById.get(id) ?? { id, kind: id === 'tenant' ? 'tenant' : 'environment', status: 'succeeded', name: id };
  const view = (f: StoredFinding, state: ReportFinding['state'], suppression: Suppression | undefined): ReportFinding => ({
    checkId: f.checkId,
    targetId: f.targetId,
    targetName: targetOf(f.targetId).name ?? f.targetId,
    subjectId: f.subjectId,
    severity: f.severity,
    previousSeverity: f.previousSeverity,
    status: f.status,
    state,
    title: f.title,
    details: f.details,
    remediation: f.remediation,
    factIds: CATALOGUE.get(f.checkId)?.factIds ?? [],
    docsUrl: checkDocsUrl(docsBaseUrl, f.checkId),
    firstSeenAt: f.firstSeenAt,
    openedAt: f.openedAt,
    resolvedAt: f.resolvedAt,
    suppression: suppression ? { reason: suppression.reason, expiresAt: suppression.expiresAt, createdBy: suppression.createdBy, subjectId: suppression.subjectId } : null,
  });
  const byTarget = targetOrder(targetOf);
  const byReadingOrder = (a: StoredFinding, b: StoredFinding) =>
    byTarget(a.targetId, b.targetId) || a.checkId.localeCompare(b.checkId) || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.subjectId.localeCompare(b.subjectId);

  const findings: Placed[] = [...input.findings].sort(byReadingOrder).map((f) => ({
    stored: f,
    view: view(f, f.runState, f.suppressed ? findSuppression(f, input.suppressions, input.generatedAt) : undefined),
    suppressed: f.suppressed,
  }));
  const resolved = [...input.resolved].sort(byReadingOrder).map((f) => view(f, 'resolved', undefined));
  const unsuppressed = findings.filter((f) => !f.suppressed);
  const suppressed = findings.filter((f) => f.suppressed).map((f) => f.view);
  const counts = countsOf(findings, resolved.length);
  return {
    run,
    targets: [...run.targets].sort((a, b) => byTarget(a.id, b.id)),
    generatedAt: input.generatedAt.toISOString(),
    counts,
    reclaimableMonthly: reclaimableMonthlyTotals(unsuppressed.map((f) => f.stored)),
    changes: {
      opened: findings.filter((f) => f.view.state === 'new').map((f) => f.view),
      reopened: findings.filter((f) => f.view.state === 'reopened').map((f) => f.view),
      worsened: findings.filter((f) => worsenedIn(f.stored, run.runId)).map((f) => f.view),
      resolved,
    },
    open: groupByTargetAndCheck(unsuppressed.map((f) => f.view), targetOf),
    suppressed,
    all: [...unsuppressed.map((f) => f.view), ...suppressed, ...resolved],
    trend: trendOf(run, input.history, counts.bySeverity),
  };
}
