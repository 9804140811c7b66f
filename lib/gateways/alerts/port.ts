/**
 * The port of the alert channel: where an audit's alert document goes. The gateway's rooms, as in
 * every folder of `lib/gateways/`, those that apply: `port.ts` (this interface) and
 * `operations.ts` (`LogicAppAlertSender`). The document is the audit's own versioned shape
 * (`schemas/alert.schema.json`), so there is no `dto.ts`; the transport is the shared JSON client
 * (`../http/json-client.ts`: retry, timeout, errors as `ServiceError`).
 */
export interface AlertSender {
  send(alert: AlertDelivery): Promise<void>;
}

/** One delivery of an alert document: the same `deliveryId` on every attempt of the same document (issue 12 D4). */
export interface AlertDelivery {
  deliveryId: string;
  document: unknown;
}
