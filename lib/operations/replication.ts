import pRetry from 'p-retry';
import { isServiceError } from '../gateways/http/service-error.js';

/**
 * R4 (SPEC §8): Entra ID is eventually consistent. Right after `POST /users` the new user may be
 * unknown to the replica that serves the next call, which answers 404 `Request_ResourceNotFound`
 * for seconds ("A newly created object to return a 'Not Found'", devblogs.microsoft.com/identity/
 * designing-for-eventual-consistency-for-microsoft-entra/; Microsoft's advice: retry with backoff).
 */

/** A 404 from Graph about an object we just created: replication, not absence. */
export function isReplicationLag(error: unknown): boolean {
  return isServiceError(error) && error.service === 'graph' && error.status === 404;
}

/**
 * Runs a step naming a just-created object, again with backoff (0.25 s, doubling, at most 5 s
 * apart) while Graph answers 404, for up to `waitSeconds` (`STEWARD_REPLICATION_WAIT_S`); then the
 * last error is thrown.
 */
export function waitOutReplication<T>(step: () => Promise<T>, waitSeconds: number): Promise<T> {
  if (waitSeconds <= 0) return step();
  return pRetry(step, {
    retries: 1000,
    minTimeout: 250,
    factor: 2,
    maxTimeout: 5000,
    maxRetryTime: waitSeconds * 1000,
    shouldRetry: ({ error }) => isReplicationLag(error),
  });
}
