import type { Finding, Suppression } from './finding.js';

/**
 * Suppression rules (SPEC §2), pure: a suppression names one subject, or `*` for the whole check on
 * a target, and counts until its expiry. A suppressed finding stays recorded and raises no alert.
 */

type FindingIdentity = Pick<Finding, 'checkId' | 'targetId' | 'subjectId'>;

/** In force at `now`: its expiry is a date after `now`. */
export function isActive(suppression: Pick<Suppression, 'expiresAt'>, now: Date): boolean {
  const expires = Date.parse(suppression.expiresAt);
  return Number.isFinite(expires) && expires > now.getTime();
}

/** The suppression in force for a finding at `now`, if any: an exact subject, or `*` for the whole check. */
export function findSuppression(finding: FindingIdentity, suppressions: readonly Suppression[], now: Date): Suppression | undefined {
  return suppressions.find(
    (s) => s.checkId === finding.checkId && s.targetId === finding.targetId && (s.subjectId === '*' || s.subjectId === finding.subjectId) && isActive(s, now),
  );
}

/** Whether a finding is suppressed at `now` (expired suppressions do not count). */
export function isSuppressed(finding: FindingIdentity, suppressions: readonly Suppression[], now: Date): boolean {
  return findSuppression(finding, suppressions, now) !== undefined;
}
