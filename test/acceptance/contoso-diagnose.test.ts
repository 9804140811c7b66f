import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose, type Diagnosis } from '../../lib/diagnose/diagnose.js';
import { salesforceReadiness } from '../../lib/diagnose/readiness.js';
import { loadFixture, type Fixture } from '../../simulator/index.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * SPEC §3 on the shared contoso tenant, answered as a person reading the seeds would: diagnose
 * and S2S readiness in process against the simulator, then `steward diagnose` and `steward
 * readiness` once each, run as a user runs them, through npm (SPEC §6).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturePath = join(root, '..', 'shared', 'fixtures', 'contoso.json');

const ENV = {
  salesProd: '05c07aab-d04c-4912-b11f-c5db1977e888',
  aliceDev: '3c41fc82-b1b9-47fe-a1cc-37ac9f52f1c8',
  noDataverse: '79480165-9484-483b-9797-afbc60a77683',
};
const ORG = { contoso: '00D5g000004ABCDEAA', fabrikam: '00D5g000009WXYZEAA', northwind: '00D5g00000NWINDEAA', litware: '00D5g00000LITWEEAA' };
const upn = (name: string) => `${name}@contoso.onmicrosoft.com`;
const GINA = 'gina_fabrikam.com#EXT#@contoso.onmicrosoft.com';

let fixture: Fixture;
let t: TestServices;
beforeAll(async () => {
  fixture = loadFixture(fixturePath);
  t = await startTestServices(fixture);
});
afterAll(() => t?.stop());

const factIds = (d: Diagnosis) => d.reasons.map((r) => r.factId).sort();
const messages = (d: Diagnosis) => d.reasons.map((r) => r.message).join('\n');

describe('contoso: diagnose (SPEC §3)', () => {
  it('has ../shared beside the project', () => {
    expect(existsSync(fixturePath)).toBe(true);
  });

  it.each([
    { who: 'erin (no license)', user: upn('erin'), env: ENV.salesProd, reasons: ['D4.2'] },
    { who: 'gina (guest)', user: GINA, env: ENV.salesProd, reasons: ['D4.2'], says: /guest.*home tenant does not count/ },
    { who: 'diego (Dynamics 365 administrator, not in the group)', user: upn('diego'), env: ENV.salesProd, reasons: ['D4.3'], says: /Dynamics 365 administrator/ },
    { who: 'nina (only through a nested group)', user: upn('nina'), env: ENV.salesProd, reasons: ['D4.3'], says: /nested group "Sales Contractors"/ },
    { who: 'bob in the Developer environment of alice', user: upn('bob'), env: ENV.aliceDev, reasons: ['D5'] },
  ])('$who → not eligible', async ({ user, env, reasons, says }) => {
    const d = await diagnose(t.services, user, env);
    expect({ verdict: d.verdict, addedBy: d.addedBy, reasons: factIds(d) }).toEqual({ verdict: 'not-eligible', addedBy: 'none', reasons });
    if (says) expect(messages(d)).toMatch(says);
  });

  it('adele (Global administrator, no license) → eligible, Administrative', async () => {
    const d = await diagnose(t.services, upn('adele'), ENV.salesProd);
    expect({ verdict: d.verdict, mode: d.expectedAccessMode, reasons: factIds(d) }).toEqual({ verdict: 'eligible', mode: 'administrative', reasons: [] });
  });

  it('alice in her Developer environment → eligible', async () => {
    const d = await diagnose(t.services, upn('alice'), ENV.aliceDev);
    expect({ verdict: d.verdict, mode: d.expectedAccessMode, reasons: factIds(d) }).toEqual({ verdict: 'eligible', mode: 'read-write', reasons: [] });
    expect(d.currentRow).toMatchObject({ isdisabled: false });
  });

  it('every user in the environment without Dataverse → not eligible (D3)', async () => {
    const users = fixture.graph.users.map((u) => u.userPrincipalName);
    expect(users.length).toBeGreaterThan(20);
    for (const user of users) {
      const d = await diagnose(t.services, user, ENV.noDataverse);
      expect(d.verdict, user).toBe('not-eligible');
      expect(factIds(d), user).toContain('D3');
      expect(d.currentRow, user).toBeNull();
    }
    // A licensed user with nothing else against them: D3 alone.
    expect(factIds(await diagnose(t.services, upn('alice'), ENV.noDataverse))).toEqual(['D3']);
  });
});

