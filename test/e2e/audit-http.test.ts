import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRunner } from '../../lib/audit/runner.js';
import { createAuditRunner } from '../../lib/composition.js';
import type { DataverseGateway } from '../../lib/gateways/dataverse/port.js';
import type { ApiRequest, ApiResponse, AppRole, RouteDefinition } from '../../lib/http/api.js';
import { apiRoutes } from '../../lib/http/routes.js';
import type { AppServices } from '../../lib/services.js';
import { demoExpectedFindings, demoTenant, ids } from '../../fixtures/demo-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * The audit API as Power Automate uses it (SPEC §4): start an audit, poll its Location, read the
 * findings with filters, suppress one. Requests go through the same route handlers the Functions
 * host runs, against the simulated demo tenant and Azurite. The tests run in order: the first
 * starts the audit the others read.
 */

const ORIGIN = 'http://127.0.0.1:7071';
const PROBLEM = 'application/problem+json';
const PROD = ids.env('Prod');
const ALL_ROLES: AppRole[] = ['Steward.Read', 'Steward.Manage', 'Steward.Audit'];

let t: TestServices;
let services: AppServices;
let runner: AuditRunner;
/** While closed, every environment's Dataverse teams are slow to come, so a test can look at a run that is still going. */
let gate: { opened: Promise<void>; open: () => void } | null = null;

/** The tenant's Dataverse, whose `listTeams` waits while the gate is closed. */
function slowTeams(dataverse: DataverseGateway): DataverseGateway {
  const slow: DataverseGateway = Object.create(dataverse) as DataverseGateway;
  slow.listTeams = async function* (target) {
    await gate?.opened;
    yield* dataverse.listTeams(target);
  };
  return slow;
}

beforeAll(async () => {
  t = await startTestServices(demoTenant());
  // Audits started over HTTP run in this process, in the background, as under `steward serve`.
  expect(t.audit.inProcess).toBe(true);
  services = { ...t.services, dataverse: slowTeams(t.services.dataverse) };
  runner = createAuditRunner(services, { dispatch: 'in-process' });
});

function closeGate(): void {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  gate = { opened, open };
}

/** Lets the held runs go on and waits until they are finished. */
async function release(): Promise<void> {
  gate?.open();
  gate = null;
  await runner.idle();
}

afterAll(async () => {
  if (runner) await release();
  await t?.stop();
});

/** The route the host would pick for a method and path (literal segments win over `{params}`). */
function resolve(method: string, path: string): { route: RouteDefinition; params: Record<string, string> } {
  const segments = path.split('/');
  const candidates = apiRoutes.flatMap((route) => {
    if (!route.methods.includes(method as RouteDefinition['methods'][number])) return [];
    const template = route.route.split('/');
    if (template.length !== segments.length) return [];
    const params: Record<string, string> = {};
    let literals = 0;
    for (const [i, part] of template.entries()) {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name) params[name] = decodeURIComponent(segments[i]!);
      else if (part.toLowerCase() === segments[i]!.toLowerCase()) literals++;
      else return [];
    }
    return [{ route, params, literals }];
  });
  candidates.sort((a, b) => b.literals - a.literals);
  if (!candidates[0]) throw new Error(`no route for ${method} ${path}`);
  return candidates[0];
}

