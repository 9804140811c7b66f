import type { AuditDispatcher } from './audit/dispatch.js';
import type { Settings } from './config/settings.js';
import type { DataverseGateway } from './gateways/dataverse/port.js';
import type { DirectoryGateway } from './gateways/graph/port.js';
import type { EnvironmentGateway } from './gateways/powerplatform/port.js';
import type { SalesforceGateway } from './gateways/salesforce/port.js';
import type { Tables } from './gateways/storage/tables.js';

/**
 * Everything a use case may reach, built once by the composition root (`lib/composition.ts`) from
 * the settings. Use cases take what they need from it; tests build it against the simulator.
 */
export interface AppServices {
  settings: Settings;
  directory: DirectoryGateway;
  environments: EnvironmentGateway;
  dataverse: DataverseGateway;
  salesforce: SalesforceGateway;
  tables: Tables;
  /** Where a started audit's targets go: the queue on Azure, this process for `steward serve` and tests. */
  auditDispatcher: AuditDispatcher;
  /** Injected so tests can move time (expiries, idempotency). */
  now: () => Date;
}
