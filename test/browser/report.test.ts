import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoExpectedFindings, demoTenant } from '../../fixtures/demo-tenant.js';

/**
 * Issue 13, done when: `steward audit --fixture ../shared/fixtures/contoso.json --report r.html`
 * writes a report that headless Chromium renders with all 26 findings, a chart, and no outside
 * request. Without ../shared the shipped demo tenant stands in. The browser is Debian's chromium
 * (.ci/run installs it), driven by playwright-core; a screenshot goes to artifacts/report.png.
 */

const root = join(import.meta.dirname, '..', '..');
const contoso = join(root, '..', 'shared', 'fixtures', 'contoso.json');
const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';

const work = mkdtempSync(join(tmpdir(), 'steward-report-'));
let browser: Browser;
let expectedFindings: number;
let reportFile: string;

beforeAll(async () => {
  let fixture = contoso;
  expectedFindings = 26;
  if (!existsSync(contoso)) {
    fixture = join(work, 'demo-tenant.json');
    writeFileSync(fixture, JSON.stringify(demoTenant()));
    expectedFindings = demoExpectedFindings().length;
  }
  reportFile = join(work, 'r.html');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'lib/cli/main.ts'), 'audit', '--fixture', fixture, '--report', reportFile], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the report in headless Chromium', () => {
  it('renders every finding and the trend chart, with no console error and no request leaving the file', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url() === pageUrl ? route.continue() : route.abort();
    });
    const pageUrl = pathToFileURL(reportFile).href;
    await page.goto(pageUrl, { waitUntil: 'load' });

    expect(requests).toEqual([pageUrl]);
    expect(problems).toEqual([]);
    await expect(page.locator('[data-finding]').count()).resolves.toBe(expectedFindings);
    await expect(page.locator('#counts [data-count="total"]').textContent()).resolves.toBe(String(expectedFindings));
    await expect(page.locator('#run-status').textContent()).resolves.toBe('succeeded');

    // The chart is drawn: an SVG with a size, a line or point per severity.
    const chart = page.locator('#trend svg.trend');
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(100);
    await expect(chart.locator('circle').count()).resolves.toBe(3);
    const openCounts = await chart.locator('g.series circle title').allTextContents();
    expect(openCounts.join(' ')).toMatch(/\d+ critical/);

    mkdirSync(join(root, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'artifacts', 'report.png'), fullPage: true });
    expect(readFileSync(join(root, 'artifacts', 'report.png')).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });
});
