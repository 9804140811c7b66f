import type { TokenCredential } from '@azure/identity';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Settings } from '../../config/settings.js';
import type { BusinessUnit, DataverseTeam, OrganizationSettings, SecurityRole, SystemUser } from '../../domain/model.js';
import { JsonClient, type JsonResponse } from '../http/json-client.js';
import { odataGuid, odataString } from '../http/odata.js';
import type { RetryPolicy } from '../http/retry.js';
import { ServiceError, isServiceError } from '../http/service-error.js';
import { tokenProvider } from '../identity/credential.js';
import type { DataverseGateway, DataverseTarget, SystemUserPatch } from './dataverse.js';
import {
  BUSINESSUNIT_SELECT,
  ROLE_SELECT,
  SYSTEMUSER_EXPAND,
  SYSTEMUSER_SELECT,
  TEAM_EXPAND,
  TEAM_SELECT,
  parseOrgDbOrgSettings,
  toBusinessUnit,
  toRole,
  toSystemUser,
  toTeam,
  type ODataCollection,
  type WireBusinessUnit,
  type WireOrganization,
  type WireRole,
  type WireRoleRef,
  type WireSystemUser,
  type WireTeam,
} from './dto.js';

/**
 * The Dataverse Web API v9.2 (`{instance}/api/data/v9.2/`), one environment at a time.
 *
 * - a token per instance (`{instanceUrl}/.default`) from the shared credential;
 * - a bounded number of calls in flight per environment (p-limit), retries on 429/503/504 that
 *   honour `Retry-After`, a timeout per attempt (JsonClient);
 * - collections read in pages of 5,000 (`Prefer: odata.maxpagesize=5000`) following every
 *   `@odata.nextLink`, nested ones of expanded collections included;
 * - only the columns the domain model needs (`$select`), every `$filter` value escaped;
 * - wire records converted to the domain model here, once.
 */

export const DATAVERSE_API_PATH = '/api/data/v9.2/';
export const DATAVERSE_PAGE_SIZE = 5000;

export interface DataverseGatewayOptions {
  retry?: RetryPolicy;
  /** Calls in flight per environment (default: the `STEWARD_MAX_CONCURRENCY` setting). */
  concurrencyPerEnvironment?: number;
}

