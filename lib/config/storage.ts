/**
 * Where a storage account is and how Steward signs in to it, read from app settings with the
 * Azure Functions convention for identity-based connections (`<PREFIX>__tableServiceUri`,
 * `__queueServiceUri`, `__blobServiceUri`, `__accountName`, `__credential`, `__clientId`).
 * A connection string (an account key, `UseDevelopmentStorage=true`) stays for Azurite and
 * development; on Azure the account has shared keys switched off and only a token is accepted.
 */

export type StorageService = 'table' | 'queue' | 'blob';

export type StorageConnectionSettings =
  | { kind: 'connection-string'; connectionString: string }
  | {
      kind: 'identity';
      /** Service endpoints (`https://<account>.table.core.windows.net`); only those the setting gives or implies. */
      serviceUris: Partial<Record<StorageService, string>>;
      /** `managedidentity`: the Function App's identity; otherwise Steward's own Entra credential (development). */
      credential: 'managedidentity' | 'steward';
      /** A user-assigned managed identity's client id. */
      clientId?: string;
    };

export interface StorageSettingProblem {
  setting: string;
  expected: string;
}

const SERVICE_URI_SUFFIX: Record<StorageService, string> = { table: 'tableServiceUri', queue: 'queueServiceUri', blob: 'blobServiceUri' };

/** `https://x` with no trailing slash, or null when not an absolute https URL (a bearer token needs TLS). */
function httpsUri(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? value.replace(/\/+$/, '') : null;
  } catch {
    return null;
  }
}

/**
 * The identity-based connection under `prefix` (e.g. `AzureWebJobsStorage`), or undefined when no
 * `prefix__…` setting is present. `needs` are the services the caller uses: each must be given
 * or implied by `__accountName` (public cloud endpoints).
 */
export function identityConnectionFrom(
  env: Record<string, string | undefined>,
  prefix: string,
  needs: readonly StorageService[],
  problems: StorageSettingProblem[],
): StorageConnectionSettings | undefined {
  const read = (suffix: string) => {
    const value = env[`${prefix}__${suffix}`];
    return value === undefined || value === '' ? undefined : value.trim();
  };
  const accountName = read('accountName');
  const given = (['table', 'queue', 'blob'] as const).filter((service) => read(SERVICE_URI_SUFFIX[service]) !== undefined);
  if (!accountName && given.length === 0) return undefined;
  const serviceUris: Partial<Record<StorageService, string>> = {};
  for (const service of ['table', 'queue', 'blob'] as const) {
    const setting = `${prefix}__${SERVICE_URI_SUFFIX[service]}`;
    const raw = read(SERVICE_URI_SUFFIX[service]) ?? (accountName ? `https://${accountName}.${service}.core.windows.net` : undefined);
    if (raw === undefined) {
      if (needs.includes(service)) problems.push({ setting, expected: `the ${service} service URI (https://<account>.${service}.core.windows.net), or ${prefix}__accountName` });
      continue;
    }
    const uri = httpsUri(raw);
    if (uri) serviceUris[service] = uri;
    else problems.push({ setting, expected: 'an absolute https URL (a token is only sent over TLS)' });
  }
  const credential = read('credential');
  if (credential !== undefined && credential.toLowerCase() !== 'managedidentity') {
    problems.push({ setting: `${prefix}__credential`, expected: 'managedidentity, or no value (Steward\'s own credential, for development)' });
  }
  const clientId = read('clientId');
  return { kind: 'identity', serviceUris, credential: credential ? 'managedidentity' : 'steward', ...(clientId ? { clientId } : {}) };
}

const CONNECTION_STRING_SHAPE = 'a storage connection string: AccountName=…;AccountKey=… (with DefaultEndpointsProtocol, EndpointSuffix or *Endpoint=https://…), SharedAccessSignature=… with an endpoint, or UseDevelopmentStorage=true';

/**
 * What is wrong with a storage connection string, or null when the SDKs can read it: `key=value`
 * parts, an account and key (or a SAS and an endpoint), endpoints that are absolute URLs.
 */
