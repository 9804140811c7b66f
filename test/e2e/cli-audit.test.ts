import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_CATALOGUE } from '../../lib/domain/check-catalogue.js';
import { DEMO, steward, type CliAnswer } from './support/cli.js';

/**
 * Issue 14: the readable audit of the demo tenant, as an admin reads it (each remediation whole,
 * the accounts and licences by product name, a line per target with what passed), and the exit
 * codes a pipeline branches on (README: 0, 1 with --fail-on, 2 for a partial run).
 */

const work = mkdtempSync(join(tmpdir(), 'steward-audit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let table: CliAnswer;
beforeAll(async () => {
  table = await steward(['audit', '--fixture', DEMO]);
});

/** The block of one target: its heading line to the next blank line. */
const block = (name: string) => {
  const start = table.stdout.indexOf(`\n${name} (`);
  expect(start, `no block for ${name}`).toBeGreaterThan(-1);
  const end = table.stdout.indexOf('\n\n', start + 1);
  return table.stdout.slice(start + 1, end === -1 ? undefined : end);
};

describe('the readable audit', () => {
  it('exits 0 without --fail-on and counts every target once', () => {
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^Run \S+: succeeded · 8 targets: 7 succeeded, 1 skipped$/);
  });

  it('shows every remediation whole, not its first sentence', () => {
    const cap = CHECK_CATALOGUE.find((c) => c.id === 'dataverse.non-interactive-cap')!.remediation!;
    expect(cap.split('. ').length).toBeGreaterThan(1);
    expect(block('Tailspin Sandbox')).toContain(`→ ${cap}`);
  });

  it('names the accounts behind a count and the licences by product name', () => {
    const sandbox = block('Tailspin Sandbox');
    expect(sandbox).toContain('accounts (7): svc-a@tailspin.onmicrosoft.com, svc-b@tailspin.onmicrosoft.com');
    expect(block('Entra ID directory')).toContain('licences: Dynamics 365 for Sales Enterprise Edition (DYN365_ENTERPRISE_SALES), Microsoft 365 E3 (SPE_E3)');
  });

  it('a clean target says which checks passed; a skipped one that it was not audited', () => {
    const dev = block('Ana Dev');
    expect(dev).toMatch(/^Ana Dev \(environment\) — succeeded\n {2}✓ passed \(9\): dataverse\.non-interactive-cap, /);
    expect(block('Tailspin (default)')).toContain('— skipped: no Dataverse database (D3)\n  not audited in this run');
    expect(block('Tailspin Sales (Salesforce)')).toContain('✓ passed (2): salesforce.integration-profile-conflict, salesforce.connected-app-missing');
  });
});

describe('audit exit codes', () => {
  it('--fail-on critical exits 1 while critical findings are open; --fail-on rejects an unknown level', async () => {
    const critical = await steward(['audit', '--fixture', DEMO, '--fail-on', 'critical', '--json']);
    expect(JSON.parse(critical.stdout).findings.some((f: { severity: string }) => f.severity === 'critical')).toBe(true);
    expect(critical.code).toBe(1);
    const unknown = await steward(['audit', '--fixture', DEMO, '--fail-on', 'severe']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("Allowed choices are critical, warning, info");
  });

  it('--fail-on critical exits 0 when the open findings are all below it', async () => {
    const fixture = JSON.parse(readFileSync(DEMO, 'utf8'));
    // Only the Ana Dev environment, whose one finding is a warning at most.
    fixture.environments = fixture.environments.filter((e: { displayName: string }) => e.displayName === 'Ana Dev');
    fixture.salesforceOrgs = [];
    writeFileSync(join(work, 'small.json'), JSON.stringify(fixture));
    const answer = await steward(['audit', '--fixture', 'small.json', '--fail-on', 'critical', '--json'], { cwd: work });
    const severities = new Set(JSON.parse(answer.stdout).findings.map((f: { severity: string }) => f.severity));
    expect(severities.has('critical')).toBe(false);
    expect(answer.code).toBe(0);
  });

  it('a partial run exits 2 and names the failed target', async () => {
    const fixture = JSON.parse(readFileSync(DEMO, 'utf8'));
    fixture.faults = { '00D8d000002WNGTEAA': { down: true } };
    writeFileSync(join(work, 'down.json'), JSON.stringify(fixture));
    const answer = await steward(['audit', '--fixture', 'down.json'], { cwd: work, env: { STEWARD_HTTP_RETRIES: '0' } });
    expect(answer.code).toBe(2);
    expect(answer.stdout).toMatch(/^Run \S+: partial · 8 targets: 6 succeeded, 1 failed, 1 skipped/);
    expect(answer.stdout).toContain('Wingtip (Salesforce) (Salesforce org) — failed: ');
  });
});
