import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { parseHTML } from 'linkedom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunReports } from '../../lib/audit/run-report.js';
import { createAuditPipeline, createAuditRunner } from '../../lib/composition.js';
import type { ReportFiles } from '../../lib/gateways/storage/report-files.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { demoExpectedFindings, demoTenant, ids } from '../../fixtures/demo-tenant.js';
import { FUNCTION_KEY, startHarness, type Harness } from './support/harness.js';

/**
 * The nightly report (issue 13) end to end: each finished run's page and CSV are stored in Blob
 * Storage (Azurite) and served over HTTP by the same handlers the Functions host runs, and written
 * by `steward report`. Two runs over the demo tenant, a suppression between them.
 */

const PROD = ids.env('Prod');
const expected = demoExpectedFindings();
const work = mkdtempSync(join(tmpdir(), 'steward-report-e2e-'));
let h: Harness;
let first: string;
let second: string;

async function get(path: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(new URL(path, h.server.apiUrl), { headers: { 'x-functions-key': FUNCTION_KEY } });
  // As bytes: the CSV's byte-order mark is part of what is served (text() would drop it).
  return { status: response.status, headers: response.headers, text: Buffer.from(await response.arrayBuffer()).toString('utf8') };
}

const findingsOnPage = (html: string) => [...parseHTML(html).document.querySelectorAll('[data-finding]')];

beforeAll(async () => {
  h = await startHarness(demoTenant());
});

afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the report of a run', () => {
  it('has no report before any run: latest is a 404 problem', async () => {
    const latest = await get('audits/latest/report');
    expect(latest.status).toBe(404);
    expect(latest.headers.get('content-type')).toBe('application/problem+json');
  });

  it('is stored when the run finishes and served as self-contained HTML with every finding', async () => {
    first = (await h.audit.run('cli')).run.runId;
    const page = await get(`audits/${first}/report`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const shown = findingsOnPage(page.text);
    expect(shown).toHaveLength(expected.length);
    const keys = shown.map((f) => `${f.getAttribute('data-check')} ${f.getAttribute('data-target')}`).sort();
    expect(keys).toEqual(expected.map((f) => `${f.checkId} ${f.targetId}`).sort());
    const doc = parseHTML(page.text).document;
    expect(doc.querySelector('#run-status')?.textContent).toBe('succeeded');
    expect(doc.querySelector('#counts [data-count="new"]')?.textContent).toBe(String(expected.length));
  });

  it("keeps each run's report as it was; latest is the newest; suppressed findings are apart with their reason", async () => {
    await h.audit.suppress(
      { checkId: 'dataverse.profile-drift', targetId: PROD, subjectId: '*', reason: 'HR fixes titles on Monday', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
      'e2e',
    );
    second = (await h.audit.run('cli')).run.runId;

    const latest = parseHTML((await get('audits/latest/report')).text).document;
    expect(latest.querySelector('h1')?.textContent).toContain(second);
    const suppressed = [...latest.querySelectorAll('#suppressed [data-finding]')];
    expect(suppressed.map((f) => f.getAttribute('data-check'))).toEqual(['dataverse.profile-drift']);
    expect(suppressed[0]!.querySelector('.suppression')?.textContent).toContain('HR fixes titles on Monday');
    expect(latest.querySelector('#counts [data-count="open"]')?.textContent).toBe(String(expected.length));
    // The trend has both runs.
    expect(latest.querySelectorAll('#trend g.series[data-severity="warning"] circle')).toHaveLength(2);

    const earlier = parseHTML((await get(`audits/${first}/report`)).text).document;
    expect(earlier.querySelectorAll('#suppressed [data-finding]')).toHaveLength(0);
  });

  it('serves the findings as CSV, for a run and for the latest', async () => {
    const csv = await get(`audits/${first}/findings.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="steward-findings-${first}.csv"`);
    const rows = parse(csv.text, { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => `${r.checkId} ${r.targetId} ${r.subjectId}`).sort()).toEqual(expected.map((f) => `${f.checkId} ${f.targetId} ${f.subjectId}`).sort());
    expect(rows.every((r) => r.state === 'new')).toBe(true);

    const latest = parse((await get('audits/latest/findings.csv')).text, { columns: true, bom: true }) as Record<string, string>[];
    expect(latest.filter((r) => r.suppressed === 'true').map((r) => r.suppressionReason)).toEqual(['HR fixes titles on Monday']);
  });

  it('is written by `steward report --run ID|latest --out FILE [--csv]` from the storage it is given', async () => {
    const steward = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'report', '--storage', h.storage.connectionString, ...args], {
        cwd: join(import.meta.dirname, '..', '..'),
        env: { ...process.env, STEWARD_TENANT_ID: h.services.settings.tenantId },
      });
    const page = join(work, 'first.html');
    await steward('--run', first, '--out', page);
    expect(readFileSync(page, 'utf8')).toBe((await get(`audits/${first}/report`)).text);

    const csv = join(work, 'latest.csv');
    await steward('--run', 'latest', '--csv', '--out', csv);
    expect(readFileSync(csv, 'utf8')).toBe((await get(`audits/${second}/findings.csv`)).text);
  });

  it('a report that cannot be stored does not fail the run; its page is then a 404', async () => {
    const blobsDown: ReportFiles = { put: () => Promise.reject(new Error('blob storage is down')), get: () => Promise.resolve(null) };
    const reports = new RunReports({ store: createAuditStore(h.services.tables), files: blobsDown, docsBaseUrl: 'docs/checks/' });
    const pipeline = createAuditPipeline(h.services, { reports });
    const runner = createAuditRunner(h.services, { dispatch: 'in-process', pipeline });
    const report = await runner.run('cli');
    expect(report.run.status).toBe('succeeded');
    const page = await get(`audits/${report.run.runId}/report`);
    expect(page.status).toBe(404);
    expect(JSON.parse(page.text)).toMatchObject({ kind: 'audit-report', id: report.run.runId });
  });
  it('answers 404 for an unknown run, 400 for a malformed run id, 202 while the run is running', async () => {
    const unknown = await get('audits/20990101T000000-deadbeef/report');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ status: 404, kind: 'audit-run' });
    const bad = await get('audits/not_a_run/report');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).errors.map((e: { pointer: string }) => e.pointer)).toEqual(['#/runId']);

    await createAuditStore(h.services.tables).createRun({ runId: '20990101T000000-0000beef', status: 'running', startedAt: '2099-01-01T00:00:00.000Z', finishedAt: null, trigger: 'http', targets: [] });
    const running = await get('audits/20990101T000000-0000beef/report');
    expect(running.status).toBe(202);
    expect(Number(running.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(new URL(running.headers.get('location')!).pathname).toBe('/api/audits/20990101T000000-0000beef/report');
    expect(JSON.parse(running.text)).toEqual({ runId: '20990101T000000-0000beef', status: 'running' });
  });
});
