import pLimit from 'p-limit';
import type { AuditRun, RunTarget } from '../domain/finding.js';
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
  const attempts = options.attempts ?? 3;
  const { run, messages } = await pipeline.startRun(options.trigger);
  const limit = pLimit(options.concurrency);
  let done = 0;
  await Promise.all(
    messages.map((message) =>
      limit(async () => {
        for (let attempt = 1; attempt <= attempts; attempt++) {
          try {
            const target = await pipeline.auditTarget(message, { finalAttempt: attempt === attempts, attempt });
            options.onTargetDone?.(target, ++done, messages.length);
            return;
          } catch {
            // Another attempt follows: the gateway already retried throttling; this covers a target
            // that failed outright, as the queue would redeliver the message.
          }
        }
      }),
    ),
  );
  return pipeline.finalize(run.runId);
}
