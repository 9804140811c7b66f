import type { Environment } from '../../domain/model.js';

/** The Power Platform admin API (BAP). */
export interface EnvironmentGateway {
  /** Every environment of the tenant, all pages. */
  listEnvironments(): Promise<Environment[]>;
  /** Null when there is no such environment. */
  getEnvironment(environmentId: string): Promise<Environment | null>;
  /** Force-adds (or refreshes) a user's systemuser row from Entra ID (D1). */
  addUser(environmentId: string, entraObjectId: string): Promise<void>;
}
