import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SALESFORCE_CONDITIONS, type SalesforceCondition } from '../../lib/domain/check-catalogue.js';
import { steward, DEMO } from './support/cli.js';

/**
 * Issue 14: readiness and the audit say the same of a Salesforce org: every condition readiness
 * finds that the audit has a check for is a finding of that check, a `problem` a critical one and a
 * `warning` a warning; readiness exits 1 when a condition is a problem, 0 otherwise. On the demo
 * tenant with the Tailspin org's connected app deleted.
 */

const work = mkdtempSync(join(tmpdir(), 'steward-readiness-'));
const fixture = join(work, 'tenant.json');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TAILSPIN = '00D8d000001TSPNEAA';
const WINGTIP = '00D8d000002WNGTEAA';

type Check = { id: SalesforceCondition; status: string };
let audit: { findings: { checkId: string; targetId: string; severity: string }[] };
beforeAll(async () => {
  const tenant = JSON.parse(readFileSync(DEMO, 'utf8'));
  tenant.salesforceOrgs.find((o: { orgId?: string; id?: string }) => (o.orgId ?? o.id) === TAILSPIN).connectedApplications = [];
  writeFileSync(fixture, JSON.stringify(tenant));
  audit = JSON.parse((await steward(['audit', '--fixture', fixture, '--json'])).stdout);
});

describe('readiness and the audit agree', () => {
  it.each([TAILSPIN, WINGTIP])('org %s: the same conditions, the same severity', async (org) => {
    const readiness = JSON.parse((await steward(['readiness', '--fixture', fixture, '--org', org, '--json'])).stdout) as { checks: Check[] };
    const fromReadiness = readiness.checks
      .filter((c) => c.status !== 'ok' && SALESFORCE_CONDITIONS[c.id].checkId)
      .map((c) => `${SALESFORCE_CONDITIONS[c.id].checkId} ${c.status === 'problem' ? 'critical' : 'warning'}`)
      .sort();
    const fromAudit = audit.findings.filter((f) => f.targetId === org).map((f) => `${f.checkId} ${f.severity}`).sort();
    expect(fromAudit).toEqual(fromReadiness);
    expect(fromAudit.length).toBeGreaterThan(0);
  });

  it('the missing connected app is a critical finding and a readiness problem, exit 1', async () => {
    const answer = await steward(['readiness', '--fixture', fixture, '--org', 'Tailspin Sales (Salesforce)']);
    expect(answer.code).toBe(1);
    expect(answer.stdout).toContain('✗ connected-app        An integration user exists but no Copilot for Sales connected app');
    expect(audit.findings).toContainEqual(expect.objectContaining({ checkId: 'salesforce.connected-app-missing', targetId: TAILSPIN, severity: 'critical' }));
  });

  it('the profile conflict (S5) is a warning in both; an org with warnings only exits 0', async () => {
    const readiness = await steward(['readiness', '--fixture', DEMO, '--org', 'wingtip (salesforce)', '--json']);
    const statuses = Object.fromEntries((JSON.parse(readiness.stdout) as { checks: Check[] }).checks.map((c) => [c.id, c.status]));
    expect(statuses).toMatchObject({ S5: 'warning', S2: 'warning' });
    expect(Object.values(statuses)).not.toContain('problem');
    expect(readiness.code).toBe(0);
  });
});
