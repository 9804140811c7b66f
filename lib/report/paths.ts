/**
 * Where a run's report is served (issue 13 fixes the path), for links from the alert document and
 * the API. Relative to the Function App's origin; prefix the public base URL for an absolute link.
 */
export function reportPath(runId: string): string {
  return `/api/audits/${encodeURIComponent(runId)}/report`;
}

/** The run's findings as CSV. */
export function findingsCsvPath(runId: string): string {
  return `/api/audits/${encodeURIComponent(runId)}/findings.csv`;
}
