import { readFileSync } from 'node:fs';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { inlineKeyVaultReference, readSecretSetting } from './secrets.js';
import { storageConnectionsFrom, type StorageConnectionSettings } from './storage.js';

export type { StorageConnectionSettings } from './storage.js';

/**
 * Every app setting Steward reads, in one schema. On Azure they are Function App settings (secrets
 * as Key Vault references); locally `local.settings.json`; the CLI builds them from the simulator.
 * A missing or malformed setting fails at start-up with the setting's name and what is expected.
 */

/** SKUs whose holders are entitled to Dataverse environments (D4.2); override with a setting. */
export const DEFAULT_ENVIRONMENT_LICENSE_SKUS = [
  'DYN365_ENTERPRISE_PLAN1',
  'DYN365_ENTERPRISE_SALES',
  'DYN365_ENTERPRISE_CUSTOMER_SERVICE',
  'DYN365_ENTERPRISE_FIELD_SERVICE',
  'DYN365_SALES_PREMIUM',
  'D365_SALES_PRO',
  'DYN365_CUSTOMER_SERVICE_PRO',
  'DYN365_ENTERPRISE_TEAM_MEMBERS',
  'DYN365_TEAM_MEMBERS',
  'POWERAPPS_PER_USER',
  'POWERAPPS_PER_APP_NEW',
  'POWERAPPS_DEV',
  'FLOW_PER_USER',
] as const;

/** Microsoft 365 SKUs that include a free Dataverse plan (D2, D4.2 v: users are added on demand). */
export const DEFAULT_FREE_DATAVERSE_PLAN_SKUS = [
  'SPE_E3',
  'SPE_E5',
  'ENTERPRISEPACK',
  'ENTERPRISEPREMIUM',
  'SPB',
  'O365_BUSINESS_PREMIUM',
  'O365_BUSINESS_ESSENTIALS',
  'SPE_F1',
] as const;

/** Tenant-level marketing SKUs (D4.2 exception iii: users are added on demand). */
export const DEFAULT_MARKETING_TENANT_SKUS = ['DYN365_MARKETING_APP', 'D365_MARKETING_TENANT'] as const;

const csv = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const intInRange = (min: number, max: number) =>
  z.coerce.number({ message: 'expected a whole number' }).int().min(min).max(max);

const httpsUrl = z.url({ protocol: /^https?$/, message: 'expected an absolute http(s) URL' });

const salesforceOrg = z
  .object({
    id: z.string().regex(/^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/, 'expected a Salesforce org id (00D…)'),
    name: z.string().min(1),
    loginUrl: httpsUrl,
    clientId: z.string().min(1),
    auth: z.enum(['client-credentials', 'jwt-bearer']).default('client-credentials'),
    clientSecret: z.string().min(1).optional(),
    /** The app setting that holds the client secret (lib/config/secrets.ts): how a deployment gives it. */
    clientSecretSetting: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    privateKeySetting: z.string().min(1).optional(),
  })
  .superRefine((org, ctx) => {
    if (org.auth === 'client-credentials' && !org.clientSecret && !org.clientSecretSetting)
      ctx.addIssue({ code: 'custom', path: ['clientSecretSetting'], message: 'required for client-credentials (or clientSecret in development)' });
    if (org.auth === 'jwt-bearer' && (!org.username || (!org.privateKey && !org.privateKeySetting)))
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'username and privateKeySetting (or privateKey) are required for jwt-bearer' });
    for (const field of ['clientSecret', 'privateKey'] as const) {
      if (inlineKeyVaultReference(org[field]))
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `a Key Vault reference is resolved only as the whole value of a setting: put it in STEWARD_SALESFORCE_SECRET_<ORG> and name that in ${field}Setting`,
        });
    }
  });

export type SalesforceOrgSettings = z.infer<typeof salesforceOrg>;

/** A setting holding JSON, parsed and then checked by `schema`. */
const jsonSetting = <T extends z.ZodType>(schema: T, expected: string) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected ${expected}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const jsonArrayOf = <T extends z.ZodType>(item: T) => jsonSetting(z.array(item), 'a JSON array');

/** SPEC §7 Money: a SKU's monthly price per user, in one currency (ISO 4217 code). */
export const licensePriceSchema = z.object({
  monthly: z.number({ message: 'expected a number' }).nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as "EUR"'),
}).strict();
export type LicensePrice = z.infer<typeof licensePriceSchema>;

