import cliProgress from 'cli-progress';
import type { AuditRunReport } from '../audit/pipeline.js';
import { SEVERITY_RANK, findingKey } from '../domain/finding.js';
import { formatMoney, reclaimableMonthlyTotals } from '../domain/money.js';
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

export function renderAuditTable(report: AuditRunReport): string {
  const json = auditRunJson(report);
  const names = new Map(report.run.targets.map((t) => [t.id, t.name ?? t.id]));
  // For reading: the directory first, then environments, then orgs, each by name.
  const kindRank = { tenant: 0, environment: 1, 'salesforce-org': 2 } as const;
  const targets = [...report.run.targets].sort((a, b) => kindRank[a.kind] - kindRank[b.kind] || (a.name ?? a.id).localeCompare(b.name ?? b.id));
  const position = new Map(targets.map((t, i) => [t.id, i]));
  const findings = [...json.findings].sort((a, b) => (position.get(a.targetId) ?? -1) - (position.get(b.targetId) ?? -1));
  const raisedKeys = new Set(
    report.findings.filter((x) => x.previousSeverity && x.lastRunId === json.runId).map(findingKey),
  );
  const previousSeverity = new Map(report.findings.map((x) => [findingKey(x), x.previousSeverity]));
  const lines: string[] = [];
  lines.push(`Run ${json.runId}: ${json.status}`);
  lines.push('');
  lines.push('Targets');
  for (const t of targets) lines.push(`  ${t.status.padEnd(9)} ${t.kind.padEnd(14)} ${t.name ?? t.id}${t.error ? `  (${t.error})` : ''}`);
  lines.push('');
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const f of json.findings) counts[f.severity]++;
  lines.push(`Findings: ${json.findings.length} (critical ${counts.critical}, warning ${counts.warning}, info ${counts.info}); resolved by this run: ${json.resolved.length}`);
  // SPEC §7 Money: per currency, never summed across currencies.
  const reclaimable = reclaimableMonthlyTotals(json.findings.filter((f) => !f.suppressed));
  if (reclaimable.length > 0) lines.push(`Licences reclaimable each month: ${formatMoney(reclaimable)}`);
  let current = '';
  for (const f of findings) {
    if (f.targetId !== current) {
      current = f.targetId;
      lines.push('');
      lines.push(`  ${names.get(f.targetId) ?? f.targetId}`);
    }
    const key = findingKey(f);
    const raised = raisedKeys.has(key) ? ` (was ${previousSeverity.get(key)})` : '';
    lines.push(`    ${f.severity.toUpperCase().padEnd(8)} ${f.state.padEnd(8)} ${f.title}${raised}${f.suppressed ? ' [suppressed]' : ''}`);
    lines.push(`             ${f.checkId} · ${/^.*?[.!?](\s|$)/.exec(f.remediation)?.[0]?.trim() ?? f.remediation}`);
  }
  if (json.resolved.length > 0) {
    lines.push('');
    lines.push('Resolved');
    for (const r of report.resolved) lines.push(`    RESOLVED ${r.title}\n             ${r.checkId}`);
  }
  return lines.join('\n');
}

export async function runAuditCommand(options: AuditCommandOptions): Promise<void> {
  const runtime = await openRuntime({ ...options, env: options.now ? { STEWARD_AUDIT_TIME: options.now } : undefined });
  try {
    const showProgress = !options.json && process.stderr.isTTY;
    const bar = showProgress
      ? new cliProgress.SingleBar({ format: 'Auditing {bar} {value}/{total} targets  {target}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    let started = false;
    const report = await runtime.audit.run('cli', {
      full: options.full,
      onTargetDone: (target, done, total) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0, { target: '' });
          started = true;
        }
        bar.update(done, { target: target.name ?? target.id });
      },
    });
    bar?.stop();
    process.stdout.write(options.json ? `${JSON.stringify(auditRunJson(report), null, 2)}\n` : `${renderAuditTable(report)}\n`);
    if (options.report) await writeRunReport(runtime.audit, report.run.runId, 'html', options.report);
    if (report.run.status === 'failed') process.exitCode = 2;
  } finally {
    await runtime.close();
  }
}
