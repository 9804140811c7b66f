import { odata, type TransactionAction } from '@azure/data-tables';
import { ServiceError } from '../http/service-error.js';
import type { AlertOutbox, PendingAlert } from './audit-store.js';
import { chunkEntities, clip, compare, joinChunks, str, type Row } from './chunks.js';
import { ALERTS_PARTITION, AUDIT_TABLES, alertPayloadPartition, type AlertHeadEntity } from './dto.js';
import { statusOf } from './errors.js';
import { keySafe } from './keys.js';
import { eachLimited, type TableAccess } from './table-access.js';

/**
 * The alert outbox on Table Storage: a run's alert document is written here before the findings'
 * alert keys move, and delivered from here, so a failed delivery is retried by the next run and
 * a delivered one is never sent again.
 *
 * Each run has a head entity (`alerts` / runId) and its payload in chunks (`payload_<runId>` /
 * `<generation>_<index>`). Writing a payload writes its chunks under a new generation first, then
 * switches the head to it (optimistically, on the head's ETag), then deletes older chunks. A
 * delivery attempt first claims the head with a lease (`leaseUntil`, on its ETag): two finalizers
 * running at once cannot both send it, and a finalizer that died leaves a claim that runs out.
 */
export class TableAlertOutbox implements AlertOutbox {
  constructor(private readonly access: TableAccess) {}

  enqueueAlert(runId: string, payload: unknown): Promise<boolean> {
    return this.access.op(
      'enqueueAlert',
      async () => {
        keySafe(runId, 'enqueueAlert');
        const json = JSON.stringify(payload);
        if (json === undefined) throw new TypeError('the alert payload is not JSON-serialisable');
        const head = await this.head(runId);
        if (head && head.status === 'delivered') return false;

        // Chunks first, under a new generation; the head, written last, switches to them.
        const generation = this.access.newGeneration();
        const partitionKey = alertPayloadPartition(runId);
        const chunks = chunkEntities(partitionKey, generation, json);
        await this.access.upsertAll(AUDIT_TABLES.alertOutbox, chunks);
        await this.writeHead(runId, head, { generation, chunks: chunks.length, payloadChars: json.length });

        // Chunks of an earlier generation (a replaced payload, an enqueue that stopped half-way) go.
        const stale = (await this.access.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${partitionKey}`)).filter((row) => !String(row.rowKey).startsWith(`${generation}_`));
        await this.access.submitAll(AUDIT_TABLES.alertOutbox, stale.map<TransactionAction>((row) => ['delete', { partitionKey, rowKey: String(row.rowKey) }]));
        return true;
      },
      runId,
    );
  }

  /** The head pointing at a new payload generation; keeps what the earlier head knew of its deliveries. */
  private async writeHead(runId: string, head: Row | null, payload: Pick<AlertHeadEntity, 'generation' | 'chunks' | 'payloadChars'>): Promise<void> {
    const entity: AlertHeadEntity = {
      partitionKey: ALERTS_PARTITION,
      rowKey: runId,
      runId,
      status: 'pending',
      enqueuedAt: head && typeof head.enqueuedAt === 'string' ? head.enqueuedAt : this.access.now().toISOString(),
      attempts: head && typeof head.attempts === 'number' ? head.attempts : 0,
      ...payload,
    };
    if (head && typeof head.lastAttemptAt === 'string') entity.lastAttemptAt = head.lastAttemptAt;
    if (head && typeof head.lastError === 'string') entity.lastError = head.lastError;
    const client = await this.access.table(AUDIT_TABLES.alertOutbox);
    if (head) {
      // Optimistic: if the head changed since it was read (delivered meanwhile), fail rather than resurrect it.
      await client.updateEntity(entity, 'Replace', { etag: head.etag });
    } else {
      await client.createEntity(entity);
    }
  }

  listPendingAlerts(): Promise<PendingAlert[]> {
    return this.access.op('listPendingAlerts', async () => {
      const heads = await this.access.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${ALERTS_PARTITION} and status eq ${'pending'}`);
      const alerts: PendingAlert[] = [];
      await eachLimited(heads, async (head) => {
        alerts.push(await this.pendingAlert(head));
      });
      return alerts.sort((a, b) => compare(a.enqueuedAt, b.enqueuedAt) || compare(a.runId, b.runId));
    });
  }

