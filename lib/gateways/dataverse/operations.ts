import type { BusinessUnit, DataverseTeam, OrganizationSettings, SecurityRole, SystemUser } from '../../domain/model.js';
import { odataGuid, odataQuery as query, odataString, type ODataCollection } from '../http/odata.js';
import type { DeltaEntry, DeltaPages } from '../http/delta.js';
import type { Pages } from '../http/pages.js';
import { isServiceError } from '../http/service-error.js';
import { COLLECTION_HEADERS, DataverseClient, EXPANDED_COLLECTION_HEADERS, ODATA_HEADERS, type DataverseClientOptions } from './client.js';
import {
  BUSINESSUNIT_SELECT,
  ROLE_SELECT,
  SYSTEMUSER_EXPAND,
  SYSTEMUSER_SELECT,
  TEAM_EXPAND,
  TEAM_SELECT,
  parseOrgDbOrgSettings,
  roleIdsOf,
  toBusinessUnit,
  toRole,
  toSystemUser,
  toSystemUserPatch,
  toTeam,
  isDeletedEntity,
  SYSTEMUSERROLE_SELECT,
  type WireChange,
  type WireSystemUserRole,
  type WireBusinessUnit,
  type WireOrganization,
  type WireRole,
  type WireSystemUser,
  type WireTeam,
} from './dto.js';
import type { DataverseGateway, DataverseTarget, RoleAssignment, SystemUserUpdate } from './port.js';

/**
 * The Dataverse Web API v9.2, one environment at a time: one method per remote operation, only the
 * columns the domain model needs (`$select`), every `$filter` value escaped, wire records converted
 * to the domain model here, once.
 */

const SYSTEMUSER_QUERY = { $select: SYSTEMUSER_SELECT.join(','), $expand: SYSTEMUSER_EXPAND };
const TEAM_QUERY = { $select: TEAM_SELECT.join(','), $expand: TEAM_EXPAND };

export type DataverseGatewayOptions = DataverseClientOptions;

export class WebApiDataverseGateway implements DataverseGateway {
  private readonly dataverse: DataverseClient;

  constructor(options: DataverseGatewayOptions) {
    this.dataverse = new DataverseClient(options);
  }

  // ── Reads ───────────────────────────────────────────────────────────────────────────────────

  async *listSystemUsers(target: DataverseTarget): Pages<SystemUser> {
    const operation = 'listSystemUsers';
    for await (const page of this.dataverse.pages<WireSystemUser>(target, operation, `systemusers${query(SYSTEMUSER_QUERY)}`, EXPANDED_COLLECTION_HEADERS)) {
      yield page.map(toSystemUserOf);
    }
  }

  // ── Changes (SPEC §9) ─────────────────────────────────────────────────────────────────────────

  async *systemUserChanges(target: DataverseTarget, from: string | null): DeltaPages<SystemUser> {
    const url = from ?? `systemusers${query({ $select: SYSTEMUSER_SELECT.join(',') })}`;
    for await (const page of this.dataverse.changePages<WireChange<WireSystemUser>>(target, 'systemUserChanges', url)) {
      yield { entries: page.items.map((row) => changeOf(row, (r) => toSystemUser(r, []))), deltaLink: page.deltaLink };
    }
  }

