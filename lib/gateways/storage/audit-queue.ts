import type { TargetKind } from '../../domain/finding.js';
import type { StorageConnectionSettings } from '../../config/storage.js';
import { StorageConnection } from './connection.js';
import { toStorageError } from './errors.js';

/** The queues of the audit's fan-out on Azure Functions (functions/catalog.ts binds a trigger to each). */
export const AUDIT_TARGET_QUEUE = 'audit-targets';
export const AUDIT_FINALIZE_QUEUE = 'audit-finalize';

/** One target of a started run to audit (claim-check: ids only, the run's data is in storage). */
export interface AuditTargetMessage {
  runId: string;
  targetId: string;
  kind: Exclude<TargetKind, 'tenant'>;
  /** SPEC §9: the run reads every target in full, for this reason (`requested`, `scheduled`); absent: the changes will do. */
  fullReason?: 'requested' | 'scheduled';
  /** SPEC §9: what else an environment's checks read this run (lib/audit/inputs-key.ts), kept with its state for the next run to compare; absent: none. */
  directoryKey?: string;
}

/** Asks for the finalize step of a run. */
export interface AuditFinalizeMessage {
  runId: string;
}

/** Where the audit's fan-out messages go. */
export interface AuditQueue {
  sendTargets(messages: readonly AuditTargetMessage[]): Promise<void>;
  sendFinalize(message: AuditFinalizeMessage): Promise<void>;
}

/**
 * Azure Storage queues, in the host's storage account (AzureWebJobsStorage, where the triggers
 * listen). The Functions queue trigger expects base64 message text by default.
 */
export class StorageAuditQueue implements AuditQueue {
  private readonly connection: StorageConnection;

  constructor(connection: StorageConnection | StorageConnectionSettings | string) {
    this.connection = StorageConnection.open(connection);
  }

  async sendTargets(messages: readonly AuditTargetMessage[]): Promise<void> {
    for (const message of messages) await this.send(AUDIT_TARGET_QUEUE, message);
  }

  sendFinalize(message: AuditFinalizeMessage): Promise<void> {
    return this.send(AUDIT_FINALIZE_QUEUE, message);
  }

  private async send(name: string, message: unknown): Promise<void> {
    const queue = this.connection.queueClient(name);
    try {
      await queue.createIfNotExists();
      await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
    } catch (cause) {
      throw toStorageError(`sendMessage ${name}`, cause);
    }
  }
}
