import type { InvocationContext, Timer } from '@azure/functions';
import { getAuditPipeline, getServices } from './services.js';

/** Timer: start the nightly run and fan its targets out to the queue. */
export async function auditNightly(_timer: Timer, context: InvocationContext): Promise<void> {
  const [services, pipeline] = await Promise.all([getServices(), getAuditPipeline()]);
  const { run, messages } = await pipeline.startRun('schedule', { inProcess: services.auditDispatcher.inProcess });
  await services.auditDispatcher.dispatch(pipeline, run.runId, messages);
  context.log(`audit run ${run.runId} started with ${messages.length} target(s)`);
}
