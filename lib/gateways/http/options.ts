import type { RetryPolicy } from './retry.js';

/**
 * What every gateway's transport is configured with. The composition root (`lib/composition.ts`)
 * maps the settings to these; a gateway never reads the settings itself.
 */
export interface TransportOptions {
  /** Retries on 429/503/504 and dropped connections (default `DEFAULT_RETRY_POLICY`). */
  retry?: RetryPolicy;
  /** Per attempt (default `DEFAULT_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Calls in flight at once (default `DEFAULT_CONCURRENCY`); each gateway says over what. */
  concurrency?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONCURRENCY = 8;
