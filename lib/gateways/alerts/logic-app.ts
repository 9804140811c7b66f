import { JsonClient } from '../http/json-client.js';
import type { RetryPolicy } from '../http/retry.js';

/** Where alert documents go: a Logic App "When an HTTP request is received" trigger (it posts to Teams or mail). */
export interface AlertSender {
  send(document: unknown): Promise<void>;
}

/**
 * Posts to the trigger URL from settings. The URL carries its SAS signature in the query: it is a
 * secret, so it never goes into an error message or a log (only the host does).
 */
export function createLogicAppSender(url: string, options: { retry?: RetryPolicy; timeoutMs?: number } = {}): AlertSender {
  const client = new JsonClient({ service: 'alerts', baseUrl: url, retry: options.retry, timeoutMs: options.timeoutMs });
  const host = new URL(url).host;
  return {
    async send(document) {
      await client.send({ operation: 'postAlert', method: 'POST', url, body: document, target: host });
    },
  };
}
