import { JsonClient } from '../http/json-client.js';
import type { TransportOptions } from '../http/options.js';
import type { AlertDelivery, AlertSender } from './port.js';

/** One alert at a time: `concurrency` does not apply. */
export interface LogicAppAlertSenderOptions extends Omit<TransportOptions, 'concurrency'> {
  /** The Logic App's "When an HTTP request is received" trigger URL, with its SAS signature (a secret). */
  url: string;
}

/**
 * Posts to a Logic App trigger (it posts to Teams or mail). The URL carries its SAS signature in
 * the query: it is a secret, so it never goes into an error message or a log (only the host does).
 */
export class LogicAppAlertSender implements AlertSender {
  private readonly client: JsonClient;
  private readonly url: string;
  private readonly host: string;

  constructor(options: LogicAppAlertSenderOptions) {
    this.url = options.url;
    this.host = new URL(options.url).host;
    this.client = new JsonClient({ service: 'alerts', baseUrl: options.url, retry: options.retry, timeoutMs: options.timeoutMs });
  }

  /**
   * The delivery id goes as the `Idempotency-Key` header too (the name of the IETF httpapi draft
   * "The Idempotency-Key HTTP Header Field"), so a receiver can drop a repeat without reading the
   * body; the JSON client's own retries of this POST carry the same header.
   */
  async send(alert: AlertDelivery): Promise<void> {
    await this.client.send({
      operation: 'postAlert',
      method: 'POST',
      url: this.url,
      headers: { 'Idempotency-Key': alert.deliveryId },
      body: alert.document,
      target: this.host,
    });
  }
}
