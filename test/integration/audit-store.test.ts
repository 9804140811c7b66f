import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { TableServiceClientOptions } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRun, RunTarget, StoredFinding, Suppression } from '../../lib/domain/finding.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { findSuppression, isSuppressed } from '../../lib/domain/suppression.js';
import type { AuditStore } from '../../lib/gateways/storage/audit-store.js';
import { MAX_PROPERTY_CHARS, serialiseDetails } from '../../lib/gateways/storage/chunks.js';
import { AUDIT_TABLES } from '../../lib/gateways/storage/dto.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { hashKey, keySafe, subjectRowKey } from '../../lib/gateways/storage/keys.js';
import { Tables } from '../../lib/gateways/storage/tables.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';

type Policy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

interface Sent {
  method: string;
  url: string;
  body: string;
}

/** Every request that goes out (after retries are decided: one entry per attempt on the wire). */
const sent: Sent[] = [];
const recorder: Policy = {
  name: 'audit-store-test-recorder',
  async sendRequest(request, next) {
    sent.push({ method: request.method, url: request.url, body: typeof request.body === 'string' ? request.body : '' });
    return next(request);
  },
};

/** The entity operations inside a `$batch` body (one request line per operation). */
function operationsIn(body: string): string[] {
  return [...body.matchAll(/^(PUT|PATCH|MERGE|POST|DELETE) (\S+) HTTP\/1\.1\r?$/gm)].map((m) => `${m[1]} ${decodeURIComponent(m[2]!)}`);
}

const batches = () => sent.filter((r) => r.method === 'POST' && r.url.includes('$batch'));

let azurite: EmbeddedStorage;
let tables: Tables;
let store: AuditStore;
let clock = new Date('2031-03-01T02:00:00.000Z');

beforeAll(async () => {
  azurite = await startAzurite();
  tables = new Tables(azurite.connectionString, { additionalPolicies: [{ policy: recorder, position: 'perRetry' }] });
  store = createAuditStore(tables, { now: () => clock });
});

afterAll(async () => {
  await azurite?.stop();
});

beforeEach(() => {
  sent.length = 0;
});

function finding(over: Partial<StoredFinding> & Pick<StoredFinding, 'targetId' | 'subjectId'>): StoredFinding {
  return {
    checkId: 'dataverse.profile-drift',
    severity: 'info',
    title: 'Profile differs from Entra',
    details: { field: 'jobTitle', entra: 'Engineer', dataverse: null },
    remediation: 'Force a sync (P1).',
    status: 'open',
    state: 'new',
    firstSeenAt: '2031-02-01T02:00:00.000Z',
    lastSeenAt: '2031-02-01T02:00:00.000Z',
    openedAt: '2031-02-01T02:00:00.000Z',
    openedRunId: 'run-1',
    resolvedAt: null,
    reopenCount: 0,
    previousSeverity: null,
    lastRunId: 'run-1',
    alertedState: null,
    ...over,
  };
}

const byKey = (a: StoredFinding, b: StoredFinding) =>
  `${a.targetId}|${a.checkId}|${a.subjectId}`.localeCompare(`${b.targetId}|${b.checkId}|${b.subjectId}`);

