import { ServiceError, type ServiceName } from './service-error.js';

/**
 * The convention of change listings (SPEC §9): Graph delta query and Dataverse change tracking both
 * answer a round of pages, each with entries that say an object was created or changed (the object)
 * or removed (its id); the last page carries the link of the next round (`@odata.deltaLink`), which
 * the caller keeps and sends back next time.
 */
export type DeltaEntry<T> = { kind: 'upsert'; item: T } | { kind: 'removed'; id: string };

export interface DeltaPage<T> {
  entries: DeltaEntry<T>[];
  /** On the last page of the round: where the next round starts. */
  deltaLink?: string;
}

export type DeltaPages<T> = AsyncIterable<DeltaPage<T>>;

/** Every entry of a round and its delta link. */
export async function allChanges<T>(pages: DeltaPages<T>): Promise<{ entries: DeltaEntry<T>[]; deltaLink: string }> {
  const entries: DeltaEntry<T>[] = [];
  let deltaLink: string | undefined;
  for await (const page of pages) {
    for (const entry of page.entries) entries.push(entry);
    deltaLink = page.deltaLink ?? deltaLink;
  }
  if (!deltaLink) throw new Error('a change listing ended without a delta link');
  return { entries, deltaLink };
}

/**
 * The service no longer accepts a delta token: Graph answers `410 Gone` (`resyncRequired`,
 * `syncStateNotFound`, `syncStateInvalid`; learn.microsoft.com/graph/delta-query-overview,
 * "Synchronization reset"), Dataverse `ExpiredVersionStamp` (`0x80044352`, "Version stamp
 * associated with the client has expired. Please perform a full sync."). The caller starts over
 * with a full read.
 */
export function isRefusedDeltaToken(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return false;
  if (error.code === DELTA_LINK_ELSEWHERE) return true;
  if (error.service === 'graph') return error.status === 410 || error.code === 'resyncRequired' || error.code === 'syncStateNotFound' || error.code === 'syncStateInvalid';
  if (error.service === 'dataverse') return error.code === '0x80044352';
  return false;
}

/** The code of the refusal below: a stored link that points away from the configured service. */
export const DELTA_LINK_ELSEWHERE = 'deltaLinkElsewhere';

/**
 * A stored delta link is followed only when it points at the service as configured now: a link kept
 * from another base URL (a moved endpoint, another cloud, a simulator on another port) is not sent
 * the bearer token, and reads as a refused token, so the target is read in full and gets a link of
 * its own. Relative links are the caller's own and always pass.
 */
export function checkDeltaLinkOrigin(service: ServiceName, operation: string, link: string, base: string, target?: string): void {
  if (!/^https?:\/\//i.test(link)) return;
  // URL origins come normalized (scheme and host in lower case, default ports dropped).
  const expected = new URL(base).origin;
  if (new URL(link).origin === expected) return;
  throw new ServiceError({ service, operation, target, code: DELTA_LINK_ELSEWHERE }, `the stored delta link is not under ${expected}; the target is read in full`);
}
