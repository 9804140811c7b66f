import type { Settings, StorageConnectionSettings } from './config/settings.js';
import type { TokenCredential } from '@azure/identity';
import { DELTA_STATE_CONTAINER, DeltaStateStore } from './audit/delta-state.js';
import { AuditPipeline } from './audit/pipeline.js';
import type { ClaimStorage } from './audit/run-data.js';
import { AuditRunner, type AuditDispatch } from './audit/runner.js';
import { RunReports } from './audit/run-report.js';
import { LogicAppAlertSender } from './gateways/alerts/operations.js';
import type { AlertSender } from './gateways/alerts/port.js';
import { WebApiDataverseGateway, type DataverseGatewayOptions } from './gateways/dataverse/operations.js';
import { GraphDirectoryGateway, type GraphDirectoryOptions } from './gateways/graph/operations.js';
import type { TransportOptions } from './gateways/http/options.js';
import { DEFAULT_RETRY_POLICY } from './gateways/http/retry.js';
import { trustCertificateAuthorities, type TrustedTls } from './gateways/http/tls.js';
import { createCredential, createManagedIdentityCredential, type CredentialOptions } from './gateways/identity/client.js';
import { BapEnvironmentGateway, type EnvironmentGatewayOptions } from './gateways/powerplatform/operations.js';
import { JsforceSalesforceGateway, type JsforceSalesforceGatewayOptions } from './gateways/salesforce/operations.js';
import { StorageAuditQueue } from './gateways/storage/audit-queue.js';
import type { AuditStore } from './gateways/storage/audit-store.js';
import { ClaimStore } from './gateways/storage/claims.js';
import { StorageConnection } from './gateways/storage/connection.js';
import { BlobReportFiles } from './gateways/storage/report-files.js';
import { createAuditStore } from './gateways/storage/table-audit-store.js';
import { Tables } from './gateways/storage/tables.js';
import type { AppServices, Steward } from './services.js';

export type { Steward } from './services.js';

/**
 * The composition root: settings in, gateways and use cases out. The Functions host, the CLI and
 * the tests all build Steward here, so the same code talks to the real cloud or to the simulated
 * tenant — only the settings differ.
 */


/** `queue` on Azure Functions (the audit's targets fan out over Storage queues), `in-process` elsewhere. */
export type DispatchMode = AuditDispatch['mode'];

export async function createSteward(settings: Settings, options: { now?: () => Date; dispatch?: DispatchMode } = {}): Promise<Steward> {
  const services = await createServices(settings, { now: options.now });
  return { services, audit: createAuditRunner(services, { dispatch: options.dispatch ?? 'queue' }) };
}

/** The gateways and Steward's own storage, from the settings. */
export async function createServices(settings: Settings, options: { now?: () => Date } = {}): Promise<AppServices> {
  const trusted = trustCertificateAuthorities(settings.extraCaCertificates);
  const credential = createCredential(credentialOptions(settings), trusted);
  const gateways = gatewayOptions(settings);
  const ownStorage = openStorage(settings.storageConnection, credential, trusted);
  return {
    settings,
    directory: new GraphDirectoryGateway({ ...gateways.directory, credential }),
    environments: new BapEnvironmentGateway({ ...gateways.environments, credential }),
    dataverse: new WebApiDataverseGateway({ ...gateways.dataverse, credential }),
    salesforce: new JsforceSalesforceGateway(gateways.salesforce),
    tables: new Tables(ownStorage),
    hostStorage:
      settings.hostStorageConnection === settings.storageConnection ? ownStorage : openStorage(settings.hostStorageConnection, credential, trusted),
    now: options.now ?? (() => new Date()),
    credential,
  };
}

/** What the audit's steps write to and send through; composition points (the bench, tests) may wrap them. */
export interface AuditParts {
  store: AuditStore;
  claims: ClaimStorage;
  alerts: AlertSender | null;
  reports: RunReports | null;
  /** SPEC §9: null turns incremental runs off (every run is full). */
  deltaState: DeltaStateStore | null;
}

export function createAuditPipeline(services: AppServices, parts: Partial<AuditParts> = {}): AuditPipeline {
  const { settings } = services;
  return new AuditPipeline({
    sources: services,
    settings,
    store: parts.store ?? createAuditStore(services.tables, { now: services.now }),
    claims: parts.claims ?? new ClaimStore(services.tables.connection),
    alerts: parts.alerts !== undefined ? parts.alerts : alertSenderOf(settings),
    reports: parts.reports !== undefined ? parts.reports : createRunReports(services, parts.store),
    deltaState: parts.deltaState !== undefined ? parts.deltaState : new DeltaStateStore(new ClaimStore(services.tables.connection, DELTA_STATE_CONTAINER)),
    now: services.now,
  });
}

/** Each finished run's report (issue 13), in Blob Storage beside the run. */
export function createRunReports(services: AppServices, store: AuditStore = createAuditStore(services.tables)): RunReports {
  return new RunReports({ store, files: new BlobReportFiles(services.tables.connection), docsBaseUrl: services.settings.docsBaseUrl });
}

function alertSenderOf(settings: Settings): AlertSender | null {
  return settings.alerts.url ? new LogicAppAlertSender({ ...transportOptions(settings), url: settings.alerts.url }) : null;
}

/**
 * The audit runner over these services: its steps, its store, and where its targets go (the host
 * storage account's queues, or this process).
 */
export function createAuditRunner(services: AppServices, options: { dispatch: DispatchMode; pipeline?: AuditPipeline; store?: AuditStore }): AuditRunner {
  const store = options.store ?? createAuditStore(services.tables, { now: services.now });
  const dispatch: AuditDispatch =
    options.dispatch === 'queue' ? { mode: 'queue', queue: new StorageAuditQueue(services.hostStorage ?? services.settings.hostStorageConnection) } : { mode: 'in-process' };
  const reports = createRunReports(services, store);
  return new AuditRunner({
    pipeline: options.pipeline ?? createAuditPipeline(services, { store, reports }),
    store,
    reports,
    dispatch,
    concurrency: services.settings.http.maxConcurrency,
    now: services.now,
  });
}

/**
 * A storage account as the settings describe it. An identity-based connection signs in with the
 * Function App's managed identity (`__credential` = managedidentity, user-assigned with
 * `__clientId`), or in development with Steward's own credential (the simulated tenant's Entra).
 */
export function openStorage(connection: StorageConnectionSettings, stewardCredential: TokenCredential, trusted: TrustedTls = {}): StorageConnection {
  const credential =
    connection.kind !== 'identity' ? undefined : connection.credential === 'managedidentity' ? createManagedIdentityCredential(connection.clientId) : stewardCredential;
  return StorageConnection.open(connection, { credential, agent: trusted.httpsAgent });
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