  async *roleAssignmentChanges(target: DataverseTarget, from: string | null): DeltaPages<RoleAssignment> {
    const url = from ?? `systemuserrolescollection${query({ $select: SYSTEMUSERROLE_SELECT.join(',') })}`;
    for await (const page of this.dataverse.changePages<WireChange<WireSystemUserRole>>(target, 'roleAssignmentChanges', url)) {
      const entries = page.items.map((row) =>
        changeOf(row, (r) => ({ id: r.systemuserroleid.toLowerCase(), systemUserId: r.systemuserid.toLowerCase(), roleId: r.roleid.toLowerCase() })),
      );
      yield { entries, deltaLink: page.deltaLink };
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
   * none.
   */
  async findSystemUserByDomainName(target: DataverseTarget, domainName: string): Promise<SystemUser | null> {
    return this.findSystemUser(target, 'findSystemUserByDomainName', `domainname eq ${odataString(domainName)}`);
  }

  async getSystemUser(target: DataverseTarget, systemUserId: string): Promise<SystemUser | null> {
    const operation = 'getSystemUser';
    const url = `systemusers(${odataGuid(systemUserId)})${query(SYSTEMUSER_QUERY)}`;
    try {
      const response = await this.dataverse.send<WireSystemUser>(target, { operation, url, headers: { ...ODATA_HEADERS, 'If-None-Match': 'null' } });
      return toSystemUserOf(response.body);
    } catch (error) {
      if (isServiceError(error) && error.status === 404) return null;
      throw error;
    }
  }

  listTeams(target: DataverseTarget): Pages<DataverseTeam> {
    return this.readTeams(target, 'listTeams', `teams${query(TEAM_QUERY)}`);
  }

  /**
   * Group teams (U4: `teamtype` 2 Entra security group, 3 Microsoft 365 group) with their roles, not
   * their `teammembership` rows: those exist only for members who signed in, so who belongs is read
   * from Entra.
   */
  listGroupTeams(target: DataverseTarget): Pages<DataverseTeam> {
    const url = `teams${query({ $select: TEAM_SELECT.join(','), $filter: 'teamtype eq 2 or teamtype eq 3', $expand: 'teamroles_association($select=roleid)' })}`;
    return this.readTeams(target, 'listGroupTeams', url);
  }

  async *listTeamsOfUser(target: DataverseTarget, systemUserId: string): Pages<DataverseTeam> {
    const url = `systemusers(${odataGuid(systemUserId)})/teammembership_association${query(TEAM_QUERY)}`;
    try {
      yield* this.readTeams(target, 'listTeamsOfUser', url);
    } catch (error) {
      if (isServiceError(error) && error.status === 404) return;
      throw error;
    }
  }

  async *listRoles(target: DataverseTarget): Pages<SecurityRole> {
    const url = `roles${query({ $select: ROLE_SELECT.join(',') })}`;
    for await (const page of this.dataverse.pages<WireRole>(target, 'listRoles', url, COLLECTION_HEADERS)) yield page.map(toRole);
  }

  async *listBusinessUnits(target: DataverseTarget): Pages<BusinessUnit> {
    const url = `businessunits${query({ $select: BUSINESSUNIT_SELECT.join(',') })}`;
    for await (const page of this.dataverse.pages<WireBusinessUnit>(target, 'listBusinessUnits', url, COLLECTION_HEADERS)) yield page.map(toBusinessUnit);
  }

  async getOrganizationSettings(target: DataverseTarget): Promise<OrganizationSettings> {
    const operation = 'getOrganizationSettings';
    const url = `organizations${query({ $select: 'organizationid,orgdborgsettings' })}`;
    const response = await this.dataverse.send<ODataCollection<WireOrganization>>(target, { operation, url, headers: ODATA_HEADERS });
    const organization = this.dataverse.collectionOf(target, operation, response)[0];
    if (!organization) throw this.dataverse.invalidResponse(target, operation, response.status, 'no organization record');
    return parseOrgDbOrgSettings(organization.orgdborgsettings);
  }

  // ── Writes ──────────────────────────────────────────────────────────────────────────────────

  async updateSystemUser(target: DataverseTarget, systemUserId: string, update: SystemUserUpdate): Promise<void> {
    const body = toSystemUserPatch(update);
    if (Object.keys(body).length === 0) return;
    await this.dataverse.send(target, {
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
    const response = await this.dataverse.send(target, {
      operation,
      method: 'POST',
      url: 'systemusers',
      headers: ODATA_HEADERS,
      body: { applicationid: odataGuid(applicationId), 'businessunitid@odata.bind': `/businessunits(${odataGuid(businessUnitId)})` },
    });
    const entityId = response.headers.get('OData-EntityId') ?? '';
    const match = /systemusers\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)\s*$/i.exec(entityId);
    if (!match) throw this.dataverse.invalidResponse(target, operation, response.status, 'the answer carries no OData-EntityId of the new systemuser');
    return match[1]!.toLowerCase();
  }

  /** Associates the role with the row (`systemuserroles_association/$ref`). */
  async assignRole(target: DataverseTarget, systemUserId: string, roleId: string): Promise<void> {
    const operation = 'assignRole';
    await this.dataverse.send(target, {
      operation,
      method: 'POST',
      url: `systemusers(${odataGuid(systemUserId)})/systemuserroles_association/$ref`,
      headers: ODATA_HEADERS,
      body: { '@odata.id': `${this.dataverse.apiRoot(target, operation)}roles(${odataGuid(roleId)})` },
    });
  }

  // ── Conversions ─────────────────────────────────────────────────────────────────────────────

  private async findSystemUser(target: DataverseTarget, operation: string, filter: string): Promise<SystemUser | null> {
    const url = `systemusers${query({ $select: SYSTEMUSER_QUERY.$select, $filter: filter, $expand: SYSTEMUSER_QUERY.$expand })}`;
    for await (const page of this.dataverse.pages<WireSystemUser>(target, operation, url, EXPANDED_COLLECTION_HEADERS)) {
      const first = page[0];
      if (first) return toSystemUserOf(first);
    }
    return null;
  }

  private async *readTeams(target: DataverseTarget, operation: string, url: string): Pages<DataverseTeam> {
    for await (const page of this.dataverse.pages<WireTeam>(target, operation, url, EXPANDED_COLLECTION_HEADERS)) {
      const teams = page.map((wire) =>
        toTeam(wire, roleIdsOf(wire.teamroles_association), distinct((wire.teammembership_association ?? []).map((m) => m.systemuserid.toLowerCase()))),
      );
      yield teams;
    }
  }
}

/**
 * A row with its expanded roles. A single-level `$expand` of a collection is never paged: the array
 * is complete (up to 5,000 related rows), and the `<navigation>@odata.nextLink` Dataverse puts on
 * each row of a paged query carries no paging information — following it would return the same
 * rows again, one request per row (R1, SPEC §8; learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables).
 * So it is never followed, and ids are kept once.
 */
function changeOf<W, T>(row: WireChange<W>, convert: (row: W) => T): DeltaEntry<T> {
  return isDeletedEntity(row) ? { kind: 'removed', id: String(row.id ?? '').toLowerCase() } : { kind: 'upsert', item: convert(row) };
}

function toSystemUserOf(wire: WireSystemUser): SystemUser {
  return toSystemUser(wire, distinct(roleIdsOf(wire.systemuserroles_association)));
}

function distinct(ids: string[]): string[] {
  return [...new Set(ids)];
}
