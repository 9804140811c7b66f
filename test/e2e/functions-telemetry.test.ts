import { InvocationContext, type Timer } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditNightly } from '../../functions/audit-nightly.js';
import { auditFinalize, auditTarget } from '../../functions/audit-target.js';
import { AUDIT_FINALIZE_QUEUE, AUDIT_TARGET_QUEUE } from '../../lib/gateways/storage/audit-queue.js';
import { UPSTREAM_ATTRIBUTES as A } from '../../lib/telemetry/upstream.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';
import { installTestTelemetry } from '../support/telemetry.js';

/**
 * The Functions triggers of the audit (timer, then one queue invocation per target, then finalize),
 * as the host calls them: each invocation continues the host's trace and logs structured events
 * with its invocation id; the run's metrics, emitted by the finalize invocation, count the upstream
 * requests every invocation made (kept on each target's status row).
 */

const telemetry = installTestTelemetry();
let t: TestServices;

beforeAll(async () => {
  t = await startTestServices(demoTenant());
  // The triggers build Steward from the app settings, as on Azure: point them at the simulator.
  Object.assign(process.env, t.sim.settingsEnv(), { STEWARD_STORAGE_CONNECTION: t.storage.connectionString, AzureWebJobsStorage: t.storage.connectionString });
});
afterAll(() => t?.stop());

async function drain(name: string): Promise<unknown[]> {
  const queue = new QueueClient(t.storage.connectionString, name);
  await queue.createIfNotExists();
  const out: unknown[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return out;
    for (const item of receivedMessageItems) {
      out.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')));
      await queue.deleteMessage(item.messageId, item.popReceipt);
    }
  }
}

let invocations = 0;
function invocation(functionName: string) {
  invocations++;
  const traceId = `${String(invocations).padStart(4, '0')}${'ab'.repeat(14)}`;
  const records: Record<string, unknown>[] = [];
  const context = new InvocationContext({
    functionName,
    invocationId: `invocation-${invocations}`,
    traceContext: { traceParent: `00-${traceId}-00f067aa0ba902b7-01`, traceState: '', attributes: {} },
    triggerMetadata: { dequeueCount: 1 },
    logHandler: (_level, ...args) => records.push(args[0] as Record<string, unknown>),
  });
  return { context, traceId, records, invocationId: `invocation-${invocations}` };
}

describe('the audit through the Functions triggers', () => {
  it('logs structured events naming each invocation and its trace, and counts every upstream request of the run', async () => {
    telemetry.reset();
    const nightly = invocation('audit-nightly');
    await auditNightly({} as Timer, nightly.context);
    expect(nightly.records).toContainEqual(expect.objectContaining({ event: 'audit.started', invocationId: nightly.invocationId, traceId: nightly.traceId }));

    const messages = await drain(AUDIT_TARGET_QUEUE);
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      const target = invocation('audit-target');
      await auditTarget(message, target.context);
      expect(target.records).toContainEqual(expect.objectContaining({ event: 'audit.target', status: 'succeeded', invocationId: target.invocationId, traceId: target.traceId }));
      // The upstream calls of this invocation are in its trace.
      const calls = telemetry.upstream().filter((s) => s.spanContext().traceId === target.traceId);
      expect(calls.length).toBeGreaterThan(0);
    }
    const finalizeMessages = await drain(AUDIT_FINALIZE_QUEUE);
    expect(finalizeMessages).toHaveLength(1);
    const finalize = invocation('audit-finalize');
    await auditFinalize(finalizeMessages[0], finalize.context);
    expect(finalize.records).toContainEqual(expect.objectContaining({ event: 'audit.finalized', status: 'succeeded', invocationId: finalize.invocationId, traceId: finalize.traceId }));

    const attempts = telemetry.upstream().filter((s) => !s.attributes[A.composite]).reduce((sum, s) => sum + 1 + (s.attributes[A.retries] as number), 0);
    expect(await telemetry.counter('steward.audit.upstream_requests')).toBe(attempts);
    expect(await telemetry.counter('steward.audit.runs', { status: 'succeeded', trigger: 'schedule' })).toBe(1);
    // Every queued target and the tenant succeeded (an environment without Dataverse is counted as skipped).
    expect(await telemetry.counter('steward.audit.targets', { status: 'succeeded' })).toBe(messages.length + 1);
  });
});
