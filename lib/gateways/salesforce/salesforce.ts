import type { SalesforceOrgSnapshot, SalesforceUser } from '../../domain/model.js';

/** The Salesforce REST API of the configured orgs, through jsforce. */
export interface SalesforceGateway {
  /** Ids of the configured orgs. */
  orgIds(): string[];
  /** Null when the org is not configured. */
  orgName(orgId: string): string | null;
  /** What audits and readiness read, with a handful of SOQL queries (every page). */
  getOrgSnapshot(orgId: string): Promise<SalesforceOrgSnapshot>;
  getUser(orgId: string, userId: string): Promise<SalesforceUser | null>;
  /** S1: `IsActive = true` on the integration user. */
  activateUser(orgId: string, userId: string): Promise<void>;
}
