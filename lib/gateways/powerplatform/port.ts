import type { Environment } from '../../domain/model.js';
import type { Pages } from '../http/pages.js';

/**
 * The port of Power Platform's environments: which environments the tenant has, and the one
 * change Steward asks of the admin API, in domain shapes. The gateway's rooms, as in every folder
 * of `lib/gateways/`: `port.ts` (this interface), `dto.ts` (the admin API's environment record and
 * its one conversion to the domain) and `operations.ts` (`BapEnvironmentGateway`, one method per
 * remote operation). Its transport is the shared JSON client (`../http/json-client.ts`: token,
 * retry, timeout, errors as `ServiceError`); listings are `Pages` (see `../http/pages.ts`).
 */
export interface EnvironmentGateway {
  /** Every environment of the tenant, all pages. */
  listEnvironments(): Pages<Environment>;
  /** Null when there is no such environment. */
  getEnvironment(environmentId: string): Promise<Environment | null>;
  /** Force-adds (or refreshes) a user's systemuser row from Entra ID (D1). */
  addUser(environmentId: string, entraObjectId: string): Promise<void>;
}
