import type { Settings } from './config/settings.js';
import { InProcessDispatcher, QueueDispatcher, type AuditDispatcher } from './audit/dispatch.js';
import { AuditPipeline } from './audit/pipeline.js';
import { createLogicAppSender } from './gateways/alerts/logic-app.js';
import { createDataverseGateway } from './gateways/dataverse/web-api-dataverse.js';
import { createGraphDirectoryGateway } from './gateways/graph/graph-directory.js';
import { DEFAULT_RETRY_POLICY } from './gateways/http/retry.js';
import { trustCertificateAuthorities } from './gateways/http/tls.js';
import { createCredential } from './gateways/identity/credential.js';
import { createEnvironmentGateway } from './gateways/powerplatform/bap-environments.js';
import { createSalesforceGateway } from './gateways/salesforce/jsforce-salesforce.js';
import { createAuditStore } from './gateways/storage/audit-store.js';
import { ClaimStore } from './gateways/storage/claims.js';
import { Tables } from './gateways/storage/tables.js';
import type { AppServices } from './services.js';

/**
 * The composition root: settings in, gateways out. The Functions host, the CLI and the tests all
 * build Steward here, so the same code talks to the real cloud or to the simulated tenant — only
 * the settings differ.
 */
export async function createServices(
  settings: Settings,
  options: { now?: () => Date; dispatch?: 'queue' | 'in-process' } = {},
): Promise<AppServices> {
  const credential = createCredential(settings, trustCertificateAuthorities(settings.extraCaCertificates));
  const retry = { ...DEFAULT_RETRY_POLICY, retries: settings.http.retries };
  return {
    settings,
    directory: createGraphDirectoryGateway(settings, credential, { concurrency: settings.http.maxConcurrency, retry }),
    environments: createEnvironmentGateway(settings, credential, { retry }),
    dataverse: createDataverseGateway(settings, credential, { retry }),
    salesforce: createSalesforceGateway(settings, { retry }),
    tables: new Tables(settings.storageConnection),
    auditDispatcher: dispatcherFor(settings, options.dispatch ?? 'queue'),
    now: options.now ?? (() => new Date()),
  };
}

export function createAuditPipeline(services: AppServices): AuditPipeline {
  const { settings } = services;
  return new AuditPipeline({
    services,
    store: createAuditStore(services.tables),
    claims: new ClaimStore(settings.storageConnection),
    alerts: settings.alerts.url
      ? createLogicAppSender(settings.alerts.url, { timeoutMs: settings.http.timeoutMs, retry: { ...DEFAULT_RETRY_POLICY, retries: settings.http.retries } })
      : null,
  });
}

function dispatcherFor(settings: Settings, mode: 'queue' | 'in-process'): AuditDispatcher {
  return mode === 'queue'
    ? new QueueDispatcher(settings.hostStorageConnection)
    : new InProcessDispatcher({ concurrency: settings.http.maxConcurrency });
}