describe('contoso: Salesforce S2S readiness (SPEC §3)', () => {
  const notOk = async (org: string) =>
    Object.fromEntries((await salesforceReadiness(t.services, org)).checks.filter((c) => c.status !== 'ok').map((c) => [c.id, c.status]));

  it('Contoso Sales: S1 and S2 are problems, S4 a warning', async () => {
    expect(await notOk(ORG.contoso)).toEqual({ S1: 'problem', S2: 'problem', S4: 'warning' });
  });
  // Issue 14: one severity per condition, the audit's (contoso.expected.json has S5 as a warning).
  it('Fabrikam: S5 and S2 are warnings', async () => {
    expect(await notOk(ORG.fabrikam)).toEqual({ S5: 'warning', S2: 'warning' });
  });
  it('Northwind: all ok but the S4 warning', async () => {
    expect(await notOk(ORG.northwind)).toEqual({ S4: 'warning' });
  });
  it('Litware: S2 and api-integration-psl are problems', async () => {
    expect(await notOk(ORG.litware)).toEqual({ S2: 'problem', 'api-integration-psl': 'problem' });
  });
});

describe('contoso: the command line (SPEC §6)', () => {
  const run = promisify(execFile);
  /** The JSON printed; exit 1 (not eligible, a readiness problem: README, exit codes) still prints it. */
  const steward = async (exitCode: number, ...args: string[]) => {
    const answer = await run('npm', ['run', '--silent', 'steward', '--', ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
      (ok) => ({ stdout: ok.stdout, code: 0 }),
      (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
    );
    expect(answer.code).toBe(exitCode);
    return JSON.parse(answer.stdout) as Record<string, any>;
  };

  it('steward diagnose --json prints the diagnosis', async () => {
    const d = await steward(1, 'diagnose', '--fixture', fixturePath, '--environment', ENV.salesProd, '--user', upn('nina'), '--json');
    expect(d).toMatchObject({
      user: { userPrincipalName: upn('nina') },
      environment: { id: ENV.salesProd, type: 'Production' },
      verdict: 'not-eligible',
      addedBy: 'none',
      expectedAccessMode: 'read-write',
      currentRow: { isdisabled: false, accessMode: 0 },
      notes: [],
    });
    expect(d.reasons.map((r: { factId: string }) => r.factId)).toEqual(['D4.3']);
    expect(d.reasons[0].message).toContain('Sales Contractors');
    expect(d.reasons[0].remediation).toContain('ENV-Sales-Prod');
  });

  it('steward readiness --json prints { org, checks }', async () => {
    const r = await steward(1, 'readiness', '--fixture', fixturePath, '--org', ORG.contoso, '--json');
    expect(r.org).toEqual({ id: ORG.contoso, name: 'Contoso Sales (Salesforce)' });
    expect(Object.fromEntries(r.checks.map((c: { id: string; status: string }) => [c.id, c.status]))).toEqual({
      S1: 'problem', S2: 'problem', S4: 'warning', S5: 'ok', 'connected-app': 'ok', 'api-integration-psl': 'ok',
    });
    const s1 = r.checks.find((c: { id: string }) => c.id === 'S1');
    expect(s1.message).toContain('copilotforsalesintegrationuser@contoso.sf');
    expect(s1.resolution).toMatch(/activate it; if that is impossible, contact Microsoft support/);
  });
});
