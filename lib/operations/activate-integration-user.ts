import type { SalesforceUser } from '../domain/model.js';
import { isServiceError } from '../gateways/http/service-error.js';
import type { AppServices } from '../services.js';
import { NotFoundError, RuleRefusal } from '../domain/errors.js';

/**
 * S1: "the permission set cannot be assigned because the integration user is inactive" — find the
 * Copilot for Sales integration user (username prefix, any variant) and activate it. When that is
 * impossible Salesforce says why (LICENSE_LIMIT_EXCEEDED: no Salesforce Integration license left,
 * S2) and the answer gives the seed's next step: free a license, or contact Microsoft support.
 * Salesforce decides whether a license is free, so the activation is tried rather than predicted.
 */

export interface ActivateIntegrationUserResult {
  org: { id: string; name: string };
  activated: { id: string; username: string }[];
  alreadyActive: { id: string; username: string }[];
}

const brief = (u: SalesforceUser) => ({ id: u.id, username: u.username });

export async function activateIntegrationUser(services: AppServices, input: { orgId: string }): Promise<ActivateIntegrationUserResult> {
  const name = services.salesforce.orgName(input.orgId);
  if (name === null) throw new NotFoundError('org', input.orgId, `No Salesforce org '${input.orgId}' is configured.`);

  const snapshot = await services.salesforce.getOrgSnapshot(input.orgId);
  if (snapshot.integrationUsers.length === 0) {
    throw new NotFoundError(
      'integration-user',
      input.orgId,
      'The org has no Copilot for Sales integration user (username prefix copilotforsalesintegrationuser or M365 Copilot Sales): enabling the S2S flow creates it.',
    );
  }
  const inactive = snapshot.integrationUsers.filter((u) => !u.isActive);
  const alreadyActive = snapshot.integrationUsers.filter((u) => u.isActive).map(brief);
  if (inactive.length === 0) return { org: { id: input.orgId, name }, activated: [], alreadyActive };

  const activated: { id: string; username: string }[] = [];
  for (const user of inactive) {
    try {
      await services.salesforce.activateUser(input.orgId, user.id);
    } catch (error) {
      // A spent daily API limit (R6) is no refusal of this user: it goes out as a 503 with Retry-After.
      if (isServiceError(error) && !error.isDailyApiLimit && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 404 && error.status !== 429) {
        const licenseLimit = error.code === 'LICENSE_LIMIT_EXCEEDED';
        throw new RuleRefusal(
          'activation-refused',
          `Salesforce refused to activate ${user.username}${error.code ? ` (${error.code})` : ''}. ` +
            (licenseLimit ? 'No Salesforce Integration license is left (S2). ' : '') +
            'If it cannot be activated, contact Microsoft support (S1).',
          licenseLimit ? 'S2' : 'S1',
          { userId: user.id, activatedSoFar: activated },
        );
      }
      throw error;
    }
    activated.push(brief(user));
  }
  return { org: { id: input.orgId, name }, activated, alreadyActive };
}
