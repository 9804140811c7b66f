import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRunner, createSteward } from '../../lib/composition.js';
import { loadSettings } from '../../lib/config/settings.js';
import { AUDIT_FINALIZE_QUEUE, AUDIT_TARGET_QUEUE, type AuditFinalizeMessage, type AuditTargetMessage } from '../../lib/gateways/storage/audit-queue.js';
import type { AuditRunner } from '../../lib/audit/runner.js';
import type { AppServices } from '../../lib/services.js';
import { demoExpectedFindings, demoTenant } from '../../fixtures/demo-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * The Azure Functions path: the timer's runner starts the run and sends one queue message per
 * target; each message is audited by a runner of its own (another worker: nothing in memory, the
 * directory and the environment list come from the claim-check blobs); the last one asks for
 * finalize, which a third runner runs from what is in storage.
 */

let t: TestServices;
let queueServices: AppServices;
let starter: AuditRunner;

beforeAll(async () => {
  t = await startTestServices(demoTenant());
  const settings = loadSettings({ ...t.sim.settingsEnv(), STEWARD_STORAGE_CONNECTION: t.storage.connectionString });
  ({ services: queueServices, audit: starter } = await createSteward(settings, { dispatch: 'queue' }));
});

afterAll(async () => {
  await t?.stop();
});

/** Receives every message of a queue (base64 JSON, as the Functions trigger decodes it). */
async function drain<T>(name: string): Promise<T[]> {
  const queue = new QueueClient(t.storage.connectionString, name);
  const out: T[] = [];
  await queue.createIfNotExists();
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return out;
    for (const item of receivedMessageItems) {
      out.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as T);
      await queue.deleteMessage(item.messageId, item.popReceipt);
    }
  }
}

const keyOf = (f: { checkId: string; targetId: string; subjectId: string; severity: string }) => `${f.checkId}|${f.targetId}|${f.subjectId}|${f.severity}`;

describe('the audit fanned out over Azure Storage queues', () => {
  it('finds what the in-process run finds, each target audited by another runner from the claim-checks', async () => {
    expect(starter.inProcess).toBe(false);
    const { run, targetCount } = await starter.start('schedule');

    const delivered = await drain<AuditTargetMessage>(AUDIT_TARGET_QUEUE);
    const targets = run.targets.filter((target) => target.status === 'pending' && target.kind !== 'tenant');
    expect(delivered.map((m) => m.targetId).sort()).toEqual(targets.map((target) => target.id).sort());
    // Every target of the run, skipped environments too: the count the CLI and the run record give (issue 14).
    expect(targetCount).toBe(run.targets.length);
    const finalizeAsked: string[] = [];
    for (const message of delivered) {
      const worker = createAuditRunner(queueServices, { dispatch: 'queue' });
      const target = await worker.auditTarget(message, { finalAttempt: true, attempt: 1 });
      expect(target.status, target.error).toBe('succeeded');
      const asked = await drain<AuditFinalizeMessage>(AUDIT_FINALIZE_QUEUE);
      if (asked.length > 0) {
        expect(asked).toEqual([{ runId: run.runId }]);
        finalizeAsked.push(message.targetId);
      }
    }
    // Only the last target finds every target done, and asks for the finalize step.
    expect(finalizeAsked).toEqual([delivered.at(-1)!.targetId]);

    const report = await createAuditRunner(queueServices, { dispatch: 'queue' }).finalize(run.runId);
    expect(report.run.status).toBe('succeeded');
    expect(report.findings.map(keyOf).sort()).toEqual(demoExpectedFindings().map(keyOf).sort());
    expect(await drain(AUDIT_FINALIZE_QUEUE)).toEqual([]);
  });

  it('a target whose run lost its directory claim fails with a cause that says so', async () => {
    const { run } = await starter.start('schedule');
    const messages = await drain<AuditTargetMessage>(AUDIT_TARGET_QUEUE);
    const { BlobServiceClient } = await import('@azure/storage-blob');
    await BlobServiceClient.fromConnectionString(t.storage.connectionString).getContainerClient('audit-claims').deleteBlob(`${run.runId}/directory.json`);
    const environment = messages.find((m) => m.kind === 'environment')!;
    const target = await createAuditRunner(queueServices, { dispatch: 'queue' }).auditTarget(environment, { finalAttempt: true, attempt: 5 });
    expect(target).toMatchObject({ status: 'failed', attempts: 5, failure: { service: null, status: null, code: 'directory-unavailable' } });
    expect(target.error).toMatch(/directory snapshot of the run is missing/);
    // Other targets are still pending: nobody asks for finalize yet.
    expect(await drain(AUDIT_FINALIZE_QUEUE)).toEqual([]);
  });
});
