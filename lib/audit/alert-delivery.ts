import type { AlertSender } from '../gateways/alerts/port.js';
import type { AlertOutbox } from '../gateways/storage/audit-store.js';
import { alertDeliveryOf } from './alert-document.js';
import { describeError } from './target-failure.js';

/** How long a delivery attempt holds its claim on an outbox entry before another finalizer may try. */
export const ALERT_LEASE_MS = 5 * 60_000;

/**
 * Sends every alert document not yet delivered (this run's and earlier failed ones), each with its
 * `deliveryId` (as the field and the `Idempotency-Key` header).
 *
 * At least once, not exactly once (issue 12 D4): a process that dies after the POST and before
 * `markAlertDelivered`, or a receiver that answers after the lease ran out, leaves the entry pending
 * and it is posted again, with the same deliveryId, so the receiver can drop it (the shipped Logic
 * App does: infra/alerts.bicep).
 */
export async function deliverPendingAlerts(
  outbox: AlertOutbox,
  sender: AlertSender,
  options: { leaseMs?: number } = {},
): Promise<{ delivered: number; failed: number }> {
  let delivered = 0;
  let failed = 0;
  for (const pending of await outbox.listPendingAlerts()) {
    // Two finalizers at once (two workers finishing together, a timer run and an HTTP run) must
    // not both send it: only the one that claims it does.
    if (!(await outbox.claimAlert(pending.runId, options.leaseMs ?? ALERT_LEASE_MS))) continue;
    try {
      await sender.send(alertDeliveryOf(pending));
      await outbox.markAlertDelivered(pending.runId);
      delivered++;
    } catch (error) {
      await outbox.markAlertAttempt(pending.runId, describeError(error));
      failed++;
    }
  }
  return { delivered, failed };
}
