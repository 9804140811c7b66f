import { evaluateReadiness, unknownReadiness, type ReadinessCheck } from '../domain/salesforce-readiness.js';
import { isServiceError } from '../gateways/http/service-error.js';
import type { AppServices } from '../services.js';
import { NotFoundError } from '../domain/errors.js';

export interface Readiness {
  org: { id: string; name: string };
  checks: ReadinessCheck[];
}

/** SPEC §3: will enabling the Copilot for Sales S2S flow on this org work? */
export async function salesforceReadiness(services: AppServices, orgId: string): Promise<Readiness> {
  const name = services.salesforce.orgName(orgId);
  if (name === null) throw new NotFoundError('org', orgId);
  try {
    const snapshot = await services.salesforce.getOrgSnapshot(orgId);
    return { org: { id: orgId, name }, checks: evaluateReadiness(snapshot, services.settings.salesforceIntegrationLicenseWarnAt) };
  } catch (error) {
    // R6: with the daily API limit spent nothing can be read; every check is unknown, and says why.
    if (!isServiceError(error) || !error.isDailyApiLimit) throw error;
    return {
      org: { id: orgId, name },
      checks: unknownReadiness(
        'Salesforce refused to answer: the org has used its daily API request limit (REQUEST_LIMIT_EXCEEDED, TotalRequests Limit exceeded).',
        'Run readiness again once the org has API requests left (the limit counts the last 24 hours; see Setup > Company Information > API Requests, Last 24 Hours), or ask Salesforce to raise it.',
      ),
    };
  }
}
