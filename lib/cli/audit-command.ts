import type { AuditRunReport } from '../audit/pipeline.js';
import { CHECK_CATALOGUE } from '../domain/check-catalogue.js';
import { SEVERITY_RANK, findingKey, type Severity } from '../domain/finding.js';
import { formatMoney, reclaimableMonthlyTotals } from '../domain/money.js';
import { EXIT } from './exit-codes.js';
import { detailLines } from './finding-details.js';
import { auditProgress } from './progress.js';
import { writeRunReport } from './report-command.js';
import { openRuntime } from './runtime.js';

export interface AuditCommandOptions {
  fixture?: string;
  storage?: string;
  json?: boolean;
  /** ISO time the audit takes as "now" for ages (L2); overrides the fixture's settings.auditTime. */
  now?: string;
  /** Where to write the run's report page (issue 13), as stored when the run finished. */
  report?: string;
  /** SPEC §9: read everything, not only the changes since the last run. */
  full?: boolean;
  /** Exit 1 when open (not suppressed) findings at this severity or above remain. */
  failOn?: Severity;
}

/** The JSON of SPEC §6 for one run. */
export function auditRunJson(report: AuditRunReport) {
  const findings = [...report.findings].sort(
    (a, b) =>
      a.targetId.localeCompare(b.targetId) ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      a.checkId.localeCompare(b.checkId) ||
      a.subjectId.localeCompare(b.subjectId),
  );
  return {
    runId: report.run.runId,
    status: report.run.status,
    targets: report.run.targets.map((t) => ({ id: t.id, kind: t.kind, status: t.status, ...(t.error ? { error: t.error } : {}) })),
    findings: findings.map((f) => ({
      checkId: f.checkId,
      targetId: f.targetId,
      subjectId: f.subjectId,
      severity: f.severity,
      title: f.title,
      details: f.details,
      remediation: f.remediation,
      state: f.runState,
      ...(f.suppressed ? { suppressed: true } : {}),
    })),
    resolved: report.resolved.map((f) => ({ checkId: f.checkId, targetId: f.targetId, subjectId: f.subjectId })),
  };
}

const KIND_RANK = { tenant: 0, environment: 1, 'salesforce-org': 2 } as const;
const KIND_LABEL = { tenant: 'directory', environment: 'environment', 'salesforce-org': 'Salesforce org' } as const;

/**
 * The checks that ran on a target and found nothing: those of the catalogue for its kind (a
 * cross-environment one only when every environment was read), less those with a finding on it.
 */
function passedChecks(report: AuditRunReport, target: AuditRunReport['run']['targets'][number]): string[] {
  if (target.status !== 'succeeded') return [];
  const environmentFailed = report.run.targets.some((t) => t.kind === 'environment' && t.status === 'failed');
  const found = new Set(report.findings.filter((f) => f.targetId === target.id).map((f) => f.checkId));
  return CHECK_CATALOGUE.filter((c) => c.target === target.kind && !(c.scope === 'cross-environment' && environmentFailed) && !found.has(c.id)).map((c) => c.id);
}

export function renderAuditTable(report: AuditRunReport): string {
  const json = auditRunJson(report);
  const names = new Map(report.run.targets.map((t) => [t.id, t.name ?? t.id]));
  const targetName = (id: string) => names.get(id) ?? id;
  // For reading: the directory first, then environments, then orgs, each by name.
  const targets = [...report.run.targets].sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || (a.name ?? a.id).localeCompare(b.name ?? b.id));
  const raisedKeys = new Set(report.findings.filter((x) => x.previousSeverity && x.lastRunId === json.runId).map(findingKey));
  const previousSeverity = new Map(report.findings.map((x) => [findingKey(x), x.previousSeverity]));
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const f of json.findings) counts[f.severity]++;
  const byStatus = targetCounts(report.run.targets);

  const lines: string[] = [];
  lines.push(`Run ${json.runId}: ${json.status} · ${byStatus}`);
  lines.push(`Findings: ${json.findings.length} (critical ${counts.critical}, warning ${counts.warning}, info ${counts.info}); resolved by this run: ${json.resolved.length}`);
  // SPEC §7 Money: per currency, never summed across currencies.
  const reclaimable = reclaimableMonthlyTotals(json.findings.filter((f) => !f.suppressed));
  if (reclaimable.length > 0) lines.push(`Licences reclaimable each month: ${formatMoney(reclaimable)}`);
  for (const target of targets) {
    lines.push('');
    const why = target.error ? `: ${target.error}` : '';
    lines.push(`${target.name ?? target.id} (${KIND_LABEL[target.kind]}) — ${target.status}${why}`);
    for (const f of json.findings.filter((x) => x.targetId === target.id)) {
      const key = findingKey(f);
      const raised = raisedKeys.has(key) ? ` (was ${previousSeverity.get(key)})` : '';
      lines.push(`  ${f.severity.toUpperCase().padEnd(8)} ${f.state.padEnd(8)} ${f.title}${raised}${f.suppressed ? ' [suppressed]' : ''}`);
      lines.push(`      ${f.checkId}`);
      for (const detail of detailLines(f.details as Record<string, unknown>, targetName)) lines.push(`      ${detail}`);
      lines.push(`      → ${f.remediation}`);
    }
    const passed = passedChecks(report, target);
    if (target.status === 'succeeded') {
      lines.push(passed.length > 0 ? `  ✓ passed (${passed.length}): ${passed.join(', ')}` : '  ✓ passed: none (every check found something)');
    } else {
      lines.push(`  not audited in this run: no check passed or failed`);
    }
  }
  if (json.resolved.length > 0) {
    lines.push('');
    lines.push('Resolved by this run');
    for (const r of report.resolved) lines.push(`  RESOLVED ${r.title}\n      ${r.checkId} · ${targetName(r.targetId)}`);
  }
  return lines.join('\n');
}

/** `11 targets: 10 succeeded, 1 skipped`: every target of the run, the one count used everywhere. */
export function targetCounts(targets: readonly { status: string }[]): string {
  const by = new Map<string, number>();
  for (const t of targets) by.set(t.status, (by.get(t.status) ?? 0) + 1);
  return `${targets.length} target${targets.length === 1 ? '' : 's'}: ${[...by].map(([status, n]) => `${n} ${status}`).join(', ')}`;
}

/** SPEC-less, issue 14: the exit code of an audit (README): 2 when not every target was read, 1 when open findings reach `failOn`. */
export function auditExitCode(report: AuditRunReport, failOn: Severity | undefined): number {
  if (report.run.status !== 'succeeded') return EXIT.incomplete;
  if (!failOn) return EXIT.ok;
  const open = report.findings.some((f) => !f.suppressed && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[failOn]);
  return open ? EXIT.attention : EXIT.ok;
}

export async function runAuditCommand(options: AuditCommandOptions): Promise<void> {
  const runtime = await openRuntime({ ...options, env: options.now ? { STEWARD_AUDIT_TIME: options.now } : undefined });
  try {
    const progress = auditProgress();
    let report: AuditRunReport;
    try {
      report = await runtime.audit.run('cli', { full: options.full, onTargetDone: progress.onTargetDone });
    } finally {
      progress.stop();
    }
    process.stdout.write(options.json ? `${JSON.stringify(auditRunJson(report), null, 2)}\n` : `${renderAuditTable(report)}\n`);
    if (options.report) await writeRunReport(runtime.audit, report.run.runId, 'html', options.report);
    process.exitCode = auditExitCode(report, options.failOn);
  } finally {
    await runtime.close();
  }
}
