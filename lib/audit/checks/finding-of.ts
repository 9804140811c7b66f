import { remediationOf, type CheckId } from '../../domain/check-catalogue.js';
import type { Finding } from '../../domain/finding.js';

/** A finding of a catalogued check, with the catalogue's remediation unless it is built from what failed. */
export function findingOf(checkId: CheckId, finding: Omit<Finding, 'checkId' | 'remediation'> & { remediation?: string }): Finding {
  const { remediation, ...rest } = finding;
  return { checkId, ...rest, remediation: remediation ?? remediationOf(checkId) };
}
