import type { InvocationContext, Timer } from '@azure/functions';
import { getAuditRunner } from './services.js';

/** Timer: start the nightly run and fan its targets out to the queue. */
export async function auditNightly(_timer: Timer, context: InvocationContext): Promise<void> {
  const { run, targetCount } = await (await getAuditRunner()).start('schedule');
  context.log(`audit run ${run.runId} started with ${targetCount} target(s)`);
}
