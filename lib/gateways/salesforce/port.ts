import type { SalesforceOrgSnapshot, SalesforceUser } from '../../domain/model.js';

/**
 * The port of the Salesforce orgs connected to Copilot for Sales: what the audits, readiness and
 * the S1 remediation ask of an org, in domain shapes. The gateway's rooms, as in every folder of
 * `lib/gateways/`: `port.ts` (this interface), `dto.ts` (the SOQL and REST records and their one
 * conversion to the domain), `client.ts` (the transport: one session per org through jsforce,
 * OAuth client credentials or JWT bearer, re-authorization, retries, timeouts, SOQL paging, errors
 * as `ServiceError`), `operations.ts` (`JsforceSalesforceGateway`, one method per remote
 * operation) and `soql-literal.ts` (values quoted for SOQL).
 */
export interface SalesforceGateway {
  /** Ids of the configured orgs. */
  orgIds(): string[];
  /** Null when the org is not configured. */
  orgName(orgId: string): string | null;
  /** What audits and readiness read, every record of it. */
  getOrgSnapshot(orgId: string): Promise<SalesforceOrgSnapshot>;
  getUser(orgId: string, userId: string): Promise<SalesforceUser | null>;
  /** S1: activates the integration user. */
  activateUser(orgId: string, userId: string): Promise<void>;
  /** The org's API limits (`/limits`): one cheap call that proves the org answers (steward doctor). */
  getApiLimits(orgId: string): Promise<SalesforceApiLimits>;
}

/** What `/limits` says of the daily API request allowance (R6). */
export interface SalesforceApiLimits {
  dailyApiRequests: { max: number; remaining: number };
}
