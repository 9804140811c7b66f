import type { InvocationContext } from '@azure/functions';
import type { AuditFinalizeMessage, AuditTargetMessage } from '../lib/gateways/storage/audit-queue.js';
import { logEvent } from '../lib/telemetry/log.js';
import { inInvocation } from './invocation.js';
import { getAuditRunner } from './services.js';

/** host.json `queues.maxDequeueCount`: the last delivery records the target as failed instead of throwing. */
export const MAX_DEQUEUE_COUNT = 5;

/** Queue: audit one environment or Salesforce org; the last target to finish asks for the finalize step. */
export async function auditTarget(message: unknown, context: InvocationContext): Promise<void> {
  const target = message as AuditTargetMessage;
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  await inInvocation(context, async () => {
    const result = await (await getAuditRunner()).auditTarget(target, { finalAttempt: dequeueCount >= MAX_DEQUEUE_COUNT, attempt: dequeueCount });
    logEvent('info', 'audit.target', { runId: target.runId, kind: target.kind, targetId: target.targetId, status: result.status, attempt: dequeueCount, upstreamRequests: result.upstreamRequests });
  });
}

/** Queue: tenant-wide checks, failed targets, alerts, closing the run (idempotent if asked twice). */
export async function auditFinalize(message: unknown, context: InvocationContext): Promise<void> {
  const { runId } = message as AuditFinalizeMessage;
  await inInvocation(context, async () => {
    const report = await (await getAuditRunner()).finalize(runId);
    logEvent('info', 'audit.finalized', { runId, status: report.run.status, openFindings: report.findings.length, resolved: report.resolved.length });
  });
}
