import { QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRunner, createSteward } from '../../lib/composition.js';
import { loadSettings } from '../../lib/config/settings.js';
import { AUDIT_FINALIZE_QUEUE, AUDIT_TARGET_QUEUE, type AuditTargetMessage } from '../../lib/gateways/storage/audit-queue.js';
import { AUDIT_TABLES } from '../../lib/gateways/storage/dto.js';
import type { AppServices } from '../../lib/services.js';
import { demoExpectedFindings, demoTenant } from '../../fixtures/demo-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * A run whose worker died, and a run whose target rows were lost (issue 12, D3 and D5): the
 * Azure Functions path (queue dispatch), each step by a runner of its own, and a clock the test
 * moves so the stall period passes without waiting.
 */

let t: TestServices;
let services: AppServices;
let clock = Date.parse('2026-12-04T02:00:00Z');
const now = () => new Date(clock);
const minutes = (n: number) => n * 60_000;

beforeAll(async () => {
  t = await startTestServices(demoTenant());
  const settings = loadSettings({ ...t.sim.settingsEnv(), STEWARD_STORAGE_CONNECTION: t.storage.connectionString, STEWARD_AUDIT_STALL_MINUTES: '20' });
  ({ services } = await createSteward(settings, { dispatch: 'queue', now }));
});

afterAll(async () => {
  await t?.stop();
});

const runner = () => createAuditRunner(services, { dispatch: 'queue' });

async function drain(name: string): Promise<AuditTargetMessage[]> {
  const queue = new QueueClient(t.storage.connectionString, name);
  await queue.createIfNotExists();
  const out: AuditTargetMessage[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return out;
    for (const item of receivedMessageItems) {
      out.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as AuditTargetMessage);
      await queue.deleteMessage(item.messageId, item.popReceipt);
    }
  }
}

describe('a run whose worker died (D3)', () => {
  it('stays running while it progresses, then is closed as failed naming the step, the targets and when it stopped', async () => {
    const { run } = await runner().start('schedule');
    const messages = await drain(AUDIT_TARGET_QUEUE);
    // One target is audited, then the worker dies: the others' messages are gone with it.
    clock += minutes(5);
    await runner().auditTarget(messages[0]!, { finalAttempt: true, attempt: 1 });
    const progressAt = new Date(clock).toISOString();

    clock += minutes(19);
    expect((await runner().getRun(run.runId)).status).toBe('running');

    clock += minutes(2);
    const closed = await runner().getRun(run.runId);
    expect(closed.status).toBe('failed');
    expect(closed.finishedAt).toBe(new Date(clock).toISOString());
    expect(closed.stalled).toMatchObject({ step: 'targets', lastProgressAt: progressAt });
    expect(closed.stalled!.waitingOn).toHaveLength(messages.length - 1);
    // The tenant's checks run at finalize, which never came: it did not finish either.
    const unfinished = closed.targets.filter((target) => target.failure?.code === 'run-stalled');
    expect(unfinished.map((target) => target.id).sort()).toEqual([...messages.slice(1).map((m) => m.targetId), 'tenant'].sort());
    expect(closed.targets.find((target) => target.id === messages[0]!.targetId)?.status).toBe('succeeded');
  });

  it('the next run closes a stalled run it finds and says it superseded it; the findings stay as they were', async () => {
    const before = await runner().listFindings();
    const { run: stuck } = await runner().start('schedule');
    await drain(AUDIT_TARGET_QUEUE);
    clock += minutes(21);
    const { run: next } = await runner().start('schedule');
    expect(next.supersedes).toEqual([stuck.runId]);
    const closed = await runner().getRun(stuck.runId);
    expect(closed).toMatchObject({ status: 'failed', stalled: { step: 'targets', supersededBy: next.runId } });
    expect(await runner().listFindings()).toEqual(before);
    await drain(AUDIT_TARGET_QUEUE);
  });

  it('a run still making progress is not superseded', async () => {
    const { run: first } = await runner().start('schedule');
    clock += minutes(1);
    const { run: second } = await runner().start('schedule');
    expect(second.supersedes).toBeUndefined();
    expect((await runner().getRun(first.runId)).status).toBe('running');
    await drain(AUDIT_TARGET_QUEUE);
    clock += minutes(60);
  });
});

describe('a run whose target rows were lost (D5)', () => {
  /** A whole run over the queue: start, every target, finalize. */
  async function wholeRun() {
    const { run } = await runner().start('schedule');
    const messages = await drain(AUDIT_TARGET_QUEUE);
    for (const message of messages) await runner().auditTarget(message, { finalAttempt: true, attempt: 1 });
    await drain(AUDIT_FINALIZE_QUEUE);
    return { run, messages };
  }

  it('finalize checks the run\'s own target list: a target without a result is failed and the run is partial', async () => {
    const complete = await wholeRun();
    expect((await runner().finalize(complete.run.runId)).run.status).toBe('succeeded');
    const { run } = await runner().start('schedule');
    const messages = await drain(AUDIT_TARGET_QUEUE);
    for (const message of messages) await runner().auditTarget(message, { finalAttempt: true, attempt: 1 });
    await drain(AUDIT_FINALIZE_QUEUE);
    // Two targets' status rows are lost after they were audited.
    const lost = messages.slice(0, 2).map((m) => m.targetId);
    const rows = TableClient.fromConnectionString(t.storage.connectionString, AUDIT_TABLES.runTargets, { allowInsecureConnection: true });
    for (const id of lost) await rows.deleteEntity(run.runId, id);

    const report = await runner().finalize(run.runId);
    expect(report.run.status).toBe('partial');
    expect(report.run.targets).toHaveLength(run.targets.length);
    for (const id of lost) {
      expect(report.run.targets.find((target) => target.id === id)).toMatchObject({ status: 'failed', failure: { code: 'result-missing' } });
    }
    // Their findings were recorded before the rows were lost: none is dropped from the report.
    const expected = demoExpectedFindings().length;
    expect(complete.messages).toHaveLength(messages.length);
    const failedTargetFindings = report.findings.filter((f) => f.checkId === 'audit.target-failed').length;
    expect(failedTargetFindings).toBe(lost.length);
    expect(report.findings.length - failedTargetFindings).toBe(expected);
    expect((await runner().getRun(run.runId)).targets.filter((target) => target.status === 'failed').map((target) => target.id).sort()).toEqual([...lost].sort());
  });
});
