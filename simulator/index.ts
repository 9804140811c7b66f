import { randomBytes, randomUUID } from 'node:crypto';
import selfsigned from 'selfsigned';
import { checkBearer, type SimContext } from './core/context.js';
import { createDataverseHandler } from './dataverse/dataverse.js';
import { GRAPH_AUDIENCES, POWERPLATFORM_AUDIENCES, dataverseRefusal, entraBearer, graphRefusal, powerPlatformRefusal } from './entra/audiences.js';
import { createEntraHandler } from './entra/entra.js';
import { DeltaLog } from './core/delta.js';
import { FaultPlan } from './core/faults.js';
import { parseFixture, type Fixture, type FaultScope } from './core/fixture.js';
import { createGraphHandler } from './graph/graph.js';
import { startHost, type Host, type RequestRecord } from './core/host.js';
import { createPowerPlatformHandler } from './powerplatform/powerplatform.js';
import { createSalesforceHandler, salesforceClientFor } from './salesforce/salesforce.js';

export type { Fixture } from './core/fixture.js';
export { loadFixture, parseFixture } from './core/fixture.js';
export type { RequestRecord } from './core/host.js';

export interface SimulatorOptions {
  /** Latency added to every answer (the bench uses 20 ms). */
  latencyMs?: number;
  /** Override page sizes (tests of paging use small ones). */
  paging?: Partial<SimContext['paging']>;
}

export interface Simulator {
  /** PEM of the certificate every host serves; trust it through `STEWARD_EXTRA_CA_CERTS`. */
  ca: string;
  /** The certificate and its key, for another loopback service to serve (Azurite over HTTPS in tests). */
  tls: { key: string; cert: string };
  urls: SimContext['urls'];
  entra: SimContext['entra'];
  /** Every request every host received, in order. */
  requests: RequestRecord[];
  /** The live state (mutations show here). */
  state: Fixture;
  /** A deep copy of the state, for assertions. */
  exportState(): Fixture;
  /** Changes the faults of one scope while running (`graph`, `dataverse`, an environment id…). */
  setFault(scope: string, fault: FaultScope | undefined): void;
  /** The app settings (environment variables) that point Steward at this simulator. */
  settingsEnv(extra?: Record<string, string>): Record<string, string>;
  salesforceClient(orgId: string): { clientId: string; clientSecret: string };
  stop(): Promise<void>;
}

async function makeCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'steward-simulator.localhost' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

const odataError = (status: number, code: string, message: string) => ({ error: { code, message } });
const salesforceError = (_status: number, code: string, message: string) => [
  { message, errorCode: code === 'InvalidAuthenticationToken' ? 'INVALID_SESSION_ID' : code === 'TooManyRequests' ? 'REQUEST_LIMIT_EXCEEDED' : 'SERVER_UNAVAILABLE' },
];

