import type { InvocationContext, Timer } from '@azure/functions';
import { logEvent } from '../lib/telemetry/log.js';
import { inInvocation } from './invocation.js';
import { getAuditRunner } from './services.js';

/** Timer: start the nightly run and fan its targets out to the queue. */
export async function auditNightly(_timer: Timer, context: InvocationContext): Promise<void> {
  await inInvocation(context, async () => {
    const { run, targetCount } = await (await getAuditRunner()).start('schedule');
    logEvent('info', 'audit.started', { runId: run.runId, targetCount });
  });
}
