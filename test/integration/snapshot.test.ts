import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRunReport } from '../../lib/audit/pipeline.js';
import { diagnose } from '../../lib/diagnose/diagnose.js';
import { salesforceReadiness } from '../../lib/diagnose/readiness.js';
import { anonymizeFixture } from '../../lib/snapshot/anonymize.js';
import { toFixture, type SnapshotFixture } from '../../lib/snapshot/fixture.js';
import { readTenant } from '../../lib/snapshot/read-tenant.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { parseFixture, type Fixture } from '../../simulator/core/fixture.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * `steward snapshot` (SPEC §6): the tenant read through the gateways and written as a fixture; a
 * fixture the simulator loads and on which the audit, diagnose and readiness answer as on the
 * original — the simulator and the gateways checked against each other.
 */

const original: Fixture = demoTenant();
let copy: SnapshotFixture;
let anonymized: SnapshotFixture;
/** What the source tenant answered: read before any other simulator starts (one CA per process). */
let expected: { findings: string[]; described: string[]; statuses: Record<string, string>; verdicts: Record<string, string>; readiness: string[][]; writes: unknown[] };

beforeAll(async () => {
  const source = await startTestServices(original);
  try {
    copy = toFixture(await readTenant(source.services, source.services.settings.tenantId, { concurrency: 4 }), source.services.settings);
    const writes = source.sim.requests.filter((r) => r.method !== 'GET' && !/token|\$batch/.test(r.url)).map((r) => `${r.method} ${r.url}`);
    const report = await source.audit.run('cli');
    expected = { findings: keys(report), described: described(report), statuses: statuses(report), verdicts: await verdicts(source, original), readiness: await readiness(source), writes };
  } finally {
    await source.stop();
  }
  anonymized = anonymizeFixture(copy);
}, 120_000);

let replay: TestServices | undefined;
afterEach(async () => {
  await replay?.stop();
  replay = undefined;
});

type Keyed = { checkId: string; targetId: string; subjectId: string; severity: string };
function keys(report: AuditRunReport) {
  return report.findings.map((f: Keyed) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`).sort();
}
/** The findings as a reader sees them: titles, details and remediation included. */
function described(report: AuditRunReport) {
  return report.findings.map((f) => JSON.stringify([f.checkId, f.targetId, f.subjectId, f.severity, f.title, f.details, f.remediation])).sort();
}
function statuses(report: AuditRunReport) {
  return Object.fromEntries(report.run.targets.map((t) => [t.id, t.status]));
}

/** Everything diagnose answers for every Entra user of every environment, by id. */
async function verdicts(t: TestServices, fixture: Fixture) {
  const out: Record<string, string> = {};
  for (const environment of fixture.environments) {
    for (const user of fixture.graph.users) {
      const result = await diagnose(t.services, user.id, environment.id);
      out[`${environment.id} ${user.id}`] = JSON.stringify(result);
    }
  }
  return out;
}

async function readiness(t: TestServices) {
  const out: string[][] = [];
  for (const org of original.salesforceOrgs) out.push((await salesforceReadiness(t.services, org.id)).checks.map((c) => JSON.stringify(c)));
  return out;
}

describe('steward snapshot', () => {
  it('writes a fixture the simulator accepts, with the source tenant ids', () => {
    const parsed = parseFixture(copy);
    expect(parsed.tenant.id).toBe(original.tenant.id);
    expect(parsed.graph.users.map((u) => u.id).sort()).toEqual(original.graph.users.map((u) => u.id.toLowerCase()).sort());
    expect(parsed.environments.map((e) => e.id).sort()).toEqual(original.environments.map((e) => e.id).sort());
    expect(parsed.salesforceOrgs.map((o) => o.id).sort()).toEqual(original.salesforceOrgs.map((o) => o.id).sort());
  });

  it('reads only: the source tenant received no write', () => {
    expect(expected.writes).toEqual([]);
  });

  it('the copy is audited, diagnosed and checked for readiness exactly as the original', async () => {
    replay = await startTestServices(copy);
    const report = await replay.audit.run('cli');
    expect(expected.findings.length).toBeGreaterThan(10);
    expect(keys(report)).toEqual(expected.findings);
    expect(described(report)).toEqual(expected.described);
    expect(statuses(report)).toEqual(expected.statuses);
    expect(await verdicts(replay, original)).toEqual(expected.verdicts);
    expect(await readiness(replay)).toEqual(expected.readiness);
  }, 180_000);

  it('an anonymized copy holds none of the UPNs, display names or mails, and audits the same', async () => {
    const text = JSON.stringify(anonymized).toLowerCase();
    const secrets = [
      ...original.graph.users.flatMap((u) => [u.userPrincipalName, u.displayName, u.mail]),
      ...original.graph.groups.map((g) => g.displayName),
      ...original.environments.map((e) => e.displayName),
      ...original.environments.flatMap((e) => e.systemusers.flatMap((r) => [r.domainname, r.fullname, r.internalemailaddress])),
    ].filter((v): v is string => typeof v === 'string' && v.length > 3);
    expect(secrets.length).toBeGreaterThan(50);
    expect(secrets.filter((s) => text.includes(s.toLowerCase()))).toEqual([]);

    // The same person has the same fake UPN in Entra ID and in every environment.
    const upnOf = new Map(anonymized.graph.users.map((u) => [u.id, u.userPrincipalName]));
    const rows = anonymized.environments.flatMap((e) => (e.systemusers as Record<string, unknown>[]).filter((r) => typeof r.azureactivedirectoryobjectid === 'string'));
    const linked = rows.filter((r) => upnOf.has(r.azureactivedirectoryobjectid as string));
    expect(linked.length).toBeGreaterThan(10);
    const sourceRow = (id: string) => original.environments.flatMap((e) => e.systemusers).find((r) => r.systemuserid.toLowerCase() === id)!;
    const sourceUpn = new Map(original.graph.users.map((u) => [u.id.toLowerCase(), u.userPrincipalName.toLowerCase()]));
    for (const row of linked) {
      const same = String(sourceRow(row.systemuserid as string).domainname ?? '').toLowerCase() === sourceUpn.get(row.azureactivedirectoryobjectid as string);
      expect((row.domainname as string).toLowerCase() === String(upnOf.get(row.azureactivedirectoryobjectid as string)).toLowerCase()).toBe(same);
    }

    replay = await startTestServices(anonymized);
    expect(keys(await replay.audit.run('cli'))).toEqual(expected.findings);
  }, 180_000);
});
