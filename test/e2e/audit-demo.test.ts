import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { TableServiceClientOptions } from '@azure/data-tables';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDocument } from '../../lib/audit/alert-document.js';
import type { AuditRunReport } from '../../lib/audit/pipeline.js';
import type { AuditRunner } from '../../lib/audit/runner.js';
import { createAuditRunner } from '../../lib/composition.js';
import { CHECK_CATALOGUE } from '../../lib/domain/check-catalogue.js';
import type { AuditStore } from '../../lib/gateways/storage/audit-store.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { Tables } from '../../lib/gateways/storage/tables.js';
import { demoExpectedFindings, demoTenant, ids } from '../../fixtures/demo-tenant.js';
import { stableId } from '../../simulator/core/generate.js';
import { checkAdaptiveCard } from '../support/adaptive-card.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * The demo tenant through the real gateways, the simulated tenant and Azurite, audited run after
 * run as the nightly timer would, with a local HTTP server standing in for the Logic App.
 * The tests form one story and run in order: each starts from the state the previous one left.
 */

const PUBLIC_BASE_URL = 'https://steward.example.net';
const PROD = ids.env('Prod');
const SANDBOX = ids.env('Sandbox');
const WINGTIP = '00D8d000002WNGTEAA';
const CRM_CONNECTOR_APP = stableId('demo', 'app', 'crm-connector');

// ── The Logic App: answers with the statuses queued in `answers` (202 when none), keeps every call ──

interface LogicAppCall {
  status: number;
  path: string;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  body: AlertDocument;
}
const logicApp = { answers: [] as number[], calls: [] as LogicAppCall[] };
const accepted = () => logicApp.calls.filter((c) => c.status < 300).map((c) => c.body);

