import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ServiceError } from '../http/service-error.js';
import type { TrustedTls } from '../http/tls.js';

/**
 * The tokens of every gateway that signs in to Entra ID (Graph, the Power Platform admin API,
 * Dataverse). This folder is a transport room only: its port is `@azure/identity`'s
 * `TokenCredential`, which the other gateways' clients take; there are no wire shapes of ours.
 */

export interface CredentialOptions {
  tenantId: string;
  /** A client secret's app, or a user-assigned managed identity's client id. */
  clientId?: string;
  clientSecret?: string;
  /** `https://login.microsoftonline.com` (or a national cloud, or the simulator). */
  authorityHost: string;
}

/**
 * The Entra credential Steward uses for Graph, the Power Platform admin API and Dataverse:
 * a client secret when one is configured (development, the simulated tenant), otherwise the
 * Function App's managed identity (user-assigned when a client id is given).
 */
export function createCredential(options: CredentialOptions, trusted: TrustedTls = {}): TokenCredential {
  const { tenantId, clientId, clientSecret, authorityHost } = options;
  const common = { authorityHost, additionallyAllowedTenants: [] as string[], ...(trusted.httpsAgent ? { agent: trusted.httpsAgent } : {}) };
  if (clientId && clientSecret) {
    return new CoalescingCredential(
      new ClientSecretCredential(tenantId, clientId, clientSecret, {
        ...common,
        // The authority is the configured host itself; no discovery round trip to a public cloud.
        disableInstanceDiscovery: true,
      }),
    );
  }
  if (clientId) return new CoalescingCredential(new ManagedIdentityCredential({ clientId }));
  return new CoalescingCredential(new DefaultAzureCredential({ tenantId }));
}

/** The Function App's managed identity (user-assigned when a client id is given), tokens shared as above. */
export function createManagedIdentityCredential(clientId?: string): TokenCredential {
  return new CoalescingCredential(clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential());
}

/**
 * Concurrent `getToken` calls for the same scopes share one token request. The credentials cache
 * a token once they have it, but calls made before the first answer each go to the token endpoint:
 * an audit starts 4 Graph calls and 2 calls per Dataverse environment at once, which cost 2 token
 * requests per audience instead of 1 (measured by the benchmark). A call with its own abort
 * signal is not shared (another caller's abort must not fail it).
 */
export class CoalescingCredential implements TokenCredential {
  private readonly inFlight = new Map<string, Promise<AccessToken | null>>();

  constructor(private readonly inner: TokenCredential) {}

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    if (options?.abortSignal) return this.inner.getToken(scopes, options);
    const key = JSON.stringify([[scopes].flat(), options?.tenantId ?? null, options?.claims ?? null, options?.enableCae ?? null]);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.inner.getToken(scopes, options).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}

/** A function that returns a bearer token for one scope, cached by the credential until it expires. */
export function tokenProvider(credential: TokenCredential, scope: string): () => Promise<string> {
  return async () => {
    try {
      const token = await credential.getToken(scope);
      if (!token) throw new Error('no token');
      return token.token;
    } catch (cause) {
      // The SDK's message can quote the request; keep only the error's name and first line.
      const first = String((cause as Error)?.message ?? cause).split('\n')[0];
      throw new ServiceError({ service: 'identity', operation: `getToken ${scope}`, cause }, first);
    }
  };
}
