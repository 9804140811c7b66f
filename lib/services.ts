import type { TokenCredential } from '@azure/identity';
import type { AuditRunner } from './audit/runner.js';
import type { Settings } from './config/settings.js';
import type { DataverseGateway } from './gateways/dataverse/port.js';
import type { DirectoryGateway } from './gateways/graph/port.js';
import type { EnvironmentGateway } from './gateways/powerplatform/port.js';
import type { SalesforceGateway } from './gateways/salesforce/port.js';
import type { StorageConnection } from './gateways/storage/connection.js';
import type { Tables } from './gateways/storage/tables.js';

/**
 * The gateways every use case may reach, built once by the composition root (`lib/composition.ts`)
 * from the settings. Use cases take what they need from it; tests build it against the simulator.
 * The audit has its own front door (`AuditRunner`), composed beside it.
 */
export interface AppServices {
  settings: Settings;
  directory: DirectoryGateway;
  environments: EnvironmentGateway;
  dataverse: DataverseGateway;
  salesforce: SalesforceGateway;
  tables: Tables;
  /** The host's storage (AzureWebJobsStorage), where the audit's queues are; absent in unit tests. */
  hostStorage?: StorageConnection;
  /** Injected so tests can move time (expiries, idempotency). */
  now: () => Date;
  /** The Entra credential the gateways sign in with (steward doctor asks it for each audience's token). */
  credential?: TokenCredential;
}

/**
 * Steward composed (`lib/composition.ts`): the gateways every use case may reach, and the audit's
 * one front door. The HTTP routes, the triggers and the CLI are handed this.
 */
export interface Steward {
  services: AppServices;
  audit: AuditRunner;
}
