import type { InvocationContext } from '@azure/functions';
import type { AuditFinalizeMessage, AuditTargetMessage } from '../lib/gateways/storage/audit-queue.js';
import { getAuditRunner } from './services.js';

/** host.json `queues.maxDequeueCount`: the last delivery records the target as failed instead of throwing. */
export const MAX_DEQUEUE_COUNT = 5;

/** Queue: audit one environment or Salesforce org; the last target to finish asks for the finalize step. */
export async function auditTarget(message: unknown, context: InvocationContext): Promise<void> {
  const target = message as AuditTargetMessage;
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const result = await (await getAuditRunner()).auditTarget(target, { finalAttempt: dequeueCount >= MAX_DEQUEUE_COUNT, attempt: dequeueCount });
  context.log(`audit ${target.runId}: ${target.kind} ${target.targetId} ${result.status}`);
}

/** Queue: tenant-wide checks, failed targets, alerts, closing the run (idempotent if asked twice). */
export async function auditFinalize(message: unknown, context: InvocationContext): Promise<void> {
  const { runId } = message as AuditFinalizeMessage;
  const report = await (await getAuditRunner()).finalize(runId);
  context.log(`audit ${runId} ${report.run.status}: ${report.findings.length} open finding(s), ${report.resolved.length} resolved`);
}
