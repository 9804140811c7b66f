import type { BusinessUnit, DataverseTeam, OrganizationSettings, SecurityRole, SystemUser } from '../../domain/model.js';
import type { SystemUserUpdate } from './port.js';

/**
 * Dataverse Web API v9.2 wire records (only the columns Steward selects) and their conversion to
 * and from the domain model. Nothing outside the gateway sees these names.
 */

/** `systemuserroles_association($select=roleid)` items, and any nested collection's paging link. */
export interface WireRoleRef {
  roleid: string;
}

export interface WireSystemUser {
  systemuserid: string;
  domainname?: string | null;
  azureactivedirectoryobjectid?: string | null;
  applicationid?: string | null;
  accessmode?: number | null;
  isdisabled?: boolean | null;
  islicensed?: boolean | null;
  fullname?: string | null;
  _businessunitid_value?: string | null;
  firstname?: string | null;
  lastname?: string | null;
  title?: string | null;
  address1_telephone1?: string | null;
  mobilephone?: string | null;
  address1_line1?: string | null;
  address1_city?: string | null;
  address1_stateorprovince?: string | null;
  address1_country?: string | null;
  systemuserroles_association?: WireRoleRef[];
  'systemuserroles_association@odata.nextLink'?: string;
}

export const SYSTEMUSER_SELECT = [
  'systemuserid',
  'domainname',
  'azureactivedirectoryobjectid',
  'applicationid',
  'accessmode',
  'isdisabled',
  'islicensed',
  'fullname',
  '_businessunitid_value',
  // P1 profile fields
  'firstname',
  'lastname',
  'title',
  'address1_telephone1',
  'mobilephone',
  'address1_line1',
  'address1_city',
  'address1_stateorprovince',
  'address1_country',
] as const;

/** A row of a change-tracking answer: a record, or a deleted one (`$deletedEntity`: `id` and `reason`). */
export type WireChange<T> = T & { '@odata.context'?: string; id?: string; reason?: string };

export const isDeletedEntity = (row: WireChange<unknown>) => typeof row['@odata.context'] === 'string' && row['@odata.context'].endsWith('/$deletedEntity');

/** A row of `systemuserrolescollection`, the intersect table of `systemuserroles_association`. */
export interface WireSystemUserRole {
  systemuserroleid: string;
  systemuserid: string;
  roleid: string;
}

export const SYSTEMUSERROLE_SELECT = ['systemuserroleid', 'systemuserid', 'roleid'] as const;

export const SYSTEMUSER_EXPAND = 'systemuserroles_association($select=roleid)';

export interface WireTeam {
  teamid: string;
  name?: string | null;
  teamtype?: number | null;
  azureactivedirectoryobjectid?: string | null;
  membershiptype?: number | null;
  teamroles_association?: WireRoleRef[];
  'teamroles_association@odata.nextLink'?: string;
  teammembership_association?: { systemuserid: string }[];
  'teammembership_association@odata.nextLink'?: string;
}

/** U4: a group team (`teamtype` 2 or 3) names its Entra group and which of its people the team takes. */
export const TEAM_SELECT = ['teamid', 'name', 'teamtype', 'azureactivedirectoryobjectid', 'membershiptype'] as const;
export const TEAM_EXPAND = 'teamroles_association($select=roleid),teammembership_association($select=systemuserid)';

export interface WireRole {
  roleid: string;
  name?: string | null;
  _businessunitid_value?: string | null;
}

export const ROLE_SELECT = ['roleid', 'name', '_businessunitid_value'] as const;

export interface WireBusinessUnit {
  businessunitid: string;
  name?: string | null;
  _parentbusinessunitid_value?: string | null;
}

export const BUSINESSUNIT_SELECT = ['businessunitid', 'name', '_parentbusinessunitid_value'] as const;

export interface WireOrganization {
  organizationid: string;
  orgdborgsettings?: string | null;
}

const text = (value: string | null | undefined): string | null => (typeof value === 'string' ? value : null);
const id = (value: string | null | undefined): string | null => (typeof value === 'string' && value.length > 0 ? value.toLowerCase() : null);

export function toSystemUser(wire: WireSystemUser, roleIds: string[]): SystemUser {
  return {
    id: wire.systemuserid.toLowerCase(),
    domainName: text(wire.domainname),
    entraObjectId: id(wire.azureactivedirectoryobjectid),
    applicationId: id(wire.applicationid),
    accessMode: typeof wire.accessmode === 'number' ? wire.accessmode : 0,
    isDisabled: wire.isdisabled === true,
    isLicensed: wire.islicensed === true,
    fullName: text(wire.fullname),
    businessUnitId: id(wire._businessunitid_value),
    profile: {
      domainname: text(wire.domainname),
      firstname: text(wire.firstname),
      lastname: text(wire.lastname),
      title: text(wire.title),
      address1_telephone1: text(wire.address1_telephone1),
      mobilephone: text(wire.mobilephone),
      address1_line1: text(wire.address1_line1),
      address1_city: text(wire.address1_city),
      address1_stateorprovince: text(wire.address1_stateorprovince),
      address1_country: text(wire.address1_country),
    },
    roleIds,
  };
}

export function roleIdsOf(roles: readonly WireRoleRef[] | undefined): string[] {
  return (roles ?? []).map((r) => r.roleid.toLowerCase());
}

/** The columns a `SystemUserUpdate` writes (A1: `accessmode`; E1: `isdisabled`). */
export function toSystemUserPatch(update: SystemUserUpdate): Partial<Pick<WireSystemUser, 'accessmode' | 'isdisabled'>> {
  const patch: Partial<Pick<WireSystemUser, 'accessmode' | 'isdisabled'>> = {};
  if (update.accessMode !== undefined) patch.accessmode = update.accessMode;
  if (update.disabled !== undefined) patch.isdisabled = update.disabled;
  return patch;
}

export function toTeam(wire: WireTeam, roleIds: string[], memberIds: string[]): DataverseTeam {
  return {
    id: wire.teamid.toLowerCase(),
    name: text(wire.name) ?? '',
    roleIds,
    memberIds,
    teamType: typeof wire.teamtype === 'number' ? wire.teamtype : 0,
    groupId: text(wire.azureactivedirectoryobjectid)?.toLowerCase() ?? null,
    membershipType: typeof wire.membershiptype === 'number' ? wire.membershiptype : 0,
  };
}

export function toRole(wire: WireRole): SecurityRole {
  return { id: wire.roleid.toLowerCase(), name: text(wire.name) ?? '', businessUnitId: id(wire._businessunitid_value) };
}

export function toBusinessUnit(wire: WireBusinessUnit): BusinessUnit {
  return { id: wire.businessunitid.toLowerCase(), name: text(wire.name) ?? '', parentId: id(wire._parentbusinessunitid_value) };
}

/**
 * `organizations.orgdborgsettings` is an XML document of settings (`<OrgSettings><Name>value</Name>…`).
 * A setting that is absent has its default: `AllowRoleAssignmentOnDisabledUsers` defaults to false (E5).
 */
export function parseOrgDbOrgSettings(xml: string | null | undefined): OrganizationSettings {
  const value = readOrgSetting(xml, 'AllowRoleAssignmentOnDisabledUsers');
  return { allowRoleAssignmentOnDisabledUsers: value !== null && value.trim().toLowerCase() === 'true' };
}

export function readOrgSetting(xml: string | null | undefined, name: string): string | null {
  if (!xml) return null;
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`, 'i').exec(xml);
  return match ? match[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : null;
}