/** `STEWARD_LICENSE_PRICES`: JSON `{ "<skuPartNumber>": { "monthly": 10.5, "currency": "EUR" } }`. */
const licensePrices = jsonSetting(z.record(z.string().min(1), licensePriceSchema), 'a JSON object of skuPartNumber → { monthly, currency }');

const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 date and time, e.g. 2026-03-01T00:00:00Z');

/**
 * Where the report links each check's page (`<base><checkId>.md`): an http(s) URL such as the
 * repository's `…/blob/main/docs/checks/`, or a relative path; never another scheme (a
 * `javascript:` link in a report would run when clicked).
 */
const docsBaseUrl = z
  .string()
  .refine((value) => /^https?:\/\/[^\s"'<>]+$/i.test(value) || /^[\w./-]+$/.test(value), 'expected an http(s) URL or a relative path such as docs/checks/');

export const settingsSchema = z.object({
  STEWARD_TENANT_ID: z.string().min(1, 'expected the Entra tenant id'),
  STEWARD_CLIENT_ID: z.string().min(1).optional(),
  STEWARD_CLIENT_SECRET: z.string().min(1).optional(),
  STEWARD_AUTHORITY_HOST: httpsUrl.default('https://login.microsoftonline.com'),
  STEWARD_GRAPH_URL: httpsUrl.default('https://graph.microsoft.com'),
  STEWARD_POWERPLATFORM_URL: httpsUrl.default('https://api.bap.microsoft.com'),
  STEWARD_POWERPLATFORM_SCOPE: z.string().default('https://service.powerapps.com/.default'),
  STEWARD_ENVIRONMENTS: csv.optional(),
  STEWARD_SALESFORCE_ORGS: jsonArrayOf(salesforceOrg).default([]),
  STEWARD_STORAGE_CONNECTION: z.string().min(1, 'expected an Azure Storage connection string').optional(),
  AzureWebJobsStorage: z.string().optional(),
  STEWARD_ALERT_URL: httpsUrl.optional(),
  STEWARD_ALERT_MIN_SEVERITY: z.enum(['critical', 'warning', 'info']).default('warning'),
  STEWARD_PUBLIC_BASE_URL: httpsUrl.optional(),
  STEWARD_DOCS_BASE_URL: docsBaseUrl.default('docs/checks/'),
  STEWARD_AUDIT_SCHEDULE: z
    .string()
    .regex(/^(\S+\s+){5}\S+$/, 'expected an NCRONTAB expression with six fields (seconds first)')
    .refine((value) => {
      try {
        CronExpressionParser.parse(value, { tz: 'UTC' });
        return true;
      } catch {
        return false;
      }
    }, 'expected a valid NCRONTAB expression, e.g. "0 0 2 * * *" (02:00 UTC)')
    .default('0 0 2 * * *'),
  STEWARD_ENVIRONMENT_LICENSE_SKUS: csv.default([...DEFAULT_ENVIRONMENT_LICENSE_SKUS]),
  STEWARD_MARKETING_TENANT_SKUS: csv.default([...DEFAULT_MARKETING_TENANT_SKUS]),
  STEWARD_FREE_DATAVERSE_PLAN_SKUS: csv.default([...DEFAULT_FREE_DATAVERSE_PLAN_SKUS]),
  STEWARD_NON_INTERACTIVE_WARN_AT: intInRange(1, 7).default(6),
  STEWARD_SF_INTEGRATION_LICENSE_WARN_AT: intInRange(0, 1000).default(1),
  STEWARD_INACTIVE_DAYS: intInRange(1, 3650).default(90),
  STEWARD_FULL_AUDIT_EVERY_DAYS: intInRange(1, 365).default(7),
  STEWARD_LICENSE_HEADROOM_WARN_AT: intInRange(0, 1_000_000).default(1),
  STEWARD_LICENSE_PRICES: licensePrices.default({}),
  STEWARD_AUDIT_TIME: isoTime.optional(),
  STEWARD_READ_ONLY: bool.default(false),
  STEWARD_REQUIRE_APP_ROLES: bool.default(false),
  STEWARD_EXTRA_CA_CERTS: z.string().min(1).optional(),
  STEWARD_HTTP_TIMEOUT_MS: intInRange(1000, 300_000).default(30_000),
  STEWARD_MAX_CONCURRENCY: intInRange(1, 64).default(8),
  STEWARD_HTTP_RETRIES: intInRange(0, 20).default(6),
  STEWARD_IDEMPOTENCY_TTL_HOURS: intInRange(1, 24 * 30).default(24),
  STEWARD_AUDIT_STALL_MINUTES: intInRange(1, 24 * 60).default(30),
  STEWARD_SUPPRESSION_MAX_DAYS: intInRange(1, 3650).default(365),
  STEWARD_TRUST_FORWARDED_HOST: bool.default(false),
  WEBSITE_HOSTNAME: z.string().optional(),
  STEWARD_REPLICATION_WAIT_S: intInRange(0, 600).default(60),
  STEWARD_LICENSE_PROPAGATION_WAIT_S: intInRange(0, 86_400).default(900),
});

export type RawSettings = z.infer<typeof settingsSchema>;

export interface Settings {
  tenantId: string;
  identity: { clientId?: string; clientSecret?: string; authorityHost: string };
  endpoints: { graph: string; powerPlatform: string; powerPlatformScope: string };
  environmentAllowList?: string[];
  salesforceOrgs: SalesforceOrgSettings[];
  /** Steward's tables and claim-check blobs: a connection string, or service URIs and an identity (lib/config/storage.ts). */
  storageConnection: StorageConnectionSettings;
  /** Where the Functions host's queue triggers listen (AzureWebJobsStorage): the audit fan-out sends there. */
  hostStorageConnection: StorageConnectionSettings;
  alerts: { url?: string; minimumSeverity: 'critical' | 'warning' | 'info' };
  publicBaseUrl?: string;
  /** Where the report links the checks' pages (docs/checks/ in the repository). */
  docsBaseUrl: string;
  auditSchedule: string;
  environmentLicenseSkus: string[];
  marketingTenantSkus: string[];
  freeDataversePlanSkus: string[];
  nonInteractiveWarnAt: number;
  salesforceIntegrationLicenseWarnAt: number;
  /** L2: a licensed user with no sign-in for more than this many days is inactive. */
  inactiveDays: number;
  /** SPEC §9: a run is full (not incremental) when the last full one is at least this many days old. */
  fullAuditEveryDays: number;
  /** L4: an environment-licence or priced SKU with at most this many units left warns. */
  licenseHeadroomWarnAt: number;
  /** SPEC §7 Money: skuPartNumber → monthly price; SKUs not listed have no price. */
  licensePrices: Record<string, LicensePrice>;
  /** ISO time the audit takes as "now" for ages (a fixture's repeatable clock); absent: the clock. */
  auditTime?: string;
  readOnly: boolean;
  requireAppRoles: boolean;
  extraCaCertificates: string[];
  /** Per attempt timeout, calls in flight per service, retries after the first attempt (429/503/504). */
  http: { timeoutMs: number; maxConcurrency: number; retries: number };
  idempotencyTtlHours: number;
  /** A running audit that has written nothing for this long is closed as failed (its worker died). */
  auditStallMinutes: number;
  /** How far ahead a suppression may expire (a suppression is a decision to review, not forever). */
  suppressionMaxDays: number;
  /**
   * Where links (`Location`, the OpenAPI `host`) point when STEWARD_PUBLIC_BASE_URL is unset: the
   * platform's `X-Forwarded-Host` only when trusted (behind Front Door / App Gateway that sets it),
   * else the Function App's own name (WEBSITE_HOSTNAME); never the request's Host header.
   */
  links: { trustForwardedHost: boolean; siteHostName?: string };
  /** How long create-user retries the steps Entra ID answers 404 while it replicates a new user (R4). */
  replicationWaitSeconds: number;
  /** How long enable keeps answering 202 while a new licence propagates to the admin API (R5). */
  licensePropagationWaitSeconds: number;
}

export class ConfigurationError extends Error {
  constructor(readonly problems: { setting: string; expected: string }[]) {
    super(
      'Steward cannot start, its settings are not valid:\n' +
        problems.map((p) => `  - ${p.setting}: ${p.expected}`).join('\n'),
    );
    this.name = 'ConfigurationError';
  }
}

function readPemFiles(value: string | undefined): string[] {
  if (!value) return [];
  if (value.includes('-----BEGIN CERTIFICATE-----')) return [value];
  return value.split(/[;,]/).map((path) => {
    try {
      return readFileSync(path.trim(), 'utf8');
    } catch {
      throw new ConfigurationError([{ setting: 'STEWARD_EXTRA_CA_CERTS', expected: `a readable PEM file (${path.trim()})` }]);
    }
  });
}

/** An org with its secrets read from the settings its entry names (a setting's value wins over an inline one). */
function withSecrets(
  org: SalesforceOrgSettings,
  index: number,
  env: Record<string, string | undefined>,
  problems: { setting: string; expected: string }[],
): SalesforceOrgSettings {
  const field = (name: string) => `STEWARD_SALESFORCE_ORGS.${index}.${name}`;
  const clientSecret = org.clientSecretSetting ? readSecretSetting(env, org.clientSecretSetting, field('clientSecretSetting'), problems) : org.clientSecret;
  const privateKey = org.privateKeySetting ? readSecretSetting(env, org.privateKeySetting, field('privateKeySetting'), problems) : org.privateKey;
  return { ...org, clientSecret, privateKey };
}

/** Reads and checks the settings; throws a `ConfigurationError` naming every bad one. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settingsSchema.safeParse(defined);
  if (!parsed.success) {
    throw new ConfigurationError(
      parsed.error.issues.map((issue) => ({
        setting: issue.path.map(String).join('.') || '(settings)',
        expected: issue.message,
      })),
    );
  }
  const s = parsed.data;
  const storage = storageConnectionsFrom(defined);
  const salesforceOrgs = s.STEWARD_SALESFORCE_ORGS.map((org, index) => withSecrets(org, index, defined, storage.problems));
  if (storage.problems.length > 0) throw new ConfigurationError(storage.problems);
  if (!storage.own || !storage.host) {
    throw new ConfigurationError([
      {
        setting: 'STEWARD_STORAGE_CONNECTION',
        expected: 'an Azure Storage connection string, STEWARD_STORAGE__tableServiceUri / __blobServiceUri, or AzureWebJobsStorage (or its __accountName)',
      },
    ]);
  }
  return {
    tenantId: s.STEWARD_TENANT_ID,
    identity: { clientId: s.STEWARD_CLIENT_ID, clientSecret: s.STEWARD_CLIENT_SECRET, authorityHost: s.STEWARD_AUTHORITY_HOST },
    endpoints: {
      graph: s.STEWARD_GRAPH_URL,
      powerPlatform: s.STEWARD_POWERPLATFORM_URL,
      powerPlatformScope: s.STEWARD_POWERPLATFORM_SCOPE,
    },
    environmentAllowList: s.STEWARD_ENVIRONMENTS,
    salesforceOrgs,
    storageConnection: storage.own,
    hostStorageConnection: storage.host,
    alerts: { url: s.STEWARD_ALERT_URL, minimumSeverity: s.STEWARD_ALERT_MIN_SEVERITY },
    publicBaseUrl: s.STEWARD_PUBLIC_BASE_URL,
    docsBaseUrl: s.STEWARD_DOCS_BASE_URL,
    auditSchedule: s.STEWARD_AUDIT_SCHEDULE,
    environmentLicenseSkus: s.STEWARD_ENVIRONMENT_LICENSE_SKUS,
    marketingTenantSkus: s.STEWARD_MARKETING_TENANT_SKUS,
    freeDataversePlanSkus: s.STEWARD_FREE_DATAVERSE_PLAN_SKUS,
    nonInteractiveWarnAt: s.STEWARD_NON_INTERACTIVE_WARN_AT,
    salesforceIntegrationLicenseWarnAt: s.STEWARD_SF_INTEGRATION_LICENSE_WARN_AT,
    inactiveDays: s.STEWARD_INACTIVE_DAYS,
    fullAuditEveryDays: s.STEWARD_FULL_AUDIT_EVERY_DAYS,
    licenseHeadroomWarnAt: s.STEWARD_LICENSE_HEADROOM_WARN_AT,
    licensePrices: s.STEWARD_LICENSE_PRICES,
    auditTime: s.STEWARD_AUDIT_TIME,
    readOnly: s.STEWARD_READ_ONLY,
    requireAppRoles: s.STEWARD_REQUIRE_APP_ROLES,
    extraCaCertificates: readPemFiles(s.STEWARD_EXTRA_CA_CERTS),
    http: { timeoutMs: s.STEWARD_HTTP_TIMEOUT_MS, maxConcurrency: s.STEWARD_MAX_CONCURRENCY, retries: s.STEWARD_HTTP_RETRIES },
    idempotencyTtlHours: s.STEWARD_IDEMPOTENCY_TTL_HOURS,
    auditStallMinutes: s.STEWARD_AUDIT_STALL_MINUTES,
    suppressionMaxDays: s.STEWARD_SUPPRESSION_MAX_DAYS,
    links: { trustForwardedHost: s.STEWARD_TRUST_FORWARDED_HOST, siteHostName: s.WEBSITE_HOSTNAME },
    replicationWaitSeconds: s.STEWARD_REPLICATION_WAIT_S,
    licensePropagationWaitSeconds: s.STEWARD_LICENSE_PROPAGATION_WAIT_S,
  };
}
