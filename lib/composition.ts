import type { Settings } from './config/settings.js';
import { InProcessDispatcher, QueueDispatcher, type AuditDispatcher } from './audit/dispatch.js';
import { AuditPipeline } from './audit/pipeline.js';
import { LogicAppAlertSender } from './gateways/alerts/operations.js';
import { WebApiDataverseGateway, type DataverseGatewayOptions } from './gateways/dataverse/operations.js';
import { GraphDirectoryGateway, type GraphDirectoryOptions } from './gateways/graph/operations.js';
import type { TransportOptions } from './gateways/http/options.js';
import { DEFAULT_RETRY_POLICY } from './gateways/http/retry.js';
import { trustCertificateAuthorities } from './gateways/http/tls.js';
import { createCredential, type CredentialOptions } from './gateways/identity/client.js';
import { BapEnvironmentGateway, type EnvironmentGatewayOptions } from './gateways/powerplatform/operations.js';
import { JsforceSalesforceGateway, type JsforceSalesforceGatewayOptions } from './gateways/salesforce/operations.js';
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
  const credential = createCredential(credentialOptions(settings), trustCertificateAuthorities(settings.extraCaCertificates));
  const gateways = gatewayOptions(settings);
  return {
    settings,
    directory: new GraphDirectoryGateway({ ...gateways.directory, credential }),
    environments: new BapEnvironmentGateway({ ...gateways.environments, credential }),
    dataverse: new WebApiDataverseGateway({ ...gateways.dataverse, credential }),
    salesforce: new JsforceSalesforceGateway(gateways.salesforce),
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
    alerts: settings.alerts.url ? new LogicAppAlertSender({ ...transportOptions(settings), url: settings.alerts.url }) : null,
  });
}

function dispatcherFor(settings: Settings, mode: 'queue' | 'in-process'): AuditDispatcher {
  return mode === 'queue'
    ? new QueueDispatcher(settings.hostStorageConnection)
    : new InProcessDispatcher({ concurrency: settings.http.maxConcurrency });
}

/** Who Steward signs in to Entra ID as (`STEWARD_TENANT_ID`, `STEWARD_CLIENT_ID`…). */
export function credentialOptions(settings: Settings): CredentialOptions {
  return { tenantId: settings.tenantId, ...settings.identity };
}

/**
 * What each gateway is given from the settings (the credential aside): the one place where
 * settings meet the gateways. `STEWARD_MAX_CONCURRENCY` bounds the calls in flight per service
 * (for Dataverse, per environment).
 */
export function gatewayOptions(settings: Settings) {
  const transport = { ...transportOptions(settings), concurrency: settings.http.maxConcurrency };
  return {
    directory: { ...transport, baseUrl: settings.endpoints.graph } satisfies Omit<GraphDirectoryOptions, 'credential'>,
    environments: {
      ...transport,
      baseUrl: settings.endpoints.powerPlatform,
      scope: settings.endpoints.powerPlatformScope,
    } satisfies Omit<EnvironmentGatewayOptions, 'credential'>,
    dataverse: transport satisfies Omit<DataverseGatewayOptions, 'credential'>,
    salesforce: { ...transport, orgs: settings.salesforceOrgs } satisfies JsforceSalesforceGatewayOptions,
  };
}

/** Retries (`STEWARD_HTTP_RETRIES`) and the timeout per attempt (`STEWARD_HTTP_TIMEOUT_MS`). */
function transportOptions(settings: Settings): TransportOptions {
  return { retry: { ...DEFAULT_RETRY_POLICY, retries: settings.http.retries }, timeoutMs: settings.http.timeoutMs };
}