const ODATA_HEADERS = { 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' } as const;
const COLLECTION_HEADERS = { ...ODATA_HEADERS, Prefer: `odata.maxpagesize=${DATAVERSE_PAGE_SIZE}` } as const;
/** Expanded collection-valued navigation properties can come from a cache unless asked not to. */
const EXPANDED_COLLECTION_HEADERS = { ...COLLECTION_HEADERS, 'If-None-Match': 'null' } as const;

/** `$name=value` pairs, values URL-encoded (a quote stays a doubled quote inside its literal). */
function query(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
}

interface EnvironmentClient {
  instanceUrl: string;
  apiRoot: string;
  client: JsonClient;
}

export class WebApiDataverseGateway implements DataverseGateway {
  private readonly clients = new Map<string, EnvironmentClient>();
  private readonly limits = new Map<string, LimitFunction>();

  constructor(
    private readonly settings: Settings,
    private readonly credential: TokenCredential,
    private readonly options: DataverseGatewayOptions = {},
  ) {}

  // ── Reads ───────────────────────────────────────────────────────────────────────────────────

  async *listSystemUsers(target: DataverseTarget): AsyncIterable<SystemUser[]> {
    const operation = 'listSystemUsers';
    const url = `systemusers?${query({ $select: SYSTEMUSER_SELECT.join(','), $expand: SYSTEMUSER_EXPAND })}`;
    for await (const page of this.pages<WireSystemUser>(target, operation, url, EXPANDED_COLLECTION_HEADERS)) {
      const rows: SystemUser[] = new Array(page.length);
      for (const [i, wire] of page.entries()) {
        // Only a row whose expanded roles were paged needs a request of its own.
        rows[i] = wire['systemuserroles_association@odata.nextLink']
          ? await this.toSystemUser(target, operation, wire)
          : toSystemUser(wire, roleIdsOf(wire.systemuserroles_association));
      }
      yield rows;
    }
  }

  async findSystemUserByEntraId(target: DataverseTarget, entraObjectId: string): Promise<SystemUser | null> {
    return this.findSystemUser(target, 'findSystemUserByEntraId', `azureactivedirectoryobjectid eq ${odataGuid(entraObjectId)}`);
  }

  async findSystemUserByApplicationId(target: DataverseTarget, applicationId: string): Promise<SystemUser | null> {
    return this.findSystemUser(target, 'findSystemUserByApplicationId', `applicationid eq ${odataGuid(applicationId)}`);
  }

  /**
   * The row whose `domainname` (the UPN, P1) is this one, ignoring case as Dataverse does; null when
   * none. (Not on `DataverseGateway` yet: the in-memory fake of the unit tests would need it too.)
   */
  async findSystemUserByDomainName(target: DataverseTarget, domainName: string): Promise<SystemUser | null> {
    return this.findSystemUser(target, 'findSystemUserByDomainName', `domainname eq ${odataString(domainName)}`);
  }

  async getSystemUser(target: DataverseTarget, systemUserId: string): Promise<SystemUser | null> {
    const operation = 'getSystemUser';
    const url = `systemusers(${odataGuid(systemUserId)})?${query({ $select: SYSTEMUSER_SELECT.join(','), $expand: SYSTEMUSER_EXPAND })}`;
    try {
      const response = await this.send<WireSystemUser>(target, { operation, url, headers: { ...ODATA_HEADERS, 'If-None-Match': 'null' } });
      return await this.toSystemUser(target, operation, response.body);
    } catch (error) {
      if (isServiceError(error) && error.status === 404) return null;
      throw error;
    }
  }

  async listTeams(target: DataverseTarget): Promise<DataverseTeam[]> {
    const url = `teams?${query({ $select: TEAM_SELECT.join(','), $expand: TEAM_EXPAND })}`;
    return this.readTeams(target, 'listTeams', url);
  }

  async listTeamsOfUser(target: DataverseTarget, systemUserId: string): Promise<DataverseTeam[]> {
    const url = `systemusers(${odataGuid(systemUserId)})/teammembership_association?${query({ $select: TEAM_SELECT.join(','), $expand: TEAM_EXPAND })}`;
    try {
      return await this.readTeams(target, 'listTeamsOfUser', url);
    } catch (error) {
      if (isServiceError(error) && error.status === 404) return [];
      throw error;
    }
  }

  async listRoles(target: DataverseTarget): Promise<SecurityRole[]> {
    const url = `roles?${query({ $select: ROLE_SELECT.join(',') })}`;
    const roles: SecurityRole[] = [];
    for await (const page of this.pages<WireRole>(target, 'listRoles', url, COLLECTION_HEADERS)) roles.push(...page.map(toRole));
    return roles;
  }

  async listBusinessUnits(target: DataverseTarget): Promise<BusinessUnit[]> {
    const url = `businessunits?${query({ $select: BUSINESSUNIT_SELECT.join(',') })}`;
    const units: BusinessUnit[] = [];
    for await (const page of this.pages<WireBusinessUnit>(target, 'listBusinessUnits', url, COLLECTION_HEADERS)) units.push(...page.map(toBusinessUnit));
    return units;
  }

  async getOrganizationSettings(target: DataverseTarget): Promise<OrganizationSettings> {
    const operation = 'getOrganizationSettings';
    const url = `organizations?${query({ $select: 'organizationid,orgdborgsettings' })}`;
    const response = await this.send<ODataCollection<WireOrganization>>(target, { operation, url, headers: ODATA_HEADERS });
    const organization = this.collectionOf(target, operation, response)[0];
    if (!organization) {
      throw new ServiceError({ service: 'dataverse', operation, target: target.id, status: response.status, code: 'InvalidResponse' }, 'no organization record');
    }
    return parseOrgDbOrgSettings(organization.orgdborgsettings);
  }

  // ── Writes ──────────────────────────────────────────────────────────────────────────────────

  async updateSystemUser(target: DataverseTarget, systemUserId: string, patch: SystemUserPatch): Promise<void> {
    const body: Record<string, unknown> = {};
    if (patch.accessmode !== undefined) body.accessmode = patch.accessmode;
    if (patch.isdisabled !== undefined) body.isdisabled = patch.isdisabled;
    if (Object.keys(body).length === 0) return;
    await this.send(target, {
      operation: 'updateSystemUser',
      method: 'PATCH',
      url: `systemusers(${odataGuid(systemUserId)})`,
      // `If-Match: *` makes the PATCH an update only: without it Dataverse would upsert.
      headers: { ...ODATA_HEADERS, 'If-Match': '*' },
      body,
    });
  }

  async createApplicationUser(target: DataverseTarget, applicationId: string, businessUnitId: string): Promise<string> {
    const operation = 'createApplicationUser';
    const response = await this.send(target, {
      operation,
      method: 'POST',
      url: 'systemusers',
      headers: ODATA_HEADERS,
      body: { applicationid: odataGuid(applicationId), 'businessunitid@odata.bind': `/businessunits(${odataGuid(businessUnitId)})` },
    });
    const entityId = response.headers.get('OData-EntityId') ?? '';
    const match = /systemusers\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)\s*$/i.exec(entityId);
    if (!match) {
      throw new ServiceError(
        { service: 'dataverse', operation, target: target.id, status: response.status, code: 'InvalidResponse' },
        'the answer carries no OData-EntityId of the new systemuser',
      );
    }
    return match[1]!.toLowerCase();
  }

  async assignRole(target: DataverseTarget, systemUserId: string, roleId: string): Promise<void> {
    const { apiRoot } = this.environmentClient(target, 'assignRole');
    await this.send(target, {
      operation: 'assignRole',
      method: 'POST',
      url: `systemusers(${odataGuid(systemUserId)})/systemuserroles_association/$ref`,
      headers: ODATA_HEADERS,
      body: { '@odata.id': `${apiRoot}roles(${odataGuid(roleId)})` },
    });
  }

  // ── Plumbing ────────────────────────────────────────────────────────────────────────────────

  private environmentClient(target: DataverseTarget, operation: string): EnvironmentClient {
    if (!target.instanceUrl) {
      throw new ServiceError(
        { service: 'dataverse', operation, target: target.id, code: 'NoDataverseDatabase' },
        'the environment has no Dataverse database (D3)',
      );
    }
    const instanceUrl = target.instanceUrl.replace(/\/+$/, '');
    const key = target.id.toLowerCase();
    const known = this.clients.get(key);
    if (known && known.instanceUrl === instanceUrl) return known;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = pLimit(this.options.concurrencyPerEnvironment ?? this.settings.http.maxConcurrency);
      this.limits.set(key, limit);
    }
    const apiRoot = `${instanceUrl}${DATAVERSE_API_PATH}`;
    const entry: EnvironmentClient = {
      instanceUrl,
      apiRoot,
      client: new JsonClient({
        service: 'dataverse',
        baseUrl: apiRoot,
        getToken: tokenProvider(this.credential, `${instanceUrl}/.default`),
        retry: this.options.retry,
        timeoutMs: this.settings.http.timeoutMs,
        limit,
      }),
    };
    this.clients.set(key, entry);
    return entry;
  }

  private send<T>(
    target: DataverseTarget,
    request: { operation: string; url: string; method?: 'GET' | 'POST' | 'PATCH'; headers: Record<string, string>; body?: unknown },
  ): Promise<JsonResponse<T>> {
    const { client } = this.environmentClient(target, request.operation);
    return client.send<T>({ ...request, target: target.id });
  }

  private collectionOf<T>(target: DataverseTarget, operation: string, response: JsonResponse<ODataCollection<T>>): T[] {
    const value = response.body?.value;
    if (!Array.isArray(value)) {
      throw new ServiceError(
        { service: 'dataverse', operation, target: target.id, status: response.status, code: 'InvalidResponse' },
        'the answer is not an OData collection',
      );
    }
    return value;
  }

  /** Every page of a collection, following `@odata.nextLink` to the end. */
  private async *pages<T>(target: DataverseTarget, operation: string, url: string, headers: Record<string, string>): AsyncGenerator<T[]> {
    let next: string | undefined = url;
    while (next) {
      const response: JsonResponse<ODataCollection<T>> = await this.send<ODataCollection<T>>(target, { operation, url: next, headers });
      yield this.collectionOf(target, operation, response);
      next = response.body['@odata.nextLink'];
    }
  }

  /** An expanded collection's items, plus the rest when Dataverse paged it (`<nav>@odata.nextLink`). */
  private async nested<T>(target: DataverseTarget, operation: string, first: T[] | undefined, nextLink: string | undefined): Promise<T[]> {
    const items = [...(first ?? [])];
    if (nextLink) {
      for await (const page of this.pages<T>(target, operation, nextLink, COLLECTION_HEADERS)) items.push(...page);
    }
    return items;
  }

  private async toSystemUser(target: DataverseTarget, operation: string, wire: WireSystemUser): Promise<SystemUser> {
    const roles = await this.nested<WireRoleRef>(target, operation, wire.systemuserroles_association, wire['systemuserroles_association@odata.nextLink']);
    return toSystemUser(wire, roleIdsOf(roles));
  }

  private async findSystemUser(target: DataverseTarget, operation: string, filter: string): Promise<SystemUser | null> {
    const url = `systemusers?${query({ $select: SYSTEMUSER_SELECT.join(','), $filter: filter, $expand: SYSTEMUSER_EXPAND })}`;
    for await (const page of this.pages<WireSystemUser>(target, operation, url, EXPANDED_COLLECTION_HEADERS)) {
      const first = page[0];
      if (first) return this.toSystemUser(target, operation, first);
    }
    return null;
  }

  private async readTeams(target: DataverseTarget, operation: string, url: string): Promise<DataverseTeam[]> {
    const teams: DataverseTeam[] = [];
    for await (const page of this.pages<WireTeam>(target, operation, url, EXPANDED_COLLECTION_HEADERS)) {
      for (const wire of page) {
        const roles = await this.nested<WireRoleRef>(target, operation, wire.teamroles_association, wire['teamroles_association@odata.nextLink']);
        const members = await this.nested<{ systemuserid: string }>(
          target,
          operation,
          wire.teammembership_association,
          wire['teammembership_association@odata.nextLink'],
        );
        teams.push(toTeam(wire, roles.map((r) => r.roleid.toLowerCase()), members.map((m) => m.systemuserid.toLowerCase())));
      }
    }
    return teams;
  }
}

export function createDataverseGateway(settings: Settings, credential: TokenCredential, options: DataverseGatewayOptions = {}): WebApiDataverseGateway {
  return new WebApiDataverseGateway(settings, credential, options);
}

function roleIdsOf(roles: readonly WireRoleRef[] | undefined): string[] {
  return (roles ?? []).map((r) => r.roleid.toLowerCase());
}