describe('findings', () => {
  it('merges only the alert key into findings, leaving the rest as stored', async () => {
    const targetId = randomUUID();
    const list = Array.from({ length: 120 }, (_, i) => finding({ targetId, subjectId: `user${i}@contoso.com`, details: { note: 'x'.repeat(2000) } }));
    await store.saveFindings(list);
    sent.length = 0;
    const alerted = list.map((f) => ({ ...f, alertedState: `${f.openedRunId}|${f.severity}` }));
    expect(await store.saveAlertStates(alerted)).toBe(120);
    const operations = batches().map((r) => operationsIn(r.body));
    expect(operations.map((o) => o.length).sort()).toEqual([100, 20]);
    expect(operations.flat().every((o) => o.startsWith('MERGE ') || o.startsWith('PATCH '))).toBe(true);
    expect(batches().some((r) => r.body.includes('x'.repeat(2000)))).toBe(false);
    expect((await store.listFindings({ targetId })).sort(byKey)).toEqual([...alerted].sort(byKey));

    expect(await store.saveAlertStates([])).toBe(0);
    const missing = await store.saveAlertStates([{ checkId: 'x', targetId, subjectId: 'nobody', alertedState: 'r|info' }]).catch((e: unknown) => e);
    expect(missing).toMatchObject({ service: 'storage', operation: 'saveAlertStates', status: 404 });
  });

  it('round-trips life-cycle fields and filters by target, check, severity and status', async () => {
    const t1 = randomUUID();
    const t2 = randomUUID();
    const f1 = finding({ targetId: t1, subjectId: randomUUID() });
    const f2 = finding({
      targetId: t1,
      checkId: 'dataverse.non-interactive-cap',
      subjectId: 'cap',
      severity: 'critical',
      state: 'open',
      details: { count: 7, users: ['a@contoso.com', 'b@contoso.com'] },
      previousSeverity: 'warning',
      alertedState: '2031-02-01T02:00:00.000Z|critical',
      lastSeenAt: '2031-02-02T02:00:00.000Z',
      lastRunId: 'run-2',
    });
    const f3 = finding({
      targetId: t2,
      subjectId: randomUUID(),
      status: 'resolved',
      state: 'resolved',
      resolvedAt: '2031-02-03T02:00:00.000Z',
      reopenCount: 2,
    });
    const f4 = finding({ targetId: t2, checkId: 'salesforce.integration-user-inactive', subjectId: '005000000000001AAA', severity: 'critical', state: 'reopened', reopenCount: 1 });

    expect(await store.saveFindings([f1, f2, f3, f4])).toBe(4);

    expect(await store.getFinding(f1.checkId, f1.targetId, f1.subjectId)).toEqual(f1);
    expect(await store.getFinding(f2.checkId, f2.targetId, f2.subjectId)).toEqual(f2);
    expect(await store.getFinding(f3.checkId, f3.targetId, f3.subjectId)).toEqual(f3);
    expect(await store.getFinding(f4.checkId, f4.targetId, f4.subjectId)).toEqual(f4);
    expect(await store.getFinding(f1.checkId, f1.targetId, 'someone-else')).toBeNull();

    expect((await store.listFindings({ targetId: t1 })).sort(byKey)).toEqual([f1, f2].sort(byKey));
    expect(await store.listFindings({ targetId: t2, status: 'resolved' })).toEqual([f3]);
    expect(await store.listFindings({ targetId: t2, severity: 'critical' })).toEqual([f4]);
    expect(await store.listFindings({ targetId: t1, checkId: 'dataverse.non-interactive-cap', severity: 'critical', status: 'open' })).toEqual([f2]);
    expect(await store.listFindings({ targetId: t1, checkId: 'dataverse.non-interactive-cap', severity: 'warning' })).toEqual([]);

    const ours = (list: StoredFinding[]) => list.filter((f) => f.targetId === t1 || f.targetId === t2);
    const drift = await store.listFindings({ checkId: 'dataverse.profile-drift' });
    expect(drift.every((f) => f.checkId === 'dataverse.profile-drift')).toBe(true);
    expect(ours(drift).sort(byKey)).toEqual([f1, f3].sort(byKey));
    const critical = await store.listFindings({ severity: 'critical' });
    expect(critical.every((f) => f.severity === 'critical')).toBe(true);
    expect(ours(critical).sort(byKey)).toEqual([f2, f4].sort(byKey));
    const resolved = await store.listFindings({ status: 'resolved' });
    expect(resolved.every((f) => f.status === 'resolved')).toBe(true);
    expect(ours(resolved)).toEqual([f3]);
    expect(ours(await store.listFindings({ state: 'reopened' }))).toEqual([f4]);

    expect((await store.listFindingsOfTargets([t1, t2, t1])).sort(byKey)).toEqual([f1, f2, f3, f4].sort(byKey));
    expect(await store.listFindingsOfTargets([])).toEqual([]);

    // Reopening replaces the entity: a field that became null is cleared, not kept from before.
    const reopened: StoredFinding = { ...f3, status: 'open', state: 'reopened', resolvedAt: null, reopenCount: 3, openedAt: '2031-02-04T02:00:00.000Z', openedRunId: 'run-4' };
    expect(await store.saveFindings([reopened])).toBe(1);
    expect(await store.getFinding(f3.checkId, f3.targetId, f3.subjectId)).toEqual(reopened);
  });

  it('truncates details beyond the 64 KiB property limit into valid JSON that says what was cut', async () => {
    const targetId = randomUUID();
    const users = Array.from({ length: 5000 }, (_, i) => ({ upn: `user${i}@contoso.onmicrosoft.com`, name: `User ${i} Sébastien 🚀` }));
    const big = finding({ targetId, subjectId: 'cap', details: { count: 5000, users, note: 'small stays' } });
    expect(JSON.stringify(big.details).length).toBeGreaterThan(200_000);

    expect(await store.saveFindings([big])).toBe(1);
    const back = await store.getFinding(big.checkId, targetId, 'cap');
    expect(back).not.toBeNull();
    expect(back!.details.count).toBe(5000);
    expect(back!.details.note).toBe('small stays');
    const kept = back!.details.users as unknown[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(5000);
    expect(kept).toEqual(users.slice(0, kept.length));
    expect(back!.details._truncated).toMatchObject({ originalChars: JSON.stringify(big.details).length });
    expect(JSON.stringify(back!.details).length).toBeLessThanOrEqual(MAX_PROPERTY_CHARS);
    // Everything but the details is untouched.
    expect({ ...back!, details: big.details }).toEqual(big);

    expect(serialiseDetails({ a: 1 })).toEqual({ json: '{"a":1}', truncated: false });
    const huge = serialiseDetails({ text: 'x'.repeat(100_000) });
    expect(huge.truncated).toBe(true);
    expect(huge.json.length).toBeLessThanOrEqual(MAX_PROPERTY_CHARS);
    expect((JSON.parse(huge.json) as { text: string }).text.startsWith('xxxx')).toBe(true);
  });

  it('writes 250 findings over 2 partitions in transactions of at most 100, and nothing for an empty list', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const list = [
      ...Array.from({ length: 130 }, (_, i) => finding({ targetId: a, subjectId: `subject-${i}` })),
      ...Array.from({ length: 120 }, (_, i) => finding({ targetId: b, subjectId: `subject-${i}` })),
    ];
    await tables.table(AUDIT_TABLES.findings); // table creation is not part of what is counted
    sent.length = 0;

    expect(await store.saveFindings(list)).toBe(250);

    const posted = batches();
    expect(posted).toHaveLength(4); // 100 + 30 and 100 + 20
    const sizes = posted.map((r) => operationsIn(r.body).length);
    expect(sizes.every((n) => n > 0 && n <= 100)).toBe(true);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(250);
    expect([...sizes].sort((x, y) => x - y)).toEqual([20, 30, 100, 100]);
    for (const r of posted) {
      const partitions = new Set(operationsIn(r.body).map((op) => /PartitionKey='([^']*)'/.exec(op)![1]));
      expect(partitions.size).toBe(1); // a transaction stays within one partition
    }
    // Upserts only, no other entity requests went out.
    expect(sent.filter((r) => !r.url.includes('$batch'))).toEqual([]);
    expect(await store.listFindings({ targetId: a })).toHaveLength(130);
    expect(await store.listFindings({ targetId: b })).toHaveLength(120);

    sent.length = 0;
    expect(await store.saveFindings([])).toBe(0);
    expect(sent).toEqual([]);
  });

  it('splits a transaction that would pass the 4 MiB payload limit', async () => {
    const targetId = randomUUID();
    // ~30 000 characters of details each: 100 of them are ~6 MB.
    const list = Array.from({ length: 100 }, (_, i) => finding({ targetId, subjectId: `s${i}`, details: { blob: 'é'.repeat(29_000) } }));
    await tables.table(AUDIT_TABLES.findings);
    sent.length = 0;
    expect(await store.saveFindings(list)).toBe(100);
    const posted = batches();
    expect(posted.length).toBeGreaterThan(1);
    expect(posted.every((r) => Buffer.byteLength(r.body, 'utf8') < 4 * 1024 * 1024)).toBe(true);
    expect(posted.reduce((n, r) => n + operationsIn(r.body).length, 0)).toBe(100);
    expect(await store.listFindings({ targetId })).toHaveLength(100);
  });

  it('refuses a bad target key before anything goes out', async () => {
    await tables.table(AUDIT_TABLES.findings);
    sent.length = 0;
    const error = await store.saveFindings([finding({ targetId: 'tenant/../x', subjectId: 's' })]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'storage', operation: 'saveFindings', code: 'InvalidTableKey' });
    await expect(store.getFinding('c', 'a#b', 's')).rejects.toMatchObject({ service: 'storage', operation: 'getFinding', code: 'InvalidTableKey' });
    expect(sent).toEqual([]);

    expect(() => keySafe('a?b')).toThrow(ServiceError);
    expect(() => keySafe('a\\b')).toThrow(ServiceError);
    expect(() => keySafe('a\u0007b')).toThrow(ServiceError);
    expect(() => keySafe('')).toThrow(ServiceError);
    expect(() => keySafe('x'.repeat(513))).toThrow(ServiceError);
    expect(keySafe('00Dxx0000001gPLEA2')).toBe('00Dxx0000001gPLEA2');
    expect(hashKey('a')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('injection', () => {
  it('escapes a quote in a filter value, and the request that went out carries the escaped filter', async () => {
    const targetId = randomUUID();
    await store.saveFindings([finding({ targetId, checkId: 'x', subjectId: 's1' }), finding({ targetId, checkId: 'y', subjectId: 's2' })]);
    sent.length = 0;

    expect(await store.listFindings({ checkId: "x' or PartitionKey ne '" })).toEqual([]);
    expect(await store.listFindings({ targetId, checkId: "x' or checkId ne 'x" })).toEqual([]);
    // Unescaped, the first would have matched every finding and the second the `y` one.
    expect(await store.listFindings({ targetId, checkId: 'x' })).toHaveLength(1);

    const filters = sent.filter((r) => r.method === 'GET').map((r) => new URL(r.url).searchParams.get('$filter'));
    expect(filters[0]).toBe("checkId eq 'x'' or PartitionKey ne '''");
    expect(filters[1]).toBe(`PartitionKey eq '${targetId}' and checkId eq 'x'' or checkId ne ''x'`);
  });

  it('hashes a subject with a quote and # into the row key; a quote in a partition key is escaped on the wire', async () => {
    const subjectId = "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com";
    const targetId = "00Dxx0000001'gPL";
    const f = finding({ targetId, checkId: 'entra.disabled-user-licensed', subjectId, severity: 'warning' });
    sent.length = 0;
    expect(await store.saveFindings([f])).toBe(1);

    const [batch] = batches();
    const [operation] = operationsIn(batch!.body);
    const rowKey = subjectRowKey(f.checkId, subjectId);
    expect(rowKey).toMatch(/^[0-9a-f]{32}$/);
    expect(operation).toContain(`(PartitionKey='00Dxx0000001''gPL',RowKey='${rowKey}')`);
    expect(operation).not.toContain('#EXT#');

    sent.length = 0;
    expect(await store.getFinding(f.checkId, targetId, subjectId)).toEqual(f);
    const read = sent.find((r) => r.method === 'GET')!;
    expect(decodeURIComponent(new URL(read.url).pathname)).toContain(`(PartitionKey='00Dxx0000001''gPL',RowKey='${rowKey}')`);

    expect(await store.listFindings({ targetId })).toEqual([f]);
    expect(await store.listFindings({ subjectId })).toEqual([f]);
  });
});

describe('runs', () => {
  const run = (startedAt: string, over: Partial<AuditRun> = {}): AuditRun => ({
    runId: `run-${randomUUID()}`,
    status: 'running',
    startedAt,
    finishedAt: null,
    trigger: 'schedule',
    targets: [{ id: 'tenant', kind: 'tenant', status: 'pending' }],
    ...over,
  });

  it('finds the latest run, reads and updates runs, refuses duplicates and unknown runs', async () => {
    expect(await store.getRun('run-unknown')).toBeNull();
    const manyTargets: RunTarget[] = Array.from({ length: 600 }, (_, i) => ({ id: randomUUID(), kind: 'environment', status: 'pending', name: `Environment number ${i} of Contoso` }));
    const r1 = run('2090-01-01T02:00:00.000Z');
    const r2 = run('2090-01-03T02:00:00.000Z', { trigger: 'http' });
    const r3 = run('2090-01-02T02:00:00.000Z', { trigger: 'cli', targets: manyTargets });
    expect(JSON.stringify(manyTargets).length).toBeGreaterThan(MAX_PROPERTY_CHARS);
    for (const r of [r1, r2, r3]) await store.createRun(r);

    expect(await store.getLatestRun()).toEqual(r2);
    expect(await store.getRun(r3.runId)).toEqual(r3);
    expect(await store.getRun(r1.runId)).toEqual(r1);

    const finished: AuditRun = {
      ...r2,
      status: 'partial',
      finishedAt: '2090-01-03T02:05:00.000Z',
      targets: [{ id: 'tenant', kind: 'tenant', status: 'failed', error: 'Graph 503', attempts: 3 }],
      summary: { critical: 1, warning: 2, info: 3, opened: 4, resolved: 5 },
    };
    await store.updateRun(finished);
    expect(await store.getRun(r2.runId)).toEqual(finished);
    expect(await store.getLatestRun()).toEqual(finished);

    const duplicate = await store.createRun(r1).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ServiceError);
    expect(duplicate).toMatchObject({ service: 'storage', operation: 'createRun', target: r1.runId, status: 409, code: 'EntityAlreadyExists' });
    expect((duplicate as Error).message).toMatch(/^storage createRun for run-\S+ failed \(HTTP 409 EntityAlreadyExists\): /);
    expect((duplicate as Error).message).not.toContain('odata.error');
    await expect(store.updateRun(run('2090-01-05T00:00:00.000Z'))).rejects.toMatchObject({ service: 'storage', operation: 'updateRun', status: 404, code: 'ResourceNotFound' });
    await expect(store.createRun(run('not a date'))).rejects.toMatchObject({ service: 'storage', operation: 'createRun', code: 'InvalidTableKey' });

    const r4 = run('2090-02-01T00:00:00.000Z');
    await store.createRun(r4);
    expect((await store.getLatestRun())?.runId).toBe(r4.runId);
  });

  it('lists the most recent runs, newest first, at most as many as asked (the report trend)', async () => {
    const runs = [3, 1, 5, 2, 4].map((day) => run(`2095-01-0${day}T02:00:00.000Z`, { status: 'succeeded', summary: { critical: day, warning: 0, info: 0, opened: 0, resolved: 0 } }));
    for (const r of runs) await store.createRun(r);
    const recent = await store.listRecentRuns(3);
    expect(recent.map((r) => r.startedAt)).toEqual(['2095-01-05T02:00:00.000Z', '2095-01-04T02:00:00.000Z', '2095-01-03T02:00:00.000Z']);
    expect(recent[0]).toEqual(runs[2]);
    const all = await store.listRecentRuns(1000);
    expect(all.slice(0, 5).map((r) => r.summary?.critical)).toEqual([5, 4, 3, 2, 1]);
    expect(all.length).toBeGreaterThanOrEqual(5);
  });

  /** The targets as written, without the time storage adds to each. */
  const listedTargets = async (runId: string) => (await store.listTargets(runId)).map(({ updatedAt: _written, ...target }) => target);

  it('keeps every per-target status written concurrently', async () => {
    const runId = `run-${randomUUID()}`;
    const targets: RunTarget[] = Array.from({ length: 20 }, (_, i) => ({
      id: i === 0 ? 'tenant' : i < 15 ? randomUUID() : `00D00000000000${i}AAA`,
      kind: i === 0 ? 'tenant' : i < 15 ? 'environment' : 'salesforce-org',
      status: 'pending',
    }));
    await Promise.all(targets.map((t) => store.setTargetStatus(runId, t)));
    // Each row says when it was written: the run's trace of progress (a stalled run is closed by it).
    expect((await store.listTargets(runId)).every((t) => !Number.isNaN(Date.parse(t.updatedAt!)))).toBe(true);
    const byId = (a: RunTarget, b: RunTarget) => a.id.localeCompare(b.id);
    expect((await listedTargets(runId)).sort(byId)).toEqual([...targets].sort(byId));

    const done: RunTarget[] = targets.map((t, i) =>
      i % 3 === 0 ? { ...t, status: 'failed', error: `could not collect ${i}`, attempts: 3 } : { ...t, status: 'succeeded', name: `Target ${i}`, attempts: 1 },
    );
    await Promise.all(done.map((t) => store.setTargetStatus(runId, t)));
    expect((await listedTargets(runId)).sort(byId)).toEqual([...done].sort(byId));

    // A later success replaces the failure: the old error does not linger.
    const retried: RunTarget = { id: done[0]!.id, kind: done[0]!.kind, status: 'succeeded', attempts: 4 };
    await store.setTargetStatus(runId, retried);
    expect((await listedTargets(runId)).find((t) => t.id === retried.id)).toEqual(retried);
    expect(await listedTargets(`run-${randomUUID()}`)).toEqual([]);
  });

  it('writes the statuses of many targets in one transaction per 100', async () => {
    const runId = `run-${randomUUID()}`;
    const targets: RunTarget[] = Array.from({ length: 130 }, (_, i) => ({ id: randomUUID(), kind: 'environment', status: i % 2 ? 'pending' : 'skipped', name: `Env ${i}` }));
    sent.length = 0;
    await store.setTargetStatuses(runId, targets);
    expect(sent.map((r) => (r.url.includes('$batch') ? operationsIn(r.body).length : r.method)).sort()).toEqual([100, 30]);
    const byId = (a: RunTarget, b: RunTarget) => a.id.localeCompare(b.id);
    expect((await listedTargets(runId)).sort(byId)).toEqual([...targets].sort(byId));
  });

  it("keeps the findings of each run for reports: one entity per target's changes, a retry adding to them", async () => {
    const runId = `run-${randomUUID()}`;
    const targets = ['tenant', randomUUID(), '00D000000000001AAA'];
    const entries = Array.from({ length: 230 }, (_, i) => ({
      checkId: i % 2 ? 'dataverse.profile-drift' : 'entra.disabled-user-licensed',
      targetId: targets[i % 3]!,
      subjectId: `guest${i}_fabrikam.com#EXT#@contoso.onmicrosoft.com`,
      severity: (i % 2 ? 'info' : 'warning') as 'info' | 'warning',
      state: (['new', 'open', 'reopened', 'resolved'] as const)[i % 4]!,
    }));
    sent.length = 0;
    expect(await store.saveRunFindings(runId, entries)).toBe(230);
    // Three targets: three entities, in one transaction.
    expect(batches().map((r) => operationsIn(r.body).length)).toEqual([3]);
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const order = (list: typeof entries) => [...list].sort((a, b) => cmp(a.checkId, b.checkId) || cmp(a.targetId, b.targetId) || cmp(a.subjectId, b.subjectId));
    expect(await store.listRunFindings(runId)).toEqual(order(entries));

    // A retried target writes again (fewer entries, one changed): the union, the later write winning.
    clock = new Date(clock.getTime() + 1000);
    const retry = [{ ...entries[0]!, state: 'resolved' as const }];
    expect(await store.saveRunFindings(runId, retry)).toBe(1);
    expect(await store.listRunFindings(runId)).toEqual(order([retry[0]!, ...entries.slice(1)]));

    // A target with a very large history spreads over several entities and reads back whole.
    const large = Array.from({ length: 6000 }, (_, i) => ({ ...entries[1]!, targetId: targets[1]!, subjectId: `${randomUUID()}-${'x'.repeat(60)}-${i}` }));
    const otherRun = `run-${randomUUID()}`;
    sent.length = 0;
    expect(await store.saveRunFindings(otherRun, large)).toBe(6000);
    expect(batches().flatMap((r) => operationsIn(r.body)).length).toBeGreaterThan(1);
    expect(await store.listRunFindings(otherRun)).toEqual(order(large));

    expect(await store.listRunFindings(`run-${randomUUID()}`)).toEqual([]);
    sent.length = 0;
    expect(await store.saveRunFindings(runId, [])).toBe(0);
    expect(sent).toEqual([]);
  });
});

describe('suppressions', () => {
  it('covers a whole check or one subject until it expires', async () => {
    const targetId = randomUUID();
    const other = randomUUID();
    const now = new Date('2031-03-01T00:00:00.000Z');
    const base = { targetId, reason: 'Known, ticket 42', createdBy: 'admin@contoso.com', createdAt: '2031-02-01T00:00:00.000Z' };
    const wholeCheck: Suppression = { ...base, checkId: 'dataverse.profile-drift', subjectId: '*', expiresAt: '2031-04-01T00:00:00.000Z' };
    const oneSubject: Suppression = { ...base, checkId: 'dataverse.non-interactive-licensed', subjectId: 'user-1', expiresAt: '2031-04-01T00:00:00.000Z' };
    const expired: Suppression = { ...base, checkId: 'dataverse.administrative-licensed', subjectId: 'user-2', expiresAt: '2031-02-15T00:00:00.000Z' };
    const guest: Suppression = { ...base, checkId: 'dataverse.non-interactive-licensed', subjectId: "o'neil#EXT#", expiresAt: '2031-04-01T00:00:00.000Z' };
    for (const s of [wholeCheck, oneSubject, expired, guest]) await store.suppress(s);

    const sortS = (list: Suppression[]) => [...list].sort((a, b) => `${a.checkId}|${a.subjectId}`.localeCompare(`${b.checkId}|${b.subjectId}`));
    expect(sortS(await store.listSuppressions({ targetId }))).toEqual(sortS([wholeCheck, oneSubject, expired, guest]));
    const active = await store.listSuppressions({ targetId, activeAt: now });
    expect(sortS(active)).toEqual(sortS([wholeCheck, oneSubject, guest]));
    const everywhere = await store.listSuppressions({ activeAt: now });
    expect(everywhere.filter((s) => s.targetId === targetId)).toHaveLength(3);

    const all = await store.listSuppressions({ targetId });
    expect(isSuppressed({ checkId: 'dataverse.profile-drift', targetId, subjectId: 'anyone' }, all, now)).toBe(true);
    expect(isSuppressed({ checkId: 'dataverse.profile-drift', targetId: other, subjectId: 'anyone' }, all, now)).toBe(false);
    expect(isSuppressed({ checkId: 'dataverse.non-interactive-licensed', targetId, subjectId: 'user-1' }, all, now)).toBe(true);
    expect(isSuppressed({ checkId: 'dataverse.non-interactive-licensed', targetId, subjectId: 'user-9' }, all, now)).toBe(false);
    expect(isSuppressed({ checkId: 'dataverse.non-interactive-licensed', targetId, subjectId: "o'neil#EXT#" }, all, now)).toBe(true);
    expect(isSuppressed({ checkId: 'dataverse.administrative-licensed', targetId, subjectId: 'user-2' }, all, now)).toBe(false);
    expect(isSuppressed({ checkId: 'dataverse.administrative-licensed', targetId, subjectId: 'user-2' }, all, new Date('2031-02-10T00:00:00.000Z'))).toBe(true);
    expect(isSuppressed({ checkId: 'dataverse.profile-drift', targetId, subjectId: 'anyone' }, all, new Date('2031-04-01T00:00:00.000Z'))).toBe(false);
    expect(findSuppression({ checkId: 'dataverse.profile-drift', targetId, subjectId: 'x' }, all, now)?.reason).toBe('Known, ticket 42');

    // Suppressing again replaces (new expiry); unsuppress removes, and says when there was nothing.
    await store.suppress({ ...expired, expiresAt: '2031-05-01T00:00:00.000Z' });
    expect(isSuppressed({ checkId: expired.checkId, targetId, subjectId: 'user-2' }, await store.listSuppressions({ targetId }), now)).toBe(true);
    expect(await store.unsuppress('dataverse.profile-drift', targetId, '*')).toBe(true);
    expect(await store.unsuppress('dataverse.profile-drift', targetId, '*')).toBe(false);
    const after = await store.listSuppressions({ targetId, activeAt: now });
    expect(after.map((s) => s.checkId).sort()).toEqual(['dataverse.administrative-licensed', 'dataverse.non-interactive-licensed', 'dataverse.non-interactive-licensed']);
    await expect(store.suppress({ ...oneSubject, expiresAt: 'next week' })).rejects.toMatchObject({ service: 'storage', operation: 'suppress' });
  });
});

describe('alert outbox', () => {
  it('keeps an alert pending until delivered, counts failed attempts, never re-enqueues a delivered one, and round-trips large payloads', async () => {
    const small = `run-${randomUUID()}`;
    const large = `run-${randomUUID()}`;
    const smallPayload = { schemaVersion: 1, runId: small, findings: [{ checkId: 'x', title: 'Café 🚀' }] };
    const largePayload = {
      schemaVersion: 1,
      runId: large,
      findings: Array.from({ length: 8000 }, (_, i) => ({
        checkId: 'dataverse.enabled-user-ineligible',
        subjectId: randomUUID(),
        title: `User ${i} — Zoë 🚀 is enabled but not eligible`,
        remediation: 'Remove from the environment security group or assign a license (D4).',
      })),
    };
    expect(JSON.stringify(largePayload).length).toBeGreaterThan(1024 * 1024); // more than one entity can hold

    clock = new Date('2031-03-01T02:00:00.000Z');
    expect(await store.enqueueAlert(small, smallPayload)).toBe(true);
    clock = new Date('2031-03-01T02:00:01.000Z');
    expect(await store.enqueueAlert(large, largePayload)).toBe(true);

    let pending = (await store.listPendingAlerts()).filter((a) => a.runId === small || a.runId === large);
    expect(pending.map((a) => a.runId)).toEqual([small, large]);
    expect(pending[0]).toEqual({ runId: small, payload: smallPayload, enqueuedAt: '2031-03-01T02:00:00.000Z', attempts: 0, lastAttemptAt: null, lastError: null });
    expect(pending[1]!.payload).toEqual(largePayload);

    clock = new Date('2031-03-01T02:01:00.000Z');
    await store.markAlertAttempt(small, new Error('Logic App answered 502'));
    pending = (await store.listPendingAlerts()).filter((a) => a.runId === small);
    expect(pending[0]).toMatchObject({ attempts: 1, lastError: 'Logic App answered 502', lastAttemptAt: '2031-03-01T02:01:00.000Z' });

    await store.markAlertDelivered(small);
    expect((await store.listPendingAlerts()).map((a) => a.runId)).not.toContain(small);
    expect(await store.enqueueAlert(small, smallPayload)).toBe(false); // never sent twice
    await store.markAlertAttempt(small, 'late failure'); // ignored for a delivered alert
    expect((await store.listPendingAlerts()).map((a) => a.runId)).not.toContain(small);

    // Replacing a pending payload keeps its history and leaves no chunks of the old one behind.
    expect(await store.enqueueAlert(large, { schemaVersion: 1, runId: large, findings: [] })).toBe(true);
    const replaced = (await store.listPendingAlerts()).find((a) => a.runId === large)!;
    expect(replaced.payload).toEqual({ schemaVersion: 1, runId: large, findings: [] });
    expect(replaced.enqueuedAt).toBe('2031-03-01T02:00:01.000Z');
    const client = await tables.table(AUDIT_TABLES.alertOutbox);
    const chunks: unknown[] = [];
    for await (const row of client.listEntities({ queryOptions: { filter: `PartitionKey eq 'payload_${large}'` } })) chunks.push(row);
    expect(chunks).toHaveLength(1);

    await expect(store.markAlertDelivered(`run-${randomUUID()}`)).rejects.toMatchObject({ service: 'storage', operation: 'markAlertDelivered', status: 404, code: 'ResourceNotFound' });
    await expect(store.markAlertAttempt(`run-${randomUUID()}`, 'x')).rejects.toMatchObject({ service: 'storage', operation: 'markAlertAttempt', status: 404 });
  });
});

describe('storage failures', () => {
  it('surface as ServiceError naming the method', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const dead = new Tables(
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`,
      { retryOptions: { maxRetries: 0 } },
    );
    const broken = createAuditStore(dead);
    const error = await broken.listFindings({ targetId: 'tenant' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'storage', operation: 'listFindings' });
    await expect(broken.getLatestRun()).rejects.toMatchObject({ service: 'storage', operation: 'getLatestRun' });
  });
});

describe('alert claims', () => {
  it('lets exactly one of two concurrent finalizers claim a pending alert, and frees it after a failed attempt', async () => {
    const store = createAuditStore(new Tables(azurite.connectionString));
    await store.enqueueAlert('run-claim-1', { hello: 'world' });
    const claims = await Promise.all([store.claimAlert('run-claim-1', 60_000), store.claimAlert('run-claim-1', 60_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimAlert('run-claim-1', 60_000)).toBe(false);
    await store.markAlertAttempt('run-claim-1', new Error('Logic App answered 500'));
    expect(await store.claimAlert('run-claim-1', 60_000)).toBe(true);
    await store.markAlertDelivered('run-claim-1');
    expect(await store.claimAlert('run-claim-1', 60_000)).toBe(false);
  });
});