/** A request as the Functions host hands it over: key-authenticated, every role, JSON body parsed. */
async function call(method: string, pathOrUrl: string, body?: unknown): Promise<ApiResponse & { body: any }> {
  const url = /^https?:/.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(`/api/${pathOrUrl}`, ORIGIN);
  const { route, params } = resolve(method, url.pathname.replace(/^\/api\//, ''));
  const request: ApiRequest = {
    method,
    url: url.toString(),
    params,
    query: url.searchParams,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
    principal: { id: 'e2e-flow', roles: ALL_ROLES, authenticated: false },
  };
  return (await route.handle(request, { services, audit: runner })) as ApiResponse & { body: any };
}

type Keyed = { checkId: string; targetId: string; subjectId: string; severity: string };
const key = (f: Keyed) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`;
const expected = demoExpectedFindings();
const inAMonth = () => new Date(services.now().getTime() + 30 * 86_400_000).toISOString();

let runId: string;

describe('the audit API', () => {
  it('POST /api/audits answers 202 with Location and Retry-After; the Location answers 202 while running and 200 when done', async () => {
    closeGate();
    const started = await call('POST', 'audits');
    expect(started.status).toBe(202);
    runId = started.body.runId;
    expect(runId).toMatch(/^[0-9A-Za-z-]+$/);
    const location = started.headers?.location ?? '';
    try {
      expect(location).toBe(`${ORIGIN}/api/audits/${runId}`);
      expect(Number(started.headers?.['retry-after'])).toBeGreaterThan(0);
      const running = await call('GET', location);
      expect(running.status).toBe(202);
      expect(running.body).toMatchObject({ runId, status: 'running' });
      // Power Automate keeps polling where the 202 points: the run itself, also when read as `latest`.
      expect(running.headers?.location).toBe(location);
      const latest = await call('GET', 'audits/latest');
      expect(latest.status).toBe(202);
      expect(latest.headers?.location).toBe(location);
      expect(Number(running.headers?.['retry-after'])).toBeGreaterThan(0);
    } finally {
      await release(); // whatever failed above, the run finishes for the tests after this one
    }

    const done = await call('GET', location);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ runId, status: 'succeeded', trigger: 'http' });
    expect(done.body.finishedAt).toEqual(expect.any(String));
    const statuses = Object.fromEntries((done.body.targets as { id: string; status: string }[]).map((target) => [target.id, target.status]));
    expect(statuses).toMatchObject({ tenant: 'succeeded', [PROD]: 'succeeded', [ids.env('Default')]: 'skipped' });
    // One count of targets everywhere (issue 14): the POST's answer counts what the run lists, skipped ones too.
    expect(started.body.targets).toBe(done.body.targets.length);
    const count = (severity: string) => expected.filter((f) => f.severity === severity).length;
    expect(done.body.summary).toEqual({ critical: count('critical'), warning: count('warning'), info: count('info'), opened: expected.length, resolved: 0 });
  });

  it('GET /api/audits/latest answers the run just finished; an unknown run is 404', async () => {
    const latest = await call('GET', 'audits/latest');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ runId, status: 'succeeded' });

    const unknown = await call('GET', 'audits/20990101T000000-deadbeef');
    expect(unknown.status).toBe(404);
    expect(unknown.headers?.['content-type']).toBe(PROBLEM);
  });

  it("GET /api/audits/{runId}/findings is the run's report: what opened, changed or resolved in it, filtered by state, target and check", async () => {
    const report = await call('GET', `audits/${runId}/findings`);
    expect(report.status).toBe(200);
    // The first run over the demo tenant: every finding is new.
    expect(report.body).toMatchObject({ runId, status: 'succeeded', byState: { new: expected.length, reopened: 0, open: 0, resolved: 0 }, count: expected.length });
    expect(report.body.findings.map(key).sort()).toEqual(expected.map(key).sort());

    const prod = await call('GET', `audits/${runId}/findings?state=new&targetId=${PROD}&checkId=dataverse.non-interactive-cap`);
    const expectedProd = expected.filter((f) => f.targetId === PROD && f.checkId === 'dataverse.non-interactive-cap');
    expect(expectedProd.length).toBeGreaterThan(0);
    expect(prod.body.findings.map(key).sort()).toEqual(expectedProd.map(key).sort());
    expect((await call('GET', `audits/${runId}/findings?state=resolved`)).body).toMatchObject({ count: 0, findings: [] });

    const unknown = await call('GET', 'audits/20990101T000000-deadbeef/findings');
    expect(unknown.status).toBe(404);
    const bad = await call('GET', `audits/${runId}/findings?state=closed&sort=x`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`).sort()).toEqual(['query #/sort', 'query #/state']);
  });

  it('GET /api/findings lists the open findings, filtered by target, check, severity and status', async () => {
    const all = await call('GET', 'findings');
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(expected.length);
    expect(all.body.findings.map(key).sort()).toEqual(expected.map(key).sort());
    expect(all.body.findings.every((f: { status: string; suppressed: boolean }) => f.status === 'open' && !f.suppressed)).toBe(true);

    const prodWarnings = await call('GET', `findings?targetId=${PROD}&severity=warning`);
    expect(prodWarnings.status).toBe(200);
    expect(prodWarnings.body.findings.map(key).sort()).toEqual(expected.filter((f) => f.targetId === PROD && f.severity === 'warning').map(key).sort());

    const caps = await call('GET', 'findings?checkId=dataverse.non-interactive-cap');
    expect(caps.body.findings.map(key).sort()).toEqual(expected.filter((f) => f.checkId === 'dataverse.non-interactive-cap').map(key).sort());

    const critical = await call('GET', 'findings?severity=critical&status=open');
    expect(critical.body.findings.map(key).sort()).toEqual(expected.filter((f) => f.severity === 'critical').map(key).sort());
    // Most severe first.
    expect(all.body.findings.slice(0, critical.body.count).every((f: Keyed) => f.severity === 'critical')).toBe(true);

    const resolved = await call('GET', 'findings?status=resolved');
    expect(resolved.body).toEqual({ count: 0, findings: [] });
  });

  it('a bad filter value is a 400 problem+json naming every bad field', async () => {
    const one = await call('GET', 'findings?severity=urgent');
    expect(one.status).toBe(400);
    expect(one.headers?.['content-type']).toBe(PROBLEM);
    expect(one.body).toMatchObject({ status: 400, type: expect.any(String), title: expect.any(String) });
    expect(one.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`)).toEqual(['query #/severity']);

    const many = await call('GET', 'findings?severity=urgent&status=closed&targetId=not%20an%20id&colour=blue');
    expect(many.status).toBe(400);
    expect(many.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`).sort()).toEqual(
      ['query #/colour', 'query #/severity', 'query #/status', 'query #/targetId'].sort(),
    );
  });

  it('POST /api/suppressions suppresses one finding, or a whole check on a target; GET /api/findings?suppressed=true shows them', async () => {
    const drift = expected.find((f) => f.checkId === 'dataverse.profile-drift')!;
    const one = await call('POST', 'suppressions', {
      checkId: drift.checkId,
      targetId: drift.targetId,
      subjectId: drift.subjectId,
      reason: 'Job title is being corrected in HR first',
      expiresAt: inAMonth(),
    });
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ checkId: drift.checkId, targetId: drift.targetId, subjectId: drift.subjectId, createdBy: 'e2e-flow' });

    const suppressed = await call('GET', 'findings?suppressed=true');
    expect(suppressed.status).toBe(200);
    expect(suppressed.body.findings.map(key)).toEqual([key(drift)]);
    expect(suppressed.body.findings[0]).toMatchObject({ suppressed: true, status: 'open' });
    const notSuppressed = await call('GET', 'findings?suppressed=false');
    expect(notSuppressed.body.count).toBe(expected.length - 1);

    // The whole check on Prod: the subject defaults to `*`.
    const whole = await call('POST', 'suppressions', { checkId: 'dataverse.enabled-user-ineligible', targetId: PROD, reason: 'Access review in progress', expiresAt: inAMonth() });
    expect(whole.status).toBe(201);
    expect(whole.body.subjectId).toBe('*');
    const afterWhole = await call('GET', 'findings?suppressed=true');
    expect(afterWhole.body.findings.map(key).sort()).toEqual(
      [drift, ...expected.filter((f) => f.checkId === 'dataverse.enabled-user-ineligible' && f.targetId === PROD)].map(key).sort(),
    );
    // Suppressed findings stay recorded and open.
    const ineligible = await call('GET', `findings?targetId=${PROD}&checkId=dataverse.enabled-user-ineligible&suppressed=true`);
    expect(ineligible.body.count).toBe(expected.filter((f) => f.checkId === 'dataverse.enabled-user-ineligible').length);
  });

  it('refuses a suppression that has already expired, or that has no real reason, naming the fields, and records nothing', async () => {
    const before = (await call('GET', 'findings?suppressed=true')).body.count as number;
    const shortReason = await call('POST', 'suppressions', { checkId: 'dataverse.nested-security-group', targetId: PROD, reason: 'x', expiresAt: inAMonth() });
    expect(shortReason.status).toBe(400);
    expect(shortReason.headers?.['content-type']).toBe(PROBLEM);
    expect(shortReason.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`)).toEqual(['body #/reason']);

    const expired = await call('POST', 'suppressions', { checkId: 'dataverse.nested-security-group', targetId: PROD, reason: 'too late', expiresAt: '2001-01-01T00:00:00Z' });
    expect(expired.status).toBe(400);
    expect(expired.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`)).toEqual(['body #/expiresAt']);

    const unknownField = await call('POST', 'suppressions', { checkId: 'dataverse.nested-security-group', targetId: PROD, reason: 'fine reason', expiresAt: inAMonth(), until: 'forever' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`)).toEqual(['body #/until']);

    expect((await call('GET', 'findings?suppressed=true')).body.count).toBe(before);
  });

  it('refuses subjects the delete route could not carry and control characters, and deletes what it created (D6, D7)', async () => {
    const base = { checkId: 'dataverse.nested-security-group', targetId: PROD, reason: 'under review', expiresAt: inAMonth() };
    for (const subjectId of ['.', '..', 'a/b', 'a%2Fb', 'x\u0000y', 'x\u0001']) {
      const refused = await call('POST', 'suppressions', { ...base, subjectId });
      expect(refused.status, subjectId).toBe(400);
      expect(refused.body.errors.map((e: { in: string; pointer: string }) => `${e.in} ${e.pointer}`)).toEqual(['body #/subjectId']);
    }
    const tooFar = await call('POST', 'suppressions', { ...base, subjectId: 'x', expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.errors[0].detail).toContain('365 days');

    const withSpace = await call('POST', 'suppressions', { ...base, subjectId: 'Salesforce Integration' });
    expect(withSpace.status).toBe(201);
    const deleted = await call('DELETE', `suppressions/${PROD}/${base.checkId}/${encodeURIComponent('Salesforce Integration')}`);
    expect(deleted.status).toBe(204);
    expect((await runner.listSuppressions({ targetId: PROD })).map((s) => s.subjectId)).not.toContain('Salesforce Integration');
    const again = await call('DELETE', `suppressions/${PROD}/${base.checkId}/${encodeURIComponent('Salesforce Integration')}`);
    expect(again.status).toBe(404);
  });
  it('POST /api/audits {"full": true} reads everything; without it the next run reads the changes; a bad value is a 400 naming it (SPEC §9)', async () => {
    const full = await call('POST', 'audits', { full: true });
    expect(full.status).toBe(202);
    await runner.idle();
    const fullRun = await call('GET', `audits/${full.body.runId}`);
    expect(fullRun.body).toMatchObject({ status: 'succeeded', collection: { mode: 'full', reason: 'requested' } });

    const next = await call('POST', 'audits', {});
    await runner.idle();
    const nextRun = await call('GET', `audits/${next.body.runId}`);
    expect(nextRun.body.collection).toMatchObject({ mode: 'incremental', reason: 'changes-since-last-run' });
    const environment = (nextRun.body.targets as { id: string; collection?: { mode: string } }[]).find((target) => target.id === PROD);
    expect(environment?.collection?.mode).toBe('incremental');

    const bad = await call('POST', 'audits', { full: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.headers?.['content-type']).toBe(PROBLEM);
    expect(JSON.stringify(bad.body.errors)).toContain('full');
  });
});