  /** A pending head with its payload read back from the chunks of its generation. */
  private async pendingAlert(head: Row): Promise<PendingAlert> {
    const runId = str(head.runId);
    const generation = str(head.generation);
    const partitionKey = alertPayloadPartition(runId);
    const rows = await this.access.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${partitionKey} and RowKey ge ${`${generation}_`} and RowKey lt ${`${generation}\``}`);
    const json = rows.length === head.chunks ? joinChunks(rows) : null;
    if (json === null) {
      throw new ServiceError({ service: 'storage', operation: 'listPendingAlerts', target: runId, code: 'AlertPayloadIncomplete' }, `expected ${String(head.chunks)} payload chunks, found ${rows.length}`);
    }
    return {
      runId,
      payload: JSON.parse(json) as unknown,
      enqueuedAt: str(head.enqueuedAt),
      attempts: typeof head.attempts === 'number' ? head.attempts : 0,
      lastAttemptAt: typeof head.lastAttemptAt === 'string' ? head.lastAttemptAt : null,
      lastError: typeof head.lastError === 'string' ? head.lastError : null,
    };
  }

  claimAlert(runId: string, leaseMs: number): Promise<boolean> {
    return this.access.op(
      'claimAlert',
      async () => {
        const head = await this.head(keySafe(runId, 'claimAlert'));
        if (!head || head.status !== 'pending') return false;
        const now = this.access.now().getTime();
        if (typeof head.leaseUntil === 'string' && Date.parse(head.leaseUntil) > now) return false;
        const client = await this.access.table(AUDIT_TABLES.alertOutbox);
        try {
          await client.updateEntity(
            { partitionKey: ALERTS_PARTITION, rowKey: runId, leaseUntil: new Date(now + leaseMs).toISOString() },
            'Merge',
            { etag: head.etag },
          );
          return true;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 412) return false; // another claimed it first
          throw error;
        }
      },
      runId,
    );
  }

  markAlertDelivered(runId: string): Promise<void> {
    return this.access.op(
      'markAlertDelivered',
      async () => {
        const client = await this.access.table(AUDIT_TABLES.alertOutbox);
        // `update` (merge) fails with 404 when there is no such alert.
        await client.updateEntity(
          { partitionKey: ALERTS_PARTITION, rowKey: keySafe(runId, 'markAlertDelivered'), status: 'delivered', deliveredAt: this.access.now().toISOString() },
          'Merge',
        );
      },
      runId,
    );
  }

  markAlertAttempt(runId: string, error: unknown): Promise<void> {
    return this.access.op(
      'markAlertAttempt',
      async () => {
        const client = await this.access.table(AUDIT_TABLES.alertOutbox);
        const rowKey = keySafe(runId, 'markAlertAttempt');
        for (let attempt = 0; ; attempt++) {
          const head = await this.head(rowKey);
          if (!head) throw new ServiceError({ service: 'storage', operation: 'markAlertAttempt', target: runId, status: 404, code: 'ResourceNotFound' }, 'no alert for this run');
          if (head.status === 'delivered') return;
          try {
            await client.updateEntity(
              {
                partitionKey: ALERTS_PARTITION,
                rowKey,
                attempts: (typeof head.attempts === 'number' ? head.attempts : 0) + 1,
                lastAttemptAt: this.access.now().toISOString(),
                lastError: clip(errorText(error)),
                // The attempt is over: release the claim so the next run may try again.
                leaseUntil: new Date(0).toISOString(),
              },
              'Merge',
              { etag: head.etag },
            );
            return;
          } catch (cause) {
            if (statusOf(cause) !== 412 || attempt >= 4) throw cause; // someone else changed it: read again
          }
        }
      },
      runId,
    );
  }

  private head(runId: string): Promise<Row | null> {
    return this.access.pointRead(AUDIT_TABLES.alertOutbox, ALERTS_PARTITION, runId);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
