import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/diagnose.js';
import { LICENCE_WASTE_CHECKS, reclaimableMonthlyTotals } from '../../lib/domain/money.js';
import { loadFixture, type Fixture } from '../../simulator/index.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * SPEC §7 on fixtures/licence-waste.json, in the manner of the contoso acceptance test: `steward audit
 * --fixture … --json` yields exactly the findings of licence-waste.expected.json (each rule of §7, both
 * currencies), the licence-waste ones with their monthly cost; the same tenant without the premium
 * licence records that sign-in activity is unavailable instead of failing; diagnose sees roles through
 * group teams (U4) and admins through role-assignable groups (U5).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturePath = join(root, 'fixtures', 'licence-waste.json');
type Money = { currency: string; amount: number };
type ExpectedFinding = { checkId: string; targetId: string; subjectId: string; severity: string; monthlyCost?: Money[] };
const expected = JSON.parse(readFileSync(join(root, 'fixtures', 'licence-waste.expected.json'), 'utf8')) as {
  targets: Record<string, string>;
  findings: ExpectedFinding[];
  reclaimableMonthly: Money[];
  diagnose: { groupTeamOnly: { user: string; environment: string; role: string; team: string }; adminThroughGroup: { user: string; environment: string; group: string } };
};

const run = promisify(execFile);
const key = (f: Pick<ExpectedFinding, 'checkId' | 'targetId' | 'subjectId' | 'severity'>) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`;
const waste = new Set<string>(LICENCE_WASTE_CHECKS);

type AuditJson = { status: string; targets: { id: string; status: string }[]; findings: (ExpectedFinding & { details: Record<string, unknown>; remediation: string })[] };

describe('licence waste and access truth (SPEC §7)', () => {
  it('steward audit finds exactly the expected findings, each licence-waste one with its monthly cost per currency', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'steward', '--', 'audit', '--fixture', fixturePath, '--json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const result = JSON.parse(stdout) as AuditJson;
    expect(result.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
    expect(Object.fromEntries(result.targets.map((t) => [t.id, t.status]))).toEqual(expected.targets);
    expect(result.status).toBe('succeeded');
    const costs = (list: { checkId: string; targetId: string; subjectId: string; severity: string; monthlyCost?: unknown; details?: Record<string, unknown> }[]) =>
      Object.fromEntries(list.filter((f) => waste.has(f.checkId)).map((f) => [key(f), f.details ? f.details.monthlyCost : f.monthlyCost]));
    expect(costs(result.findings)).toEqual(costs(expected.findings));
    expect(reclaimableMonthlyTotals(result.findings)).toEqual(expected.reclaimableMonthly);
    expect(result.findings.every((f) => /\b[A-Z]\d/.test(f.remediation))).toBe(true);
  });

  it('the readable table shows the reclaimable total per currency, never one sum', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'steward', '--', 'audit', '--fixture', fixturePath], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toContain('Licences reclaimable each month: 422.25 EUR + 60.00 USD');
  });

  describe('in process', () => {
    let t: TestServices;
    beforeAll(async () => void (t = await startTestServices(loadFixture(fixturePath))));
    afterAll(() => t?.stop());

    it('diagnose shows a role that comes only from a group team, with the team, and no U3 note', async () => {
      const { user, environment, role, team } = expected.diagnose.groupTeamOnly;
      const d = await diagnose(t.services, user, environment);
      expect(d.currentRow?.roles).toEqual([expect.objectContaining({ name: role, via: 'group-team', team })]);
      expect(d.notes.map((n) => n.factId)).not.toContain('U3');
    });

    it('diagnose of a user whose group team does not take them (a member where the team takes owners) keeps the U3 note', async () => {
      const d = await diagnose(t.services, 'rick@fabrikam.onmicrosoft.com', expected.diagnose.groupTeamOnly.environment);
      expect(d.currentRow?.roles).toEqual([]);
      expect(d.notes.map((n) => n.factId)).toContain('U3');
    });

    it('diagnose of an administrator through a role-assignable group says eligible, naming the group', async () => {
      const { user, environment, group } = expected.diagnose.adminThroughGroup;
      const d = await diagnose(t.services, user, environment);
      expect(d.verdict).toBe('eligible');
      expect(d.reasons).toEqual([]);
      expect(d.expectedAccessMode).toBe('administrative');
      expect(JSON.stringify([...d.reasons, ...d.notes])).toContain(group);
    });

    it('diagnose of a user whose only environment licence is in error says not eligible (L3, D4.2)', async () => {
      const d = await diagnose(t.services, 'erin@fabrikam.onmicrosoft.com', expected.diagnose.groupTeamOnly.environment);
      expect(d.verdict).toBe('not-eligible');
      expect(d.reasons.map((r) => r.factId)).toEqual(['D4.2']);
    });
  });

  it('a tenant without the premium licence for signInActivity gets every other finding and one saying the inactivity check could not run', async () => {
    const fixture = loadFixture(fixturePath);
    fixture.tenant = { ...fixture.tenant, signInActivityAvailable: false } as Fixture['tenant'];
    const t = await startTestServices(fixture);
    try {
      const report = await t.audit.run('cli');
      const inactive = expected.findings.filter((f) => f.checkId === 'entra.inactive-licensed-user');
      const others = expected.findings.filter((f) => f.checkId !== 'entra.inactive-licensed-user');
      expect(report.run.status).toBe('succeeded');
      expect(report.findings.map(key).sort()).toEqual(
        [...others, { checkId: 'entra.sign-in-activity-unavailable', targetId: 'tenant', subjectId: 'signInActivity', severity: 'info' }].map(key).sort(),
      );
      expect(inactive.length).toBeGreaterThan(0);
    } finally {
      await t.stop();
    }
  });
});
