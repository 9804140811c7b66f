import type { TokenCredential } from '@azure/identity';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { Settings } from '../../config/settings.js';
import { ServiceError } from '../http/service-error.js';

/**
 * The Entra credential Steward uses for Graph, the Power Platform admin API and Dataverse:
 * a client secret when one is configured (development, the simulated tenant), otherwise the
 * Function App's managed identity (user-assigned when a client id is given).
 */
export function createCredential(settings: Settings, ca: string[]): TokenCredential {
  const { clientId, clientSecret, authorityHost } = settings.identity;
  const common = { authorityHost, tlsOptions: { ca }, additionallyAllowedTenants: [] as string[] };
  if (clientId && clientSecret) {
    return new ClientSecretCredential(settings.tenantId, clientId, clientSecret, {
      ...common,
      // The authority is the configured host itself; no discovery round trip to a public cloud.
      disableInstanceDiscovery: true,
    });
  }
  if (clientId) return new ManagedIdentityCredential({ clientId });
  return new DefaultAzureCredential({ tenantId: settings.tenantId });
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