function startLogicApp(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = logicApp.answers.shift() ?? 202;
      logicApp.calls.push({ status, path: request.url ?? '', contentType: request.headers['content-type'], idempotencyKey: request.headers['idempotency-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertDocument });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status < 300 ? '' : JSON.stringify({ error: { code: 'WorkflowFailed', message: 'the Teams connector failed' } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ── Writes of finding entities, counted on the wire (Tables `clientOptions` hook) ──

type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

const findingWrites = { entities: 0, transactions: 0, largestTransaction: 0 };
const countFindingWrites: PipelinePolicy = {
  name: 'count-finding-writes',
  async sendRequest(request, next) {
    const path = new URL(request.url).pathname;
    if (request.method !== 'GET') {
      if (path.endsWith('/$batch') && typeof request.body === 'string') {
        const operations = request.body.match(/^(PUT|POST|PATCH|MERGE|DELETE) \S*\/findings(\(|\?|\s)/gm)?.length ?? 0;
        if (operations > 0) {
          findingWrites.entities += operations;
          findingWrites.transactions += 1;
          findingWrites.largestTransaction = Math.max(findingWrites.largestTransaction, operations);
        }
      } else if (/\/findings(\(|$)/.test(path)) {
        findingWrites.entities += 1;
      }
    }
    return next(request);
  },
};

// ── Schema of the alert document ──

const schema = JSON.parse(readFileSync(new URL('../../schemas/alert.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validateAlert = ajv.compile(schema);

// ── The story ──

let logicAppServer: Server;
let t: TestServices;
let runner: AuditRunner;
let store: AuditStore;

beforeAll(async () => {
  logicAppServer = await startLogicApp();
  const { port } = logicAppServer.address() as AddressInfo;
  t = await startTestServices(demoTenant(), {
    env: {
      STEWARD_ALERT_URL: `http://127.0.0.1:${port}/workflows/steward/triggers/manual/paths/invoke?api-version=2016-10-01&sig=not-a-secret`,
      STEWARD_PUBLIC_BASE_URL: PUBLIC_BASE_URL,
      // One retry: a target that is down fails quickly (runs 8-10), and the Logic App's 503 is
      // retried once within the run (run 6).
      STEWARD_HTTP_RETRIES: '1',
    },
  });
  const tables = new Tables(t.services.settings.storageConnection, { additionalPolicies: [{ policy: countFindingWrites, position: 'perCall' }] });
  runner = createAuditRunner({ ...t.services, tables }, { dispatch: 'in-process' });
  store = createAuditStore(t.services.tables);
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => logicAppServer?.close(resolve));
});

/** One audit run; how many finding entities it wrote and what the Logic App received meanwhile. */
async function audit(): Promise<{ report: AuditRunReport; writes: number; calls: LogicAppCall[]; delivered: AlertDocument[] }> {
  const writesBefore = findingWrites.entities;
  const callsBefore = logicApp.calls.length;
  const report = await runner.run('cli', { concurrency: 4 });
  const calls = logicApp.calls.slice(callsBefore);
  return { report, writes: findingWrites.entities - writesBefore, calls, delivered: calls.filter((c) => c.status < 300).map((c) => c.body) };
}

type Keyed = { checkId: string; targetId: string; subjectId: string };
const key = (f: Keyed) => `${f.checkId} ${f.targetId} ${f.subjectId}`;
const keyWithSeverity = (f: Keyed & { severity: string }) => `${key(f)} ${f.severity}`;
const stateOf = (report: AuditRunReport, checkId: string, targetId: string, subjectId: string) =>
  report.findings.find((f) => f.checkId === checkId && f.targetId === targetId && f.subjectId === subjectId)?.runState;

const state = () => t.sim.state;
const graphUser = (name: string) => state().graph.users.find((u) => u.id === ids.user(name))!;
const systemUser = (env: string, name: string) => state().environments.find((e) => e.id === ids.env(env))!.systemusers.find((r) => r.systemuserid === ids.row(env, name))!;

describe('auditing the demo tenant, run after run', () => {
  it('run 1: finds exactly the expected findings, skips the environment without Dataverse, and alerts every finding at or above warning', async () => {
    const { report, writes, calls, delivered } = await audit();

    expect(report.findings.map(keyWithSeverity).sort()).toEqual(demoExpectedFindings().map(keyWithSeverity).sort());
    expect(report.findings.every((f) => f.runState === 'new')).toBe(true);
    expect(report.resolved).toEqual([]);
    expect(report.run.status).toBe('succeeded');
    expect(Object.fromEntries(report.run.targets.map((target) => [target.id, target.status]))).toEqual({
      tenant: 'succeeded',
      [PROD]: 'succeeded',
      [SANDBOX]: 'succeeded',
      [ids.env('Trial')]: 'succeeded',
      [ids.env('Dev')]: 'succeeded',
      [ids.env('Default')]: 'skipped',
      '00D8d000001TSPNEAA': 'succeeded',
      [WINGTIP]: 'succeeded',
    });
    // Every finding is of a catalogued check, on a target of its kind, with a severity it allows.
    const kinds = new Map(report.run.targets.map((target) => [target.id, target.kind]));
    for (const f of report.findings) {
      const check = CHECK_CATALOGUE.find((c) => c.id === f.checkId);
      expect(check, f.checkId).toBeDefined();
      expect(check!.target === 'any' || check!.target === kinds.get(f.targetId), `${f.checkId} on ${f.targetId}`).toBe(true);
      expect(check!.severities as readonly string[]).toContain(f.severity);
      if (check!.remediation !== null) expect(f.remediation).toBe(check!.remediation);
    }

    // What the store keeps is what the report says.
    const stored = await store.listFindings({ status: 'open' });
    expect(stored.map(keyWithSeverity).sort()).toEqual(demoExpectedFindings().map(keyWithSeverity).sort());

    // Batched, and proportional to change: every finding written, in transactions of at most 100.
    expect(writes).toBeGreaterThanOrEqual(demoExpectedFindings().length);
    expect(findingWrites.largestTransaction).toBeLessThanOrEqual(100);

    // One document to the Logic App, with every finding at or above warning.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toContain('/triggers/manual/paths/invoke');
    expect(calls[0]!.contentType).toMatch(/^application\/json/);
    const doc = delivered[0]!;
    expect(doc.runId).toBe(report.run.runId);
    const atLeastWarning = demoExpectedFindings().filter((f) => f.severity !== 'info');
    expect(doc.findings.map(keyWithSeverity).sort()).toEqual(atLeastWarning.map(keyWithSeverity).sort());
    expect(doc.findings.every((f) => f.change === 'opened' && f.previousSeverity === null)).toBe(true);
    const count = (severity: string) => demoExpectedFindings().filter((f) => f.severity === severity).length;
    expect(doc.summary).toEqual({ critical: count('critical'), warning: count('warning'), info: count('info'), alerted: atLeastWarning.length, resolved: 0, suppressed: 0, reclaimableMonthly: [] }); // no prices in the demo
    // Most severe first, each with what to do and a link to the findings API.
    expect(doc.findings.slice(0, count('critical')).every((f) => f.severity === 'critical')).toBe(true);
    for (const f of doc.findings) {
      expect(f.title.length).toBeGreaterThan(0);
      expect(f.remediation).toMatch(/\b[A-Z]\d/);
      expect(f.link).toBe(`${PUBLIC_BASE_URL}/api/findings?targetId=${encodeURIComponent(f.targetId)}&checkId=${encodeURIComponent(f.checkId)}`);
    }
    expect(doc.links).toEqual({
      run: `${PUBLIC_BASE_URL}/api/audits/${report.run.runId}`,
      report: `${PUBLIC_BASE_URL}/api/audits/${report.run.runId}/report`,
      findings: `${PUBLIC_BASE_URL}/api/findings?status=open`,
    });
    expect(await store.listPendingAlerts()).toEqual([]);
  });

  it('run 2 over a changed tenant: resolves what was fixed, raises the cap, opens the new finding, and alerts only those that got worse', async () => {
    graphUser('cara').assignedLicenses = []; // entra.disabled-user-licensed resolves
    systemUser('Prod', 'crm-connector').isdisabled = false; // application-user-disabled resolves
    systemUser('Prod', 'svc-g').isdisabled = false; // 7 enabled non-interactive users: the cap turns critical
    state().graph.groups.find((g) => g.id === ids.group('sandbox'))!.members.push(ids.group('contractors')); // a new nested group

    const { report, calls, delivered } = await audit();

    expect(report.resolved.map(key).sort()).toEqual(
      [
        { checkId: 'entra.disabled-user-licensed', targetId: 'tenant', subjectId: ids.user('cara') },
        { checkId: 'dataverse.application-user-disabled', targetId: PROD, subjectId: CRM_CONNECTOR_APP },
      ]
        .map(key)
        .sort(),
    );
    expect(stateOf(report, 'dataverse.nested-security-group', SANDBOX, ids.group('contractors'))).toBe('new');
    expect(stateOf(report, 'dataverse.non-interactive-cap', PROD, 'cap')).toBe('open');
    expect(report.findings.find((f) => key(f) === key({ checkId: 'dataverse.non-interactive-cap', targetId: PROD, subjectId: 'cap' }))!.severity).toBe('critical');
    const untouched = report.findings.filter((f) => !(f.checkId === 'dataverse.nested-security-group' && f.targetId === SANDBOX));
    expect(untouched.every((f) => f.runState === 'open')).toBe(true);
    expect(report.findings).toHaveLength(demoExpectedFindings().length - 2 + 1);

    const stored = await store.getFinding('entra.disabled-user-licensed', 'tenant', ids.user('cara'));
    expect(stored).toMatchObject({ status: 'resolved', state: 'resolved' });
    expect(stored!.resolvedAt).not.toBeNull();

    expect(calls).toHaveLength(1);
    const doc = delivered[0]!;
    expect(doc.runId).toBe(report.run.runId);
    expect(doc.findings.map((f) => [f.checkId, f.targetId, f.subjectId, f.change, f.severity, f.previousSeverity])).toEqual([
      ['dataverse.non-interactive-cap', PROD, 'cap', 'severity-raised', 'critical', 'warning'],
      ['dataverse.nested-security-group', SANDBOX, ids.group('contractors'), 'opened', 'warning', null],
    ]);
    expect(doc.summary).toMatchObject({ alerted: 2, resolved: 2, suppressed: 0 });
  });

  it('run 3 with nothing changed: no alert, and not one finding entity written', async () => {
    const { report, writes, calls } = await audit();
    expect(writes).toBe(0);
    expect(calls).toEqual([]);
    expect(report.alertDocument).toBeNull();
    expect(report.resolved).toEqual([]);
    expect(report.findings.every((f) => f.runState === 'open')).toBe(true);
  });

  it('run 4: a resolved finding that comes back reopens and alerts once; a suppressed one raises no alert', async () => {
    graphUser('cara').assignedLicenses = [{ skuId: graphUser('ana').assignedLicenses[0]!.skuId, disabledPlans: [] }];
    systemUser('Prod', 'crm-connector').isdisabled = true;
    const now = t.services.now();
    await store.suppress({
      checkId: 'dataverse.application-user-disabled',
      targetId: PROD,
      subjectId: CRM_CONNECTOR_APP,
      reason: 'The CRM connector is being retired this month',
      expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
      createdBy: 'e2e',
      createdAt: now.toISOString(),
    });

    const { report, delivered } = await audit();
    expect(stateOf(report, 'entra.disabled-user-licensed', 'tenant', ids.user('cara'))).toBe('reopened');
    expect(stateOf(report, 'dataverse.application-user-disabled', PROD, CRM_CONNECTOR_APP)).toBe('reopened');
    expect(report.findings.find((f) => f.checkId === 'dataverse.application-user-disabled')!.suppressed).toBe(true);
    expect(await store.getFinding('entra.disabled-user-licensed', 'tenant', ids.user('cara'))).toMatchObject({ status: 'open', reopenCount: 1 });

    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.findings.map((f) => [f.checkId, f.subjectId, f.change])).toEqual([['entra.disabled-user-licensed', ids.user('cara'), 'reopened']]);
    expect(delivered[0]!.summary.suppressed).toBe(1);

    // Once only: the next run says nothing more about either.
    const again = await audit();
    expect(again.calls).toEqual([]);
    expect(again.writes).toBe(0);
  });

  it('run 5 while the Logic App fails: the document stays in the outbox; run 6 delivers it once (after a retry with back-off); run 7 sends nothing', async () => {
    const license = state().salesforceOrgs.find((o) => o.id === WINGTIP)!.userLicenses.find((l) => l.Name === 'Salesforce Integration')!;
    license.UsedLicenses = license.TotalLicenses; // headroom: warning → critical

    logicApp.answers.push(500);
    const failing = await audit();
    expect(failing.calls.map((c) => c.status)).toEqual([500]);
    expect(failing.report.alertDocument).not.toBeNull();
    const pending = await store.listPendingAlerts();
    expect(pending.map((p) => p.runId)).toEqual([failing.report.run.runId]);
    expect(pending[0]).toMatchObject({ attempts: 1 });
    expect(pending[0]!.lastError).toBeTruthy();
    expect(pending[0]!.lastError).not.toContain('not-a-secret'); // the trigger URL's signature stays out of errors
    expect(pending[0]!.payload).toEqual(failing.calls[0]!.body);

    // Next run: nothing new of its own; the Logic App is throttled once, then takes the pending document.
    logicApp.answers.push(503);
    const recovering = await audit();
    expect(recovering.report.alertDocument).toBeNull();
    expect(recovering.calls.map((c) => c.status)).toEqual([503, 202]);
    expect(recovering.delivered).toHaveLength(1);
    const doc = recovering.delivered[0]!;
    expect(doc.runId).toBe(failing.report.run.runId);
    expect(doc.findings.map((f) => [f.checkId, f.targetId, f.change, f.severity, f.previousSeverity])).toEqual([
      ['salesforce.integration-license-headroom', WINGTIP, 'severity-raised', 'critical', 'warning'],
    ]);
    expect(await store.listPendingAlerts()).toEqual([]);

    const quiet = await audit();
    expect(quiet.calls).toEqual([]);
    expect(accepted().filter((d) => d.runId === failing.report.run.runId)).toHaveLength(1);
  });

  it('runs 8-10 while an environment is down: its failure opens and alerts once, nothing of it resolves, and it resolves when the environment is back', async () => {
    const sandboxBefore = (await store.listFindings({ targetId: SANDBOX, status: 'open' })).map(key).sort();
    t.sim.setFault(SANDBOX, { down: true });
    // Fixed meanwhile, but not seen while the Sandbox cannot be read: the nested group (a Sandbox
    // finding) and Ben's last disabled row (the cross-environment check needs every environment).
    const sandboxGroup = state().graph.groups.find((g) => g.id === ids.group('sandbox'))!;
    sandboxGroup.members = sandboxGroup.members.filter((m) => m !== ids.group('contractors'));
    systemUser('Prod', 'ben').isdisabled = false;

    const down = await audit();
    expect(down.report.run.status).toBe('partial');
    expect(down.report.run.targets.filter((x) => x.status === 'failed').map((x) => x.id)).toEqual([SANDBOX]);
    expect(down.report.resolved).toEqual([]);
    expect(stateOf(down.report, 'audit.target-failed', SANDBOX, 'collection')).toBe('new');
    // What failed, as data: the service and its answer, on the run's target and in the finding.
    const sandboxTarget = down.report.run.targets.find((x) => x.id === SANDBOX)!;
    expect(sandboxTarget.failure).toMatchObject({ service: 'dataverse', status: 503 });
    const failedFinding = down.report.findings.find((f) => f.checkId === 'audit.target-failed')!;
    expect(failedFinding.details).toMatchObject({ kind: 'environment', cause: sandboxTarget.failure });
    expect(stateOf(down.report, 'dataverse.disabled-user-licensed', 'tenant', ids.user('ben'))).toBe('open');
    expect(down.report.findings.filter((f) => f.targetId === SANDBOX && f.checkId !== 'audit.target-failed').map(key).sort()).toEqual(sandboxBefore);
    expect(down.delivered.map((d) => d.findings.map((f) => [f.checkId, f.targetId, f.severity, f.change]))).toEqual([[['audit.target-failed', SANDBOX, 'critical', 'opened']]]);
    expect(down.delivered[0]!.runStatus).toBe('partial');

    // Still down the same way: nothing new to say, nothing to write.
    const stillDown = await audit();
    expect(stillDown.report.run.status).toBe('partial');
    expect(stillDown.calls).toEqual([]);
    expect(stillDown.writes).toBe(0);

    t.sim.setFault(SANDBOX, undefined);
    const back = await audit();
    expect(back.report.run.status).toBe('succeeded');
    expect(back.report.resolved.map(key).sort()).toEqual(
      [
        { checkId: 'audit.target-failed', targetId: SANDBOX, subjectId: 'collection' },
        { checkId: 'dataverse.nested-security-group', targetId: SANDBOX, subjectId: ids.group('contractors') },
        { checkId: 'dataverse.disabled-user-licensed', targetId: 'tenant', subjectId: ids.user('ben') },
      ]
        .map(key)
        .sort(),
    );
    expect(back.calls).toEqual([]);
  });

  it('every document the Logic App received validates against schemas/alert.schema.json, and no run was alerted twice', () => {
    expect(logicApp.calls.length).toBeGreaterThan(0);
    for (const call of logicApp.calls) {
      expect(validateAlert(call.body), JSON.stringify(validateAlert.errors)).toBe(true);
    }
    const runIds = accepted().map((d) => d.runId);
    expect(new Set(runIds).size).toBe(runIds.length);
  });

  it('every POST carries the deliveryId of its document as Idempotency-Key, the same on each attempt of one run, and a card the Adaptive Cards SDK accepts', () => {
    const idsByRun = new Map<string, Set<string>>();
    for (const call of logicApp.calls) {
      expect(call.idempotencyKey).toBe(call.body.deliveryId);
      idsByRun.set(call.body.runId, (idsByRun.get(call.body.runId) ?? new Set()).add(call.body.deliveryId));
      const { problems, roundTrip } = checkAdaptiveCard(call.body.card);
      expect(problems).toEqual([]);
      expect(roundTrip).toEqual(call.body.card);
      expect(call.body.card.actions?.map((a) => a.url)).toEqual([`${PUBLIC_BASE_URL}/api/audits/${call.body.runId}/report`, `${PUBLIC_BASE_URL}/api/findings?status=open`]);
    }
    // Run 5's document went out three times (500, then 503 and 202 in run 6): one deliveryId.
    expect(logicApp.calls.length).toBeGreaterThan(idsByRun.size);
    for (const ids of idsByRun.values()) expect(ids.size).toBe(1);
    const all = [...idsByRun.values()].flatMap((ids) => [...ids]);
    expect(new Set(all).size).toBe(idsByRun.size);
  });
});
