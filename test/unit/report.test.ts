import { parse } from 'csv-parse/sync';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import type { AuditRun, StoredFinding, Suppression } from '../../lib/domain/finding.js';
import { FINDINGS_CSV_COLUMNS, renderFindingsCsv } from '../../lib/report/csv.js';
import { REPORT_CONTENT_SECURITY_POLICY, renderReportHtml } from '../../lib/report/html.js';
import { buildRunReport, type ReportFindingInput, type RunReportInput, type TrendPoint } from '../../lib/report/model.js';
import { findingsCsvPath, reportPath } from '../../lib/report/paths.js';

/**
 * The nightly report (issue 13) rendered from a run: what an admin who opens the page (or the CSV
 * in a spreadsheet) sees. Pure: the inputs are built here.
 */

const RUN = '20260301T020000-0000abcd';
const PREVIOUS_RUN = '20260228T020000-0000abcd';
const PROD = '11111111-0000-0000-0000-000000000001';
const ORG = '00D5g000004ABCDEAA';

function stored(partial: Partial<StoredFinding> & Pick<StoredFinding, 'checkId' | 'targetId' | 'subjectId'>): StoredFinding {
  return {
    severity: 'warning',
    title: `${partial.checkId} on ${partial.subjectId}`,
    details: {},
    remediation: 'Do the thing (T3).',
    status: 'open',
    state: 'open',
    firstSeenAt: '2026-02-01T02:00:00.000Z',
    lastSeenAt: '2026-03-01T02:00:00.000Z',
    openedAt: '2026-02-01T02:00:00.000Z',
    openedRunId: 'older-run',
    resolvedAt: null,
    reopenCount: 0,
    previousSeverity: null,
    lastRunId: RUN,
    alertedState: null,
    ...partial,
  };
}

function open(partial: Parameters<typeof stored>[0], runState: ReportFindingInput['runState'] = 'open', suppressed = false): ReportFindingInput {
  return { ...stored(partial), runState, suppressed };
}

const run: AuditRun = {
  runId: RUN,
  status: 'partial',
  startedAt: '2026-03-01T02:00:00.000Z',
  finishedAt: '2026-03-01T02:03:00.000Z',
  trigger: 'schedule',
  targets: [
    { id: ORG, kind: 'salesforce-org', status: 'failed', name: 'Contoso Sales', error: 'TotalRequests Limit exceeded.' },
    { id: PROD, kind: 'environment', status: 'succeeded', name: 'Prod <main>' },
    { id: 'tenant', kind: 'tenant', status: 'succeeded', name: 'Entra ID directory' },
  ],
  summary: { critical: 2, warning: 3, info: 1, opened: 2, resolved: 1 },
};

const suppression: Suppression = {
  checkId: 'dataverse.profile-drift',
  targetId: PROD,
  subjectId: '*',
  reason: 'HR import fixes titles on Monday',
  expiresAt: '2026-04-01T00:00:00.000Z',
  createdBy: 'ops@contoso.com',
  createdAt: '2026-02-20T00:00:00.000Z',
};

function input(overrides: Partial<RunReportInput> = {}): RunReportInput {
  return {
    run,
    findings: [
      open({ checkId: 'dataverse.non-interactive-cap', targetId: PROD, subjectId: 'cap', severity: 'critical', previousSeverity: 'warning', title: 'Prod: 7 enabled non-interactive users' }),
      open({ checkId: 'entra.disabled-user-licensed', targetId: 'tenant', subjectId: 'u1', title: 'bob@contoso.com is disabled', details: { userPrincipalName: 'bob@contoso.com', licenses: ['SPE_E3'] } }, 'new'),
      open({ checkId: 'dataverse.non-interactive-licensed', targetId: PROD, subjectId: 'u2' }, 'reopened'),
      open({ checkId: 'dataverse.profile-drift', targetId: PROD, subjectId: 'u3', severity: 'info' }, 'open', true),
      open({ checkId: 'audit.target-failed', targetId: ORG, subjectId: 'collection', severity: 'critical' }, 'new'),
      open({ checkId: 'dataverse.nested-security-group', targetId: PROD, subjectId: 'g1' }),
    ],
    resolved: [stored({ checkId: 'dataverse.application-user-disabled', targetId: PROD, subjectId: 'app1', status: 'resolved', resolvedAt: run.finishedAt, title: 'Prod: application user Sync is disabled' })],
    suppressions: [suppression],
    history: [],
    generatedAt: new Date('2026-03-01T02:03:00.000Z'),
    docsBaseUrl: 'docs/checks/',
    ...overrides,
  };
}

