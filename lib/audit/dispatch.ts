import { QueueClient } from '@azure/storage-queue';
import pLimit from 'p-limit';
import type { RunTarget } from '../domain/finding.js';
import { toStorageError } from '../gateways/storage/errors.js';
import type { AuditPipeline, AuditTargetMessage } from './pipeline.js';

/**
 * Audits the targets in this process with bounded concurrency; each gets `attempts` tries, as a
 * queue message gets its dequeue count (the gateways already retried throttling within a try).
 */
export async function auditTargetsHere(
  pipeline: AuditPipeline,
  messages: readonly AuditTargetMessage[],
  options: { concurrency: number; attempts?: number; onTargetDone?: (target: RunTarget, done: number, total: number) => void },
): Promise<void> {
  const attempts = options.attempts ?? 3;
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
            // the next attempt follows, as a redelivered queue message would
          }
        }
      }),
    ),
  );
}

/** Hands the targets of a started run to whoever audits them. */
export interface AuditDispatcher {
  /** Whether the whole run happens in this process (see `StartRunOptions.inProcess`). */
  readonly inProcess: boolean;
  dispatch(pipeline: AuditPipeline, runId: string, messages: AuditTargetMessage[]): Promise<void>;
}

export const AUDIT_TARGET_QUEUE = 'audit-targets';
export const AUDIT_FINALIZE_QUEUE = 'audit-finalize';

/**
 * Azure Functions: one queue message per target (claim-check: ids only, the data is in storage).
 * Functions' queue trigger expects base64 message text by default.
 */
export class QueueDispatcher implements AuditDispatcher {
  readonly inProcess = false;

  constructor(private readonly connectionString: string) {}

  queue(name: string): QueueClient {
    return new QueueClient(this.connectionString, name);
  }

  async send(name: string, message: unknown): Promise<void> {
    const queue = this.queue(name);
    try {
      await queue.createIfNotExists();
      await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
    } catch (cause) {
      throw toStorageError(`sendMessage ${name}`, cause);
    }
  }

  async dispatch(_pipeline: AuditPipeline, runId: string, messages: AuditTargetMessage[]): Promise<void> {
    if (messages.length === 0) {
      await this.send(AUDIT_FINALIZE_QUEUE, { runId });
      return;
    }
    for (const message of messages) await this.send(AUDIT_TARGET_QUEUE, message);
  }
}

/**
 * `steward serve` and tests: the same steps in this process, in the background, with bounded
 * concurrency; a target gets `attempts` tries like a queue message's dequeue count.
 */
export class InProcessDispatcher implements AuditDispatcher {
  readonly inProcess = true;
  private running = new Set<Promise<unknown>>();

  constructor(private readonly options: { concurrency: number; attempts?: number }) {}

  async dispatch(pipeline: AuditPipeline, runId: string, messages: AuditTargetMessage[]): Promise<void> {
    const work = (async () => {
      await auditTargetsHere(pipeline, messages, this.options);
      await pipeline.finalize(runId);
    })().catch((error: unknown) => console.error(`[steward] audit run ${runId} failed: ${(error as Error)?.message}`));
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** Waits for every run dispatched so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
