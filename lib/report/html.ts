import escapeHtml from 'escape-html';
import { formatMoney } from '../domain/money.js';
import type { ChangeKind, ReportFinding, RunReport } from './model.js';
import { SEVERITY_COLOURS, renderTrendChart } from './trend-chart.js';

/**
 * The nightly report as one self-contained HTML page (issue 13): styles and the chart inline, no
 * script, and a Content-Security-Policy that lets the page load nothing at all, so opening it (from
 * a mail, a share, the API) contacts no one. Every value from the tenant is HTML-escaped.
 */

/** What the page lets itself load: nothing but its own inline styles and data: images. */
export const REPORT_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const h = (value: unknown): string => escapeHtml(String(value));

const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 4px; } h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 1px solid #e4e7ec; padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; } h4 { font-size: .95rem; margin: 12px 0 4px; font-family: ui-monospace, monospace; }
.meta { color: #475467; margin: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: .9rem; } th, td { border: 1px solid #e4e7ec; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.sev { display: inline-block; min-width: 4.5em; padding: 0 6px; border-radius: 4px; color: #fff; font-size: .8rem; text-align: center; text-transform: uppercase; }
${Object.entries(SEVERITY_COLOURS).map(([s, c]) => `.sev-${s} { background: ${c}; }`).join('\n')}
.state { font-size: .8rem; color: #475467; border: 1px solid #d0d5dd; border-radius: 4px; padding: 0 4px; }
.status-succeeded { color: #067647; } .status-partial, .status-skipped { color: #b54708; } .status-failed { color: #b42318; }
article.finding { border: 1px solid #e4e7ec; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
article.finding p { margin: 4px 0; } .title { font-weight: 600; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 4px 0; font-size: .85rem; }
dl.details dt { color: #475467; } dl.details dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
ul.changes { margin: 4px 0 8px; padding-left: 20px; }
svg.trend { width: 100%; max-width: 720px; height: auto; font-size: 11px; fill: #475467; }
.empty { color: #475467; font-style: italic; }
`;

const CHANGE_TITLES: Record<ChangeKind, string> = {
  opened: 'Opened',
  reopened: 'Reopened',
  worsened: 'Worsened (severity raised)',
  resolved: 'Resolved',
};

function severityBadge(severity: string): string {
  return `<span class="sev sev-${h(severity)}">${h(severity)}</span>`;
}

function detailValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null ? String(value) : JSON.stringify(value);
}

function findingArticle(f: ReportFinding): string {
  const details = Object.entries(f.details);
  const facts = f.factIds.length > 0 ? f.factIds.join(', ') : '—';
  const raised = f.previousSeverity && f.previousSeverity !== f.severity ? ` <span class="state">was ${h(f.previousSeverity)}</span>` : '';
  const suppression = f.suppression
    ? `<p class="suppression">Suppressed${f.suppression.subjectId === '*' ? ' (whole check)' : ''} until <time datetime="${h(f.suppression.expiresAt)}">${h(f.suppression.expiresAt)}</time> by ${h(f.suppression.createdBy)}: ${h(f.suppression.reason)}</p>`
    : '';
  return (
    `<article class="finding" data-finding data-severity="${h(f.severity)}" data-check="${h(f.checkId)}" data-target="${h(f.targetId)}">` +
    `<p>${severityBadge(f.severity)} <span class="state">${h(f.state)}</span>${raised} <span class="title">${h(f.title)}</span></p>` +
    suppression +
    `<p class="remediation">${h(f.remediation)}</p>` +
    `<p class="meta">Facts: <span class="facts">${h(facts)}</span> · subject <code>${h(f.subjectId)}</code> · open since ${h(f.openedAt)} · ` +
    `<a href="${h(f.docsUrl)}">${h(f.checkId)} documentation</a></p>` +
    (details.length > 0 ? `<dl class="details">${details.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(detailValue(v))}</dd>`).join('')}</dl>` : '') +
    `</article>`
  );
}

function summarySection(report: RunReport): string {
  const { counts } = report;
  const targets = report.targets
    .map(
      (t) =>
        `<tr><td>${h(t.name ?? t.id)}</td><td>${h(t.kind)}</td><td class="status-${h(t.status)}">${h(t.status)}</td><td>${h(t.error ?? '')}</td></tr>`,
    )
    .join('');
  const severities = ['critical', 'warning', 'info'] as const;
  const matrix = severities
    .map((s) => {
      const m = counts.matrix[s];
      return `<tr><th>${severityBadge(s)}</th><td class="n">${m.new}</td><td class="n">${m.reopened}</td><td class="n">${m.open}</td><td class="n">${m.suppressed}</td><td class="n">${counts.bySeverity[s]}</td></tr>`;
    })
    .join('');
  const reclaimable = report.reclaimableMonthly.length > 0 ? `<p>Licences reclaimable each month: <strong>${h(formatMoney(report.reclaimableMonthly))}</strong></p>` : '';
  return (
    `<section id="targets"><h2>Targets</h2><table><thead><tr><th>target</th><th>kind</th><th>status</th><th>error</th></tr></thead><tbody>${targets}</tbody></table></section>` +
    `<section id="counts"><h2>Counts</h2>` +
    `<table class="counts"><thead><tr><th>severity</th><th>new</th><th>reopened</th><th>still open</th><th>of which suppressed</th><th>open in all</th></tr></thead>` +
    `<tbody>${matrix}</tbody><tfoot><tr><th>all</th><td class="n" data-count="new">${counts.byState.new}</td><td class="n" data-count="reopened">${counts.byState.reopened}</td>` +
    `<td class="n" data-count="open">${counts.byState.open}</td><td class="n" data-count="suppressed">${counts.byState.suppressed}</td>` +
    `<td class="n" data-count="total">${counts.bySeverity.critical + counts.bySeverity.warning + counts.bySeverity.info}</td></tr></tfoot></table>` +
    `<p>Resolved by this run: <strong data-count="resolved">${counts.byState.resolved}</strong></p>${reclaimable}</section>`
  );
}

function changesSection(report: RunReport): string {
  const parts = (Object.keys(CHANGE_TITLES) as ChangeKind[]).map((kind) => {
    const items = report.changes[kind];
    const list =
      items.length === 0
        ? '<p class="empty">none</p>'
        : `<ul class="changes">${items
            .map((f) => `<li>${severityBadge(f.severity)} ${h(f.title)} <span class="meta">(${h(f.checkId)} · ${h(f.targetName)}${kind === 'worsened' && f.previousSeverity ? ` · was ${h(f.previousSeverity)}` : ''})</span></li>`)
            .join('')}</ul>`;
    return `<h3 id="changes-${kind}">${h(CHANGE_TITLES[kind])} (${items.length})</h3>${list}`;
  });
  return `<section id="changes"><h2>What changed in this run</h2>${parts.join('')}</section>`;
}

function openSection(report: RunReport): string {
  if (report.open.length === 0) return `<section id="open"><h2>Open findings</h2><p class="empty">No open findings.</p></section>`;
  const targets = report.open
    .map(
      (group) =>
        `<section class="target" data-target="${h(group.target.id)}"><h3>${h(group.target.name ?? group.target.id)} <span class="meta">(${h(group.target.kind)} · ${h(group.target.id)})</span></h3>` +
        group.checks
          .map(
            (check) =>
              `<h4><a href="${h(check.docsUrl)}">${h(check.checkId)}</a> <span class="meta">(${check.findings.length} · facts ${h(check.factIds.join(', ') || '—')})</span></h4>` +
              check.findings.map(findingArticle).join(''),
          )
          .join('') +
        `</section>`,
    )
    .join('');
  return `<section id="open"><h2>Open findings</h2>${targets}</section>`;
}

function suppressedSection(report: RunReport): string {
  const body = report.suppressed.length === 0 ? '<p class="empty">No suppressed findings.</p>' : report.suppressed.map(findingArticle).join('');
  return `<section id="suppressed"><h2>Suppressed findings (${report.suppressed.length})</h2>${body}</section>`;
}

function trendSection(report: RunReport): string {
  const rows = report.trend
    .map((p) => `<tr><td>${h(p.startedAt)}</td><td>${h(p.runId)}</td><td>${h(p.status)}</td><td class="n">${p.critical}</td><td class="n">${p.warning}</td><td class="n">${p.info}</td></tr>`)
    .join('');
  return (
    `<section id="trend"><h2>Trend</h2>${renderTrendChart(report.trend)}` +
    `<details><summary>The figures</summary><table><thead><tr><th>started</th><th>run</th><th>status</th><th>critical</th><th>warning</th><th>info</th></tr></thead><tbody>${rows}</tbody></table></details></section>`
  );
}

/** The report page of a run. */
export function renderReportHtml(report: RunReport): string {
  const { run } = report;
  const title = `Steward audit ${run.runId}`;
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${h(REPORT_CONTENT_SECURITY_POLICY)}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">` +
    `<title>${h(title)}</title><style>${STYLE}</style></head><body>` +
    `<header><h1>${h(title)}: <span class="status-${h(run.status)}" id="run-status">${h(run.status)}</span></h1>` +
    `<p class="meta">Started ${h(run.startedAt)}${run.finishedAt ? `, finished ${h(run.finishedAt)}` : ''} (${h(run.trigger)}) · report generated ${h(report.generatedAt)}</p>` +
    // Links within the page only: following them fetches nothing.
    `<nav class="meta"><a href="#targets">Targets</a> · <a href="#counts">Counts</a> · <a href="#trend">Trend</a> · <a href="#changes">Changes</a> · ` +
    `<a href="#open">Open findings</a> · <a href="#suppressed">Suppressed</a></nav></header>` +
    summarySection(report) +
    trendSection(report) +
    changesSection(report) +
    openSection(report) +
    suppressedSection(report) +
    `</body></html>\n`
  );
}
