import { TARGET_FAILED_CHECK, checkDefinition, fillTitle, remediationOf } from '../domain/check-catalogue.js';
import type { Finding, RunTarget, TargetFailure } from '../domain/finding.js';
import { isServiceError } from '../gateways/http/service-error.js';

/** A run's shared data is not there for a step (the tenant target failed, or a claim was lost). */
export class RunDataMissing extends Error {
  constructor(
    readonly code: 'directory-unavailable' | 'environment-unknown',
    message: string,
  ) {
    super(message);
    this.name = 'RunDataMissing';
  }
}

/**
 * What stopped a target, as data: the service, status and code of a `ServiceError` (never its
 * operation or message, which vary from call to call), Steward's own code otherwise.
 */
export function failureOf(error: unknown): TargetFailure {
  if (isServiceError(error)) return { service: error.service, status: error.status ?? null, code: error.code ?? null };
  if (error instanceof RunDataMissing) return { service: null, status: null, code: error.code };
  return { service: null, status: null, code: 'unexpected' };
}

/**
 * A failure another attempt cannot mend within the run: a Salesforce org whose daily API request
 * limit is spent (R6) stays refused for hours, so the target fails on its first attempt.
 */
export function isLastingFailure(error: unknown): boolean {
  return isServiceError(error) && error.isDailyApiLimit;
}

/** A target the run could not audit because its shared data was missing. */
export const NOT_AUDITED: TargetFailure = { service: null, status: null, code: 'directory-unavailable' };

/** A target of the run whose status was never recorded (its row was lost, or its worker died before writing it). */
export const RESULT_MISSING: TargetFailure = { service: null, status: null, code: 'result-missing' };

/** The first line of an error, for people (a target's `error`, an outbox's `lastError`). */
export function describeError(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 500);
}

/**
 * The `audit.target-failed` finding of a failed target. No run id and no message in it: a target
 * that keeps failing the same way changes nothing (and writes nothing); the run keeps the full
 * error (GET /api/audits/{runId}) and `lastRunId` says when.
 */
export function targetFailedFinding(target: RunTarget): Finding {
  const name = target.name ?? target.id;
  const check = checkDefinition(TARGET_FAILED_CHECK);
  return {
    checkId: TARGET_FAILED_CHECK,
    targetId: target.id,
    subjectId: 'collection',
    severity: check.severities[0]!,
    title: fillTitle(check.title, { target: name }),
    details: { target: name, kind: target.kind, cause: target.failure ?? failureOf(undefined) },
    remediation: remediationOf(TARGET_FAILED_CHECK),
  };
}