function page(html: string) {
  return parseHTML(html).document;
}

const texts = (nodes: Iterable<{ textContent: string | null }>) => [...nodes].map((n) => n.textContent?.trim() ?? '');

describe('the report page', () => {
  it('escapes every value from the tenant: a finding title holding <script> stays text', () => {
    const html = renderReportHtml(
      buildRunReport(
        input({
          findings: [
            open({
              checkId: 'entra.disabled-user-licensed',
              targetId: 'tenant',
              subjectId: '"><img src=x onerror=alert(1)>',
              title: '<script>alert("owned")</script> is disabled',
              remediation: 'Remove <b>all</b> & every licence',
              details: { '<i>key</i>': '</dd><script>alert(2)</script>' },
            }, 'new'),
          ],
        }),
      ),
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; is disabled');
    const doc = page(html);
    expect(doc.querySelectorAll('script')).toHaveLength(0);
    expect(doc.querySelector('[data-finding] .title')?.textContent).toBe('<script>alert("owned")</script> is disabled');
    expect(doc.querySelector('[data-finding] .remediation')?.textContent).toBe('Remove <b>all</b> & every licence');
    expect(texts(doc.querySelectorAll('[data-finding] dl.details dt'))).toEqual(['<i>key</i>']);
    expect(texts(doc.querySelectorAll('#targets td'))).toContain('Prod <main>');
  });

  it('lets the page load nothing: a Content-Security-Policy of none but inline styles, and no outside reference', () => {
    const html = renderReportHtml(buildRunReport(input()));
    const doc = page(html);
    expect(doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content')).toBe(REPORT_CONTENT_SECURITY_POLICY);
    expect(REPORT_CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none'/);
    expect(doc.querySelectorAll('link, script, img, iframe, object')).toHaveLength(0);
    expect(html).not.toMatch(/\bsrc=/);
  });

  it("shows the run's status and its targets, the directory first, then environments, then orgs", () => {
    const doc = page(renderReportHtml(buildRunReport(input())));
    expect(doc.querySelector('#run-status')?.textContent).toBe('partial');
    const rows = [...doc.querySelectorAll('#targets tbody tr')].map((tr) => texts(tr.querySelectorAll('td')));
    expect(rows).toEqual([
      ['Entra ID directory', 'tenant', 'succeeded', ''],
      ['Prod <main>', 'environment', 'succeeded', ''],
      ['Contoso Sales', 'salesforce-org', 'failed', 'TotalRequests Limit exceeded.'],
    ]);
  });

  it('counts the open findings by severity and state, suppressed ones among them, and what the run resolved', () => {
    const doc = page(renderReportHtml(buildRunReport(input())));
    const rows = [...doc.querySelectorAll('#counts tbody tr')].map((tr) => texts(tr.querySelectorAll('td')));
    // new, reopened, still open, of which suppressed, open in all
    expect(rows).toEqual([
      ['1', '0', '1', '0', '2'],
      ['1', '1', '1', '0', '3'],
      ['0', '0', '1', '1', '1'],
    ]);
    const count = (name: string) => doc.querySelector(`#counts [data-count="${name}"]`)?.textContent;
    expect([count('new'), count('reopened'), count('open'), count('suppressed'), count('total'), count('resolved')]).toEqual(['2', '1', '3', '1', '6', '1']);
  });

  it('lists what opened, reopened, worsened and resolved in this run', () => {
    const doc = page(renderReportHtml(buildRunReport(input())));
    const listed = (kind: string) => texts(doc.querySelectorAll(`#changes-${kind} + ul li .meta`));
    expect(doc.querySelector('#changes-opened')?.textContent).toBe('Opened (2)');
    expect(listed('opened')).toEqual(['(entra.disabled-user-licensed · Entra ID directory)', '(audit.target-failed · Contoso Sales)']);
    expect(listed('reopened')).toEqual(['(dataverse.non-interactive-licensed · Prod <main>)']);
    expect(listed('worsened')).toEqual(['(dataverse.non-interactive-cap · Prod <main> · was warning)']);
    expect(texts(doc.querySelectorAll('#changes-resolved + ul li'))[0]).toContain('Prod: application user Sync is disabled');
  });

  it('shows the open findings by target and check, each with its remediation, fact ids and the link to its check page', () => {
    const doc = page(renderReportHtml(buildRunReport(input({ docsBaseUrl: 'https://github.com/contoso/steward/blob/main/docs/checks' }))));
    const targets = [...doc.querySelectorAll('#open section.target')];
    expect(targets.map((t) => t.getAttribute('data-target'))).toEqual(['tenant', PROD, ORG]);
    const prodChecks = texts(targets[1]!.querySelectorAll('h4 a'));
    expect(prodChecks).toEqual(['dataverse.nested-security-group', 'dataverse.non-interactive-cap', 'dataverse.non-interactive-licensed']);
    const cap = targets[1]!.querySelector('[data-check="dataverse.non-interactive-cap"]')!;
    expect(cap.querySelector('.title')?.textContent).toBe('Prod: 7 enabled non-interactive users');
    expect(cap.querySelector('.remediation')?.textContent).toBe('Do the thing (T3).');
    expect(cap.querySelector('.facts')?.textContent).toBe('T3, T2');
    expect(cap.querySelector('a')?.getAttribute('href')).toBe('https://github.com/contoso/steward/blob/main/docs/checks/dataverse.non-interactive-cap.md');
    const bob = targets[0]!.querySelector('[data-finding]')!;
    expect(texts(bob.querySelectorAll('dd'))).toEqual(['bob@contoso.com', '["SPE_E3"]']);
    // Suppressed findings are not among the open ones.
    expect(doc.querySelectorAll('#open [data-check="dataverse.profile-drift"]')).toHaveLength(0);
  });

  it('shows suppressed findings apart, with the reason and the expiry', () => {
    const doc = page(renderReportHtml(buildRunReport(input())));
    const suppressed = [...doc.querySelectorAll('#suppressed [data-finding]')];
    expect(suppressed.map((s) => s.getAttribute('data-check'))).toEqual(['dataverse.profile-drift']);
    expect(suppressed[0]!.querySelector('.suppression')?.textContent).toBe(
      'Suppressed (whole check) until 2026-04-01T00:00:00.000Z by ops@contoso.com: HR import fixes titles on Monday',
    );
    expect(doc.querySelector('#suppressed h2')?.textContent).toBe('Suppressed findings (1)');
  });

  it('charts open findings by severity over the last 30 runs, oldest first, this run last', () => {
    const history: TrendPoint[] = Array.from({ length: 35 }, (_, i) => ({
      runId: `run-${String(i).padStart(2, '0')}`,
      startedAt: new Date(Date.UTC(2026, 0, 20 + i, 2)).toISOString(),
      status: 'succeeded' as const,
      critical: i,
      warning: 1,
      info: 0,
    })).filter((p) => p.startedAt < run.startedAt);
    const report = buildRunReport(input({ history }));
    expect(report.trend).toHaveLength(30);
    expect(report.trend.at(-1)).toMatchObject({ runId: RUN, critical: 2, warning: 3, info: 1 });
    expect(report.trend[0]!.startedAt < report.trend[1]!.startedAt).toBe(true);
    const chart = page(renderReportHtml(report)).querySelector('#trend svg')!;
    for (const severity of ['critical', 'warning', 'info']) {
      const series = chart.querySelector(`g.series[data-severity="${severity}"]`)!;
      expect(series.querySelectorAll('circle')).toHaveLength(30);
      expect(series.querySelector('path')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){29}$/);
    }
    expect(chart.querySelector('g.series[data-severity="critical"] circle:last-of-type title')?.textContent).toBe(`2026-03-01T02:00:00.000Z (${RUN}): 2 critical`);
  });

  it('says so when nothing is open, nothing changed and nothing is suppressed', () => {
    const doc = page(renderReportHtml(buildRunReport(input({ findings: [], resolved: [] }))));
    expect(doc.querySelector('#open .empty')?.textContent).toBe('No open findings.');
    expect(doc.querySelector('#suppressed .empty')?.textContent).toBe('No suppressed findings.');
    expect(texts(doc.querySelectorAll('#changes .empty'))).toEqual(['none', 'none', 'none', 'none']);
    expect(doc.querySelectorAll('#trend svg circle')).toHaveLength(3);
  });
});

describe('the findings as CSV', () => {
  const rows = () => parse(renderFindingsCsv(buildRunReport(input())), { columns: true, bom: true }) as Record<string, string>[];

  it('has one row per finding: the open ones, the suppressed, then those the run resolved', () => {
    const csv = renderFindingsCsv(buildRunReport(input()));
    expect(csv.startsWith('\ufefftargetId,targetName,checkId')).toBe(true);
    const all = rows();
    expect(Object.keys(all[0]!)).toEqual([...FINDINGS_CSV_COLUMNS]);
    expect(all.map((r) => [r.checkId, r.state, r.suppressed])).toEqual([
      ['entra.disabled-user-licensed', 'new', 'false'],
      ['dataverse.nested-security-group', 'open', 'false'],
      ['dataverse.non-interactive-cap', 'open', 'false'],
      ['dataverse.non-interactive-licensed', 'reopened', 'false'],
      ['audit.target-failed', 'new', 'false'],
      ['dataverse.profile-drift', 'open', 'true'],
      ['dataverse.application-user-disabled', 'resolved', 'false'],
    ]);
    const drift = all.find((r) => r.checkId === 'dataverse.profile-drift')!;
    expect([drift.suppressionReason, drift.suppressionExpiresAt, drift.documentation]).toEqual([suppression.reason, suppression.expiresAt, 'docs/checks/dataverse.profile-drift.md']);
    const bob = all[0]!;
    expect(JSON.parse(bob.details!)).toEqual({ userPrincipalName: 'bob@contoso.com', licenses: ['SPE_E3'] });
    expect(bob.factIds).toBe('E2 E7');
  });

  it('keeps a value from the tenant from becoming a spreadsheet formula, and quotes commas, quotes and line breaks', () => {
    const report = buildRunReport(
      input({
        findings: [open({ checkId: 'entra.disabled-user-licensed', targetId: 'tenant', subjectId: 'u1', title: '=HYPERLINK("http://evil","click")', remediation: 'one, "two"\nthree' })],
        resolved: [],
      }),
    );
    const [row] = parse(renderFindingsCsv(report), { columns: true, bom: true }) as Record<string, string>[];
    expect(row!.title).toBe(`'=HYPERLINK("http://evil","click")`);
    expect(row!.remediation).toBe('one, "two"\nthree');
  });
});

describe('where the report is served', () => {
  it('is /api/audits/{runId}/report, and the CSV beside it', () => {
    expect(reportPath(RUN)).toBe(`/api/audits/${RUN}/report`);
    expect(findingsCsvPath(RUN)).toBe(`/api/audits/${RUN}/findings.csv`);
  });
});

describe('a run with an earlier one', () => {
  it('charts both, even when the earlier one finished with other counts', () => {
    const previous: TrendPoint = { runId: PREVIOUS_RUN, startedAt: '2026-02-28T02:00:00.000Z', status: 'succeeded', critical: 5, warning: 0, info: 0 };
    const report = buildRunReport(input({ history: [previous] }));
    expect(report.trend.map((p) => [p.runId, p.critical])).toEqual([
      [PREVIOUS_RUN, 5],
      [RUN, 2],
    ]);
  });
});
