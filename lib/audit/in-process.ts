import type { AuditRun, RunTarget } from '../domain/finding.js';
import { auditTargetsHere } from './dispatch.js';
import type { AuditPipeline, AuditRunReport } from './pipeline.js';

export interface InProcessOptions {
  trigger: AuditRun['trigger'];
  /** Targets audited at once. */
  concurrency: number;
  /** Attempts per target before it is recorded as failed (the queue's dequeue count in Azure). */
  attempts?: number;
  onTargetDone?: (target: RunTarget, done: number, total: number) => void;
}

/** The fan-out of the Functions app, run in this process with bounded concurrency (CLI, tests, bench). */
export async function runAuditInProcess(pipeline: AuditPipeline, options: InProcessOptions): Promise<AuditRunReport> {
  const { run, messages } = await pipeline.startRun(options.trigger, { inProcess: true });
  await auditTargetsHere(pipeline, messages, options);
  return pipeline.finalize(run.runId);
}
