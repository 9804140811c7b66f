import { evaluateReadiness, type ReadinessCheck } from '../domain/salesforce-readiness.js';
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
  const snapshot = await services.salesforce.getOrgSnapshot(orgId);
  return { org: { id: orgId, name }, checks: evaluateReadiness(snapshot, services.settings.salesforceIntegrationLicenseWarnAt) };
}
