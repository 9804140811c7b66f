import type { SimContext } from './context.js';
import type { FixtureSalesforceOrg } from './fixture.js';
import { json, type SimHandler } from './host.js';

/** Salesforce REST API and OAuth token endpoint of one org (placeholder until it lands). */
export function createSalesforceHandler(_ctx: SimContext, _org: FixtureSalesforceOrg): SimHandler {
  return () => json(501, [{ errorCode: 'NOT_IMPLEMENTED', message: 'not simulated yet' }]);
}

/** Client credentials the simulator accepts for an org. */
export function salesforceClientFor(org: FixtureSalesforceOrg): { clientId: string; clientSecret: string } {
  return { clientId: `3MVG9sim.${org.id}`, clientSecret: `sim-secret-${org.id}` };
}
