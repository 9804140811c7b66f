import type { InvocationContext } from '@azure/functions';
import { AUDIT_FINALIZE_QUEUE, QueueDispatcher } from '../lib/audit/dispatch.js';
import type { AuditTargetMessage } from '../lib/audit/pipeline.js';
import { getAuditPipeline, getServices } from './services.js';

/** host.json `queues.maxDequeueCount`: the last delivery records the target as failed instead of throwing. */
export const MAX_DEQUEUE_COUNT = 5;

/** Queue: audit one environment or Salesforce org; the last target to finish asks for the finalize step. */
export async function auditTarget(message: unknown, context: InvocationContext): Promise<void> {
  const target = message as AuditTargetMessage;
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const [services, pipeline] = await Promise.all([getServices(), getAuditPipeline()]);
  const result = await pipeline.auditTarget(target, { finalAttempt: dequeueCount >= MAX_DEQUEUE_COUNT, attempt: dequeueCount });
  context.log(`audit ${target.runId}: ${target.kind} ${target.targetId} ${result.status}`);
  if (await pipeline.allTargetsDone(target.runId)) {
    await new QueueDispatcher(services.settings.hostStorageConnection).send(AUDIT_FINALIZE_QUEUE, { runId: target.runId });
  }
}

/** Queue: tenant-wide checks, failed targets, alerts, closing the run (idempotent if asked twice). */
export async function auditFinalize(message: unknown, context: InvocationContext): Promise<void> {
  const { runId } = message as { runId: string };
  const pipeline = await getAuditPipeline();
  const report = await pipeline.finalize(runId);
  context.log(`audit ${runId} ${report.run.status}: ${report.findings.length} open finding(s), ${report.resolved.length} resolved`);
}
