import type { TokenCredential } from '@azure/identity';
import pLimit from 'p-limit';
import type { Environment } from '../../domain/model.js';
import { JsonClient } from '../http/json-client.js';
import { isGuid, pathSegment } from '../http/odata.js';
import { DEFAULT_CONCURRENCY, type TransportOptions } from '../http/options.js';
import { linkedPages, type Pages } from '../http/pages.js';
import { ServiceError, isServiceError } from '../http/service-error.js';
import { tokenProvider } from '../identity/client.js';
import { toEnvironment, type WireEnvironment, type WireEnvironmentPage } from './dto.js';
import type { EnvironmentGateway } from './port.js';

/**
 * The Power Platform admin API (BAP, `https://api.bap.microsoft.com`):
 * `GET …/scopes/admin/environments` (every page, following `nextLink`), `GET …/environments/{id}`
 * and `POST …/environments/{id}/addUser` (force-add or refresh a user's systemuser row, D1).
 */

const ENVIRONMENTS = '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments';
/** The version Microsoft documents for listing environments (learn.microsoft.com/power-platform/admin/list-environments). */
export const BAP_API_VERSION = '2020-10-01';
/** The version `addUser` is called with (as the Power Platform Terraform provider does). */
export const BAP_ADD_USER_API_VERSION = '2023-06-01';
/** Environment-level pass per app is the `AppPass` capacity add-on allocated to the environment. */
const ADDONS_EXPAND = 'properties.addons';

/** `concurrency` bounds the calls in flight to the admin API. */
export interface EnvironmentGatewayOptions extends TransportOptions {
  /** `https://api.bap.microsoft.com` (or the simulator). */
  baseUrl: string;
  /** The token audience, `https://service.powerapps.com/.default`. */
  scope: string;
  credential: TokenCredential;
}

export class BapEnvironmentGateway implements EnvironmentGateway {
  private readonly client: JsonClient;

  constructor(options: EnvironmentGatewayOptions) {
    this.client = new JsonClient({
      service: 'powerplatform',
      baseUrl: options.baseUrl,
      getToken: tokenProvider(options.credential, options.scope),
      retry: options.retry,
      timeoutMs: options.timeoutMs,
      limit: pLimit(options.concurrency ?? DEFAULT_CONCURRENCY),
    });
  }

  async *listEnvironments(): Pages<Environment> {
    const operation = 'listEnvironments';
    const first = `${ENVIRONMENTS}?api-version=${BAP_API_VERSION}&$expand=${ADDONS_EXPAND}`;
    const pages = linkedPages(first, async (url) => {
      const response = await this.client.send<WireEnvironmentPage>({ operation, url });
      const page = response.body;
      if (!page || !Array.isArray(page.value)) {
        throw new ServiceError({ service: 'powerplatform', operation, status: response.status, code: 'InvalidResponse' }, 'the answer is not a list of environments');
      }
      return { items: page.value, next: typeof page.nextLink === 'string' ? page.nextLink : undefined };
    });
    for await (const page of pages) yield page.map(toEnvironment);
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