/** Starts the simulated tenant: one loopback HTTPS host per service, environment and org. */
export async function startSimulator(fixtureInput: Fixture | unknown, options: SimulatorOptions = {}): Promise<Simulator> {
  const state = parseFixture(structuredClone(fixtureInput));
  // SPEC §5 `tenant.marketingTenantLicense`: in Graph a tenant-level license is a subscribed SKU.
  if (state.tenant.marketingTenantLicense && !state.graph.subscribedSkus.some((s) => s.skuPartNumber === 'D365_MARKETING_TENANT')) {
    state.graph.subscribedSkus.push({
      skuId: '5b3b6d3c-4a9c-4e7b-9f1e-6c4f2b1d0a11',
      skuPartNumber: 'D365_MARKETING_TENANT',
      capabilityStatus: 'Enabled',
      consumedUnits: 0,
      prepaidUnits: { enabled: 1, suspended: 0, warning: 0 },
    });
  }
  const tls = await makeCertificate();
  const ctx: SimContext = {
    state,
    faults: new FaultPlan(state.faults, { latencyMs: options.latencyMs }),
    log: [],
    tokens: new Map(),
    deltas: new DeltaLog(),
    events: { createdAt: new Map(), licensedAt: new Map() },
    entra: { tenantId: state.tenant.id, clientId: randomUUID(), clientSecret: randomBytes(18).toString('base64url') },
    urls: { login: '', graph: '', powerPlatform: '', dataverse: {}, salesforce: {} },
    paging: { graphDefault: 100, graphMax: 999, dataverseDefault: 5000, salesforce: 2000, ...options.paging },
  };
  const common = { tls, faults: ctx.faults, log: ctx.log };
  const hosts: Host[] = [];
  try {
    const login = await startHost({ ...common, name: 'login', scopes: ['login'], errorBody: odataError, handler: createEntraHandler(ctx) });
    hosts.push(login);
    ctx.urls.login = login.url;

    const graph = await startHost({ ...common, name: 'graph', scopes: ['graph'], errorBody: odataError, authorize: entraBearer(ctx, () => GRAPH_AUDIENCES, graphRefusal), handler: createGraphHandler(ctx) });
    hosts.push(graph);
    ctx.urls.graph = graph.url;

    for (const environment of state.environments.filter((e) => e.hasDataverse)) {
      const instanceUrl = () => ctx.urls.dataverse[environment.id] ?? '';
      const host = await startHost({
        ...common,
        name: `dataverse:${environment.id}`,
        scopes: ['dataverse', environment.id],
        errorBody: odataError,
        // The instance's own URL is its audience (`{instance}/.default`, learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth).
        authorize: entraBearer(ctx, () => [instanceUrl()], dataverseRefusal(instanceUrl)),
        handler: createDataverseHandler(ctx, environment),
      });
      hosts.push(host);
      ctx.urls.dataverse[environment.id] = host.url;
    }

    const bap = await startHost({
      ...common,
      name: 'powerplatform',
      scopes: ['powerplatform'],
      errorBody: odataError,
      authorize: entraBearer(ctx, () => POWERPLATFORM_AUDIENCES, powerPlatformRefusal),
      handler: createPowerPlatformHandler(ctx),
    });
    hosts.push(bap);
    ctx.urls.powerPlatform = bap.url;

    for (const org of state.salesforceOrgs) {
      const host = await startHost({
        ...common,
        name: `salesforce:${org.id}`,
        scopes: ['salesforce', org.id],
        errorBody: salesforceError,
        // The token endpoint is open; every other path needs a session id issued for this org.
        authorize: (authorization, request) => (request.path.startsWith('/services/oauth2/') ? 'oauth' : checkBearer(ctx, authorization)),
        handler: createSalesforceHandler(ctx, org),
      });
      hosts.push(host);
      ctx.urls.salesforce[org.id] = host.url;
    }
  } catch (error) {
    await Promise.all(hosts.map((h) => h.close()));
    throw error;
  }

  const settings = state.settings;
  return {
    ca: tls.cert,
    tls,
    urls: ctx.urls,
    entra: ctx.entra,
    requests: ctx.log,
    state,
    exportState: () => structuredClone(state),
    setFault: (scope, fault) => ctx.faults.set(scope, fault),
    salesforceClient: (orgId) => {
      const org = state.salesforceOrgs.find((o) => o.id === orgId);
      if (!org) throw new Error(`no Salesforce org ${orgId} in the fixture`);
      return salesforceClientFor(org);
    },
    settingsEnv: (extra = {}) => ({
      STEWARD_TENANT_ID: ctx.entra.tenantId,
      STEWARD_CLIENT_ID: ctx.entra.clientId,
      STEWARD_CLIENT_SECRET: ctx.entra.clientSecret,
      STEWARD_AUTHORITY_HOST: ctx.urls.login,
      STEWARD_GRAPH_URL: ctx.urls.graph,
      STEWARD_POWERPLATFORM_URL: ctx.urls.powerPlatform,
      STEWARD_EXTRA_CA_CERTS: tls.cert,
      STEWARD_SALESFORCE_ORGS: JSON.stringify(
        state.salesforceOrgs.map((org) => ({
          id: org.id,
          name: org.name,
          loginUrl: ctx.urls.salesforce[org.id],
          auth: 'client-credentials',
          ...salesforceClientFor(org),
        })),
      ),
      ...(settings.environmentLicenseSkus ? { STEWARD_ENVIRONMENT_LICENSE_SKUS: settings.environmentLicenseSkus.join(',') } : {}),
      ...(settings.nonInteractiveWarnAt !== undefined ? { STEWARD_NON_INTERACTIVE_WARN_AT: String(settings.nonInteractiveWarnAt) } : {}),
      ...(settings.salesforceIntegrationLicenseWarnAt !== undefined
        ? { STEWARD_SF_INTEGRATION_LICENSE_WARN_AT: String(settings.salesforceIntegrationLicenseWarnAt) }
        : {}),
      ...(settings.inactiveDays !== undefined ? { STEWARD_INACTIVE_DAYS: String(settings.inactiveDays) } : {}),
      ...(settings.licenseHeadroomWarnAt !== undefined ? { STEWARD_LICENSE_HEADROOM_WARN_AT: String(settings.licenseHeadroomWarnAt) } : {}),
      ...(settings.licensePrices !== undefined ? { STEWARD_LICENSE_PRICES: JSON.stringify(settings.licensePrices) } : {}),
      ...(settings.auditTime !== undefined ? { STEWARD_AUDIT_TIME: settings.auditTime } : {}),
      ...extra,
    }),
    stop: async () => {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}