export function connectionStringProblem(value: string): string | null {
  const parts = new Map<string, string>();
  for (const part of value.split(';').map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf('=');
    if (at <= 0) return `expected ${CONNECTION_STRING_SHAPE}; "${part.length > 40 ? `${part.slice(0, 40)}…` : part}" is not a key=value part`;
    parts.set(part.slice(0, at).toLowerCase(), part.slice(at + 1));
  }
  // UseDevelopmentStorage=true is the emulator; =false a placeholder the tests give for a storage never used.
  if (/^(true|false)$/i.test(parts.get('usedevelopmentstorage') ?? '')) return null;
  for (const [key, endpoint] of parts) {
    if (!key.endsWith('endpoint')) continue;
    try {
      if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error('scheme');
    } catch {
      return `expected ${CONNECTION_STRING_SHAPE}; the ${key} "${endpoint}" is not an http(s) URL`;
    }
  }
  const suffix = parts.get('endpointsuffix');
  if (suffix !== undefined && !/^[a-z0-9.-]+$/i.test(suffix)) return `expected ${CONNECTION_STRING_SHAPE}; EndpointSuffix "${suffix}" is not a host name (core.windows.net)`;
  const hasEndpoint = [...parts.keys()].some((k) => k.endsWith('endpoint'));
  if (parts.has('accountname') && parts.has('accountkey')) return null;
  if (parts.has('sharedaccesssignature') && hasEndpoint) return null;
  return `expected ${CONNECTION_STRING_SHAPE}; it has ${parts.size === 0 ? 'nothing' : `only ${[...parts.keys()].join(', ')}`}`;
}

/**
 * Steward's own storage (tables, claim-check blobs) and the host's (the audit's queues, where the
 * triggers listen). Each falls back on the other, so one account set up either way is enough.
 * Order: `STEWARD_STORAGE_CONNECTION`, `STEWARD_STORAGE__…`, then `AzureWebJobsStorage`, `AzureWebJobsStorage__…`.
 */
export function storageConnectionsFrom(env: Record<string, string | undefined>): {
  own?: StorageConnectionSettings;
  host?: StorageConnectionSettings;
  problems: StorageSettingProblem[];
} {
  const problems: StorageSettingProblem[] = [];
  const fromString = (setting: 'STEWARD_STORAGE_CONNECTION' | 'AzureWebJobsStorage'): StorageConnectionSettings | undefined => {
    const value = env[setting];
    if (!value) return undefined;
    const problem = connectionStringProblem(value);
    if (problem) problems.push({ setting, expected: problem });
    return { kind: 'connection-string', connectionString: value };
  };
  const ownOnly = fromString('STEWARD_STORAGE_CONNECTION') ?? identityConnectionFrom(env, 'STEWARD_STORAGE', ['table', 'blob'], problems);
  const hostOnly = fromString('AzureWebJobsStorage') ?? identityConnectionFrom(env, 'AzureWebJobsStorage', ownOnly ? ['queue'] : ['table', 'queue', 'blob'], problems);
  const own = ownOnly ?? hostOnly;
  const host = hostOnly ?? ownOnly;
  if (host?.kind === 'identity' && !hostOnly && !host.serviceUris.queue) {
    problems.push({ setting: 'STEWARD_STORAGE__queueServiceUri', expected: 'the queue service URI (the audit fans out over queues), or AzureWebJobsStorage' });
  }
  return { own, host, problems };
}

/** What a log line or the doctor may show of a connection: endpoints, never a key. */
export function describeStorage(connection: StorageConnectionSettings): string {
  if (connection.kind === 'identity') {
    const who = connection.credential === 'managedidentity' ? `managed identity${connection.clientId ? ` ${connection.clientId}` : ''}` : 'Steward\'s credential';
    return `${Object.values(connection.serviceUris).join(', ')} (${who})`;
  }
  if (/UseDevelopmentStorage=true/i.test(connection.connectionString)) return 'development storage (UseDevelopmentStorage=true)';
  const account = /AccountName=([^;]+)/i.exec(connection.connectionString)?.[1];
  const endpoint = /TableEndpoint=([^;]+)/i.exec(connection.connectionString)?.[1];
  return `connection string${account ? ` of ${account}` : ''}${endpoint ? ` (${endpoint})` : ''}`;
}
