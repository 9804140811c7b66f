import type { TokenCredential } from '@azure/identity';
import pLimit from 'p-limit';
import type { Settings } from '../../config/settings.js';
import type { Environment, EnvironmentType } from '../../domain/model.js';
import { JsonClient, type JsonResponse } from '../http/json-client.js';
import { isGuid, pathSegment } from '../http/odata.js';
import type { RetryPolicy } from '../http/retry.js';
import { ServiceError, isServiceError } from '../http/service-error.js';
import { tokenProvider } from '../identity/credential.js';
import type { EnvironmentGateway } from './environments.js';

/**
 * The Power Platform admin API (BAP, `https://api.bap.microsoft.com`):
 * `GET …/scopes/admin/environments` (every page, following `nextLink`), `GET …/environments/{id}`
 * and `POST …/environments/{id}/addUser` (force-add or refresh a user's systemuser row, D1).
 * Wire environments become domain `Environment`s here, once.
 */

const ENVIRONMENTS = '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments';
/** The version Microsoft documents for listing environments (learn.microsoft.com/power-platform/admin/list-environments). */
export const BAP_API_VERSION = '2020-10-01';
/** The version `addUser` is called with (as the Power Platform Terraform provider does). */
export const BAP_ADD_USER_API_VERSION = '2023-06-01';
/** Environment-level pass per app is the `AppPass` capacity add-on allocated to the environment. */
const ADDONS_EXPAND = 'properties.addons';

export interface WireEnvironment {
  id?: string;
  name: string;
  type?: string;
  properties?: {
    displayName?: string;
    environmentSku?: string;
    isDefault?: boolean;
    databaseType?: string;
    createdBy?: { id?: string; type?: string } | null;
    linkedEnvironmentMetadata?: {
      instanceUrl?: string;
      instanceApiUrl?: string;
      securityGroupId?: string | null;
    } | null;
    addons?: { addonType?: string; allocated?: number }[] | null;
  };
}

interface WireEnvironmentPage {
  value: WireEnvironment[];
  nextLink?: string;
}

const SKUS: Record<string, EnvironmentType> = {
  production: 'Production',
  sandbox: 'Sandbox',
  trial: 'Trial',
  subscriptionbasedtrial: 'Trial',
  developer: 'Developer',
  default: 'Default',
  teams: 'Teams',
};

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** BAP `environmentSku` → `EnvironmentType`; the default environment is `Default` whatever its SKU says. */
export function environmentTypeOf(sku: string | undefined, isDefault: boolean | undefined): EnvironmentType {
  if (isDefault) return 'Default';
  // An SKU this version does not know is treated as a regular (Production) environment.
  return SKUS[(sku ?? '').toLowerCase()] ?? 'Production';
}

export function toEnvironment(wire: WireEnvironment): Environment {
  const p = wire.properties ?? {};
  const linked = p.linkedEnvironmentMetadata ?? null;
  const url = (linked?.instanceUrl || linked?.instanceApiUrl || '').trim().replace(/\/+$/, '');
  const hasDataverse = url.length > 0 && (p.databaseType ?? 'CommonDataService').toLowerCase() !== 'none';
  const group = typeof linked?.securityGroupId === 'string' ? linked.securityGroupId.trim().toLowerCase() : '';
  const creator = typeof p.createdBy?.id === 'string' && isGuid(p.createdBy.id) ? p.createdBy.id.toLowerCase() : null;
  return {
    id: wire.name,
    displayName: p.displayName ?? wire.name,
    type: environmentTypeOf(p.environmentSku, p.isDefault),
    hasDataverse,
    instanceUrl: hasDataverse ? url : null,
    securityGroupId: group && group !== ZERO_GUID ? group : null,
    passForApps: (p.addons ?? []).some((a) => a?.addonType?.toLowerCase() === 'apppass' && (a.allocated ?? 0) > 0),
    createdBy: creator,
  };
}

export interface EnvironmentGatewayOptions {
  retry?: RetryPolicy;
}

export class BapEnvironmentGateway implements EnvironmentGateway {
  private readonly client: JsonClient;

  constructor(settings: Settings, credential: TokenCredential, options: EnvironmentGatewayOptions = {}) {
    this.client = new JsonClient({
      service: 'powerplatform',
      baseUrl: settings.endpoints.powerPlatform,
      getToken: tokenProvider(credential, settings.endpoints.powerPlatformScope),
      retry: options.retry,
      timeoutMs: settings.http.timeoutMs,
      limit: pLimit(settings.http.maxConcurrency),
    });
  }

  async listEnvironments(): Promise<Environment[]> {
    const operation = 'listEnvironments';
    const environments: Environment[] = [];
    let next: string | undefined = `${ENVIRONMENTS}?api-version=${BAP_API_VERSION}&$expand=${ADDONS_EXPAND}`;
    while (next) {
      const response: JsonResponse<WireEnvironmentPage> = await this.client.send<WireEnvironmentPage>({ operation, url: next });
      const page = response.body;
      if (!page || !Array.isArray(page.value)) {
        throw new ServiceError({ service: 'powerplatform', operation, status: response.status, code: 'InvalidResponse' }, 'the answer is not a list of environments');
      }
      environments.push(...page.value.map(toEnvironment));
      next = typeof page.nextLink === 'string' && page.nextLink.length > 0 ? page.nextLink : undefined;
    }
    return environments;
  }

  async getEnvironment(environmentId: string): Promise<Environment | null> {
    if (environmentId.trim() === '') return null;
    try {
      const response = await this.client.send<WireEnvironment>({
        operation: 'getEnvironment',
        url: `${ENVIRONMENTS}/${pathSegment(environmentId)}?api-version=${BAP_API_VERSION}&$expand=${ADDONS_EXPAND}`,
        target: environmentId,
      });
      return toEnvironment(response.body);
    } catch (error) {
      if (isServiceError(error) && error.status === 404) return null;
      throw error;
    }
  }

  async addUser(environmentId: string, entraObjectId: string): Promise<void> {
    if (!isGuid(entraObjectId)) throw new TypeError(`not an Entra object id: ${JSON.stringify(entraObjectId)}`);
    await this.client.send({
      operation: 'addUser',
      method: 'POST',
      url: `${ENVIRONMENTS}/${pathSegment(environmentId)}/addUser?api-version=${BAP_ADD_USER_API_VERSION}`,
      body: { objectId: entraObjectId.toLowerCase() },
      target: environmentId,
    });
  }
}

export function createEnvironmentGateway(settings: Settings, credential: TokenCredential, options: EnvironmentGatewayOptions = {}): BapEnvironmentGateway {
  return new BapEnvironmentGateway(settings, credential, options);
}
