import type { RetryWait } from '../../telemetry/upstream.js';
import pRetry, { AbortError } from 'p-retry';
import { ServiceError } from './service-error.js';

/** Statuses worth another try: throttling and the two "try later" gateway answers. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  /** First back-off delay when the service gives no `Retry-After`. */
  minDelayMs: number;
  maxDelayMs: number;
  /** The longest `Retry-After` we honour; a longer one ends the retries (the caller answers 503). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 6,
  minDelayMs: 200,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 120_000,
};

/**
 * `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds,
 * or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Raised inside an attempt to ask for another try, after `retryAfterMs` when the service said so. */
export class RetryableError extends Error {
  constructor(
    readonly serviceError: ServiceError,
    readonly retryAfterMs: number | undefined,
  ) {
    super(serviceError.message);
    this.name = 'RetryableError';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** Told of each retry as it is decided (the call's upstream span, lib/telemetry/upstream.ts). */
export interface RetryObserver {
  retrying(wait: RetryWait): void;
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable error, or the policy runs out.
 * A `RetryableError` carrying a `Retry-After` waits exactly that long (p-retry's own back-off
 * is used otherwise). What finally escapes is always the last `ServiceError`.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  signal?: AbortSignal,
  observer?: RetryObserver,
): Promise<T> {
  try {
    return await pRetry(
      async (attemptNumber) => {
        try {
          return await attempt(attemptNumber);
        } catch (error) {
          if (error instanceof RetryableError) throw error;
          throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        }
      },
      {
        retries: policy.retries,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        factor: 2,
        randomize: true,
        signal,
        // p-retry sleeps its own back-off after this hook; when the service named a wait we add
        // what is missing so that the total honours Retry-After.
        onFailedAttempt: async ({ error, retriesLeft, attemptNumber }) => {
          // p-retry calls this after the last attempt too: nothing to wait for then.
          if (retriesLeft === 0 || !(error instanceof RetryableError)) return;
          const { retryAfterMs, serviceError } = error;
          // A wait longer than the policy allows is not waited for: the call fails now.
          if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) throw serviceError;
          const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attemptNumber - 1));
          const { service, operation, status } = serviceError;
          observer?.retrying({ service, operation, status, attempt: attemptNumber, waitMs: retryAfterMs ?? backoff, retryAfterMs });
          if (retryAfterMs !== undefined) await sleep(retryAfterMs, signal);
        },
        shouldRetry: ({ error }) => error instanceof RetryableError,
      },
    );
  } catch (error) {
    if (error instanceof RetryableError) throw error.serviceError;
    throw error;
  }
}
