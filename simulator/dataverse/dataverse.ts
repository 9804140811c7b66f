import { randomUUID } from 'node:crypto';
import type { SimContext } from '../core/context.js';
import { ORGANIZATION_COLUMNS, ORGANIZATION_DEFAULTS, ROLE_COLUMNS, ROLE_DEFAULTS, SYSTEMUSER_COLUMNS, SYSTEMUSER_DEFAULTS } from './schema.js';
import type { FixtureEnvironment, FixtureSystemUser } from '../core/fixture.js';
import { stableId } from '../core/generate.js';
import { json, type SimHandler, type SimRequest, type SimResponse } from '../core/host.js';
import {
  ODataQueryError,
  QUERY_ERROR_CODE,
  compileFilter,
  filterProperties,
  parseExpand,
  parseFilter,
  parseSelect,
  type ExpandItem,
  type RowAccess,
} from './odata-query.js';

/**
 * The Dataverse Web API v9.2 of one environment (`{instance}/api/data/v9.2/`): `systemusers`
 * (query, get, create an application user, update), `roles`, `teams`, `businessunits`,
 * `organizations`, the `systemuserroles_association` `$ref` and `WhoAmI`.
 *
 * Wire behaviour kept from the real service: `Prefer: odata.maxpagesize` (up to 5,000, larger values
 * ignored) answered with `Preference-Applied`; an absolute `@odata.nextLink` carrying a `$skiptoken`
 * paging cookie (the page size is not in the link: the client sends `Prefer` again); `$top` instead
 * of paging; the primary key always returned with `$select`; `@odata.etag` on every record (nested
 * ones too); `$skip` refused; errors as `{ "error": { "code": "0x…", "message" } }`.
 * Mutations change the environment of `ctx.state` in place.
 */

const API = '/api/data/v9.2';
const MAX_PAGE_SIZE = 5000;
const CREATED_ON = '2024-01-15T09:00:00Z';

/** Dataverse error codes (https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes). */
export const DataverseErrorCode = {
  /** ObjectDoesNotExist: `{entity} With Id = {id} Does Not Exist`. */
  notFound: '0x80040217',
  /** Query syntax, unknown property, unknown query option (OData layer). */
  query: QUERY_ERROR_CODE,
  /** Resource not found for the segment. */
  segment: '0x8006088a',
  /** InvalidArgument. */
  invalidArgument: '0x80040203',
  /** DuplicateRecord: a record with matching key values already exists. */
  duplicate: '0x80040237',
  /** The user is disabled: no security role can be given (E5). */
  userDisabled: '0x80040225',
} as const;

const dvError = (status: number, code: string, message: string): SimResponse =>
  json(status, { error: { code, message } }, { 'OData-Version': '4.0' });

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const same = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

type Row = Record<string, unknown>;

interface Navigation {
  target: () => Entity;
  related(row: Row): Row[];
}

interface Entity {
  set: string;
  logical: string;
  key: string;
  columns: readonly string[];
  rows(): Row[];
  value(row: Row, column: string): unknown;
  /** Single-valued navigation properties usable in `$filter` (`parentbusinessunitid eq null`). */
  lookups: Record<string, string>;
  collections: Record<string, Navigation>;
}

const xmlEscape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The settings a fresh organization carries in `orgdborgsettings` (as in the recorded response). */
const BASE_ORG_SETTINGS: [string, string][] = [
  ['IsCommandingModifiedOnEnabled', 'true'],
  ['IsLinkToFabricEnabled', 'true'],
  ['IsFabricVirtualTableEnabled', 'true'],
  ['CanCreateApplicationStubUser', 'false'],
  ['EnableActivitiesTimeLinePerfImprovement', '1'],
  ['EnableActivitiesFeatures', '1'],
  ['IsRetentionEnabled', 'true'],
  ['IsArchivalEnabled', 'true'],
];

export function orgDbOrgSettingsXml(orgSettings: Record<string, unknown>): string {
  const settings = new Map(BASE_ORG_SETTINGS);
  for (const [name, value] of Object.entries(orgSettings)) {
    if (!/^[A-Za-z_][\w]*$/.test(name)) continue;
    settings.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return `<OrgSettings>${[...settings].map(([n, v]) => `<${n}>${xmlEscape(v)}</${n}>`).join('')}</OrgSettings>`;
}

/** Dataverse for one environment of the fixture. */
export function createDataverseHandler(ctx: SimContext, environment: FixtureEnvironment): SimHandler {
  const envId = environment.id;
  const orgId = stableId('organization', envId);
  const orgName = `org${envId.replace(/-/g, '').slice(0, 8)}`;
  const systemId = stableId('system-user', envId);
  const base = () => ctx.urls.dataverse[envId] ?? '';

  // Row versions: a row's version changes whenever its content does (also when BAP's addUser or a
  // test edits the state), so `@odata.etag` / `versionnumber` behave like Dataverse's rowversion.
  let counter = 1_000_000 + (Number.parseInt(orgId.slice(0, 4), 16) % 1000) * 1000;
  const versions = new WeakMap<object, { snapshot: string; version: number; modifiedOn: string }>();
  const versionOf = (row: object, source: unknown = row) => {
    const snapshot = JSON.stringify(source);
    const known = versions.get(row);
    if (known && known.snapshot === snapshot) return known;
    const entry = { snapshot, version: ++counter, modifiedOn: known ? new Date().toISOString().replace(/\.\d+Z$/, 'Z') : CREATED_ON };
    versions.set(row, entry);
    return entry;
  };
  /**
   * The columns every record has, answered alike for every entity; `otherwise` answers the rest.
   * (An entity that answers one of them differently has its own case first.)
   */
  const recordColumn = (row: Row, column: string, otherwise: () => unknown): unknown => {
    switch (column) {
      case 'organizationid':
        return orgId;
      case 'createdon':
        return CREATED_ON;
      case 'modifiedon':
        return versionOf(row).modifiedOn;
      case 'versionnumber':
        return versionOf(row).version;
      default:
        return otherwise();
    }
  };


  const syntheticBu = { businessunitid: stableId('business-unit', envId), name: orgName, parentbusinessunitid: null };
  const businessUnits = (): Row[] => (environment.businessunits.length > 0 ? environment.businessunits : [syntheticBu]) as Row[];
  const rootBusinessUnitId = () => {
    const units = businessUnits();
    return String((units.find((b) => !b.parentbusinessunitid) ?? units[0])!.businessunitid);
  };
  const orgRow: Row = {};

  const systemusers: Entity = {
    set: 'systemusers',
    logical: 'systemuser',
    key: 'systemuserid',
    columns: SYSTEMUSER_COLUMNS,
    rows: () => environment.systemusers as unknown as Row[],
    lookups: { businessunitid: '_businessunitid_value', parentsystemuserid: '_parentsystemuserid_value' },
    collections: {
      systemuserroles_association: {
        target: () => roles,
        related: (row) => {
          const ids = (row.roles as string[] | undefined) ?? [];
          return (environment.roles as Row[]).filter((r) => ids.some((id) => same(id, r.roleid)));
        },
      },
      teammembership_association: {
        target: () => teams,
        related: (row) => (environment.teams as Row[]).filter((t) => ((t.members as string[]) ?? []).some((m) => same(m, row.systemuserid))),
      },
    },
    value: (row, column) => {
      const id = String(row.systemuserid);
      switch (column) {
        case 'systemuserid':
          return id;
        case 'ownerid':
          return id;
        case '_businessunitid_value':
          return (row.businessunitid as string | undefined) ?? rootBusinessUnitId();
        case 'fullname':
          return row.fullname ?? ([row.firstname, row.lastname].filter((p) => typeof p === 'string' && p).join(' ') || null);
        case 'yomifullname':
          return row.fullname ?? null;
        case 'windowsliveid':
          return row.domainname ?? null;
        case 'address1_addressid':
          return stableId(id, 'address1');
        case 'address2_addressid':
          return stableId(id, 'address2');
        case '_calendarid_value':
          return stableId(id, 'calendar');
        case '_queueid_value':
          return stableId(id, 'queue');
        case '_defaultmailbox_value':
          return stableId(id, 'mailbox');
        case 'setupuser':
          return false;
        case 'isintegrationuser':
          return false;
        case 'issyncwithdirectory':
          return !!row.azureactivedirectoryobjectid && !row.applicationid;
        case 'azurestate':
          return 0;
        case 'identityid':
          return Number.parseInt(id.replace(/-/g, '').slice(0, 6), 16) % 100_000;
        case 'userlicensetype':
          return row.islicensed ? 38 : -1;
        case 'jobtitle':
        case 'yomifirstname':
        case 'yomilastname':
          return row[column] ?? null;
        default:
          return recordColumn(row, column, () => {
            if (column in row) return row[column] ?? null;
            return column in SYSTEMUSER_DEFAULTS ? SYSTEMUSER_DEFAULTS[column] : null;
          });
      }
    },
  };

  const roles: Entity = {
    set: 'roles',
    logical: 'role',
    key: 'roleid',
    columns: ROLE_COLUMNS,
    rows: () => environment.roles as Row[],
    lookups: { businessunitid: '_businessunitid_value', parentrootroleid: '_parentrootroleid_value' },
    collections: {
      systemuserroles_association: {
        target: () => systemusers,
        related: (row) => (environment.systemusers as unknown as Row[]).filter((u) => ((u.roles as string[]) ?? []).some((r) => same(r, row.roleid))),
      },
      teamroles_association: {
        target: () => teams,
        related: (row) => (environment.teams as Row[]).filter((t) => ((t.roles as string[]) ?? []).some((r) => same(r, row.roleid))),
      },
    },
    value: (row, column) => {
      const id = String(row.roleid);
      switch (column) {
        case 'roleid':
        case '_parentrootroleid_value':
          return id;
        case 'name':
          return row.name;
        case '_businessunitid_value':
          return (row.businessunitid as string | undefined) ?? rootBusinessUnitId();
        case 'roleidunique':
          return stableId(id, 'unique');
        case 'solutionid':
          return stableId('solution', (row.ismanaged ?? true) ? 'System' : 'Active');
        case 'ismanaged':
          return row.ismanaged ?? true;
        case '_createdby_value':
        case '_modifiedby_value':
          return systemId;
        default:
          return recordColumn(row, column, () => {
            if (column in row) return row[column] ?? null;
            return column in ROLE_DEFAULTS ? ROLE_DEFAULTS[column] : null;
          });
      }
    },
  };

  const teams: Entity = {
    set: 'teams',
    logical: 'team',
    key: 'teamid',
    columns: [
      'teamid', 'name', '_businessunitid_value', 'teamtype', 'isdefault', 'azureactivedirectoryobjectid', 'membershiptype',
      'description', 'emailaddress', '_administratorid_value', '_queueid_value', 'organizationid', 'systemmanaged',
      'createdon', 'modifiedon', 'versionnumber',
    ],
    rows: () => environment.teams as Row[],
    lookups: { businessunitid: '_businessunitid_value', administratorid: '_administratorid_value' },
    collections: {
      teamroles_association: {
        target: () => roles,
        related: (row) => (environment.roles as Row[]).filter((r) => ((row.roles as string[]) ?? []).some((id) => same(id, r.roleid))),
      },
      teammembership_association: {
        target: () => systemusers,
        related: (row) => (environment.systemusers as unknown as Row[]).filter((u) => ((row.members as string[]) ?? []).some((id) => same(id, u.systemuserid))),
      },
    },
    value: (row, column) => {
      switch (column) {
        case '_businessunitid_value':
          return (row.businessunitid as string | undefined) ?? rootBusinessUnitId();
        case 'teamtype':
          return row.teamtype ?? 0;
        case 'membershiptype':
          return row.membershiptype ?? 0;
        case 'isdefault':
        case 'systemmanaged':
          return row[column] ?? false;
        case '_administratorid_value':
          return systemId;
        default:
          return recordColumn(row, column, () => row[column] ?? null);
      }
    },
  };

  const businessunits: Entity = {
    set: 'businessunits',
    logical: 'businessunit',
    key: 'businessunitid',
    columns: [
      'businessunitid', 'name', '_parentbusinessunitid_value', 'isdisabled', 'divisionname', 'description', 'emailaddress',
      'websiteurl', 'costcenter', 'inheritancemask', 'organizationid', '_createdby_value', '_modifiedby_value', 'createdon',
      'modifiedon', 'versionnumber',
    ],
    rows: businessUnits,
    lookups: { parentbusinessunitid: '_parentbusinessunitid_value' },
    collections: {},
    value: (row, column) => {
      switch (column) {
        case '_parentbusinessunitid_value':
          return row.parentbusinessunitid ?? null;
        case 'isdisabled':
          return row.isdisabled ?? false;
        case 'inheritancemask':
          return 1023;
        case '_createdby_value':
        case '_modifiedby_value':
          return systemId;
        default:
          return recordColumn(row, column, () => row[column] ?? null);
      }
    },
  };

  const organizations: Entity = {
    set: 'organizations',
    logical: 'organization',
    key: 'organizationid',
    columns: ORGANIZATION_COLUMNS,
    rows: () => [orgRow],
    lookups: { basecurrencyid: '_basecurrencyid_value' },
    collections: {},
    value: (_row, column) => {
      switch (column) {
        case 'name':
          return orgName;
        case 'orgdborgsettings':
          return orgDbOrgSettingsXml(environment.orgSettings);
        case 'languagecode':
          return 1033;
        case '_basecurrencyid_value':
          return stableId(orgId, 'currency');
        case 'businessclosurecalendarid':
          return stableId(orgId, 'calendar');
        case '_defaultemailserverprofileid_value':
          return stableId(orgId, 'email-server-profile');
        case 'integrationuserid':
          return stableId(orgId, 'integration-user');
        case 'delegatedadminuserid':
          return stableId(orgId, 'delegated-admin');
        case 'supportuserid':
          return stableId(orgId, 'support-user');
        case 'systemuserid':
        case '_modifiedby_value':
          return systemId;
        // Its version moves with its settings too.
        case 'modifiedon':
          return versionOf(orgRow, environment.orgSettings).modifiedOn;
        case 'versionnumber':
          return versionOf(orgRow, environment.orgSettings).version;
        default:
          return recordColumn(orgRow, column, () => (column in ORGANIZATION_DEFAULTS ? ORGANIZATION_DEFAULTS[column] : null));
      }
    },
  };

  const entities: Record<string, Entity> = { systemusers, roles, teams, businessunits, organizations };

  // ── Query machinery ─────────────────────────────────────────────────────────────────────────

  const unknownProperty = (entity: Entity, name: string) =>
    new ODataQueryError(400, QUERY_ERROR_CODE, `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity.logical}'.`);

  const access = (entity: Entity): RowAccess<Row> => ({
    value: (row, property) => {
      if (entity.columns.includes(property) || property === entity.key) return entity.value(row, property);
      const lookup = entity.lookups[property];
      if (lookup) return entity.value(row, lookup);
      throw unknownProperty(entity, property);
    },
    collection: (row, navigation) => {
      const nav = entity.collections[navigation];
      if (!nav) throw unknownProperty(entity, navigation);
      return { rows: nav.related(row), access: access(nav.target()) as RowAccess<unknown> };
    },
  });

  const versionFor = (entity: Entity, row: Row) => (entity === organizations ? versionOf(orgRow, environment.orgSettings) : versionOf(row));

  const checkSelect = (entity: Entity, select: string[] | null) => {
    for (const column of select ?? []) {
      if (!entity.columns.includes(column)) throw unknownProperty(entity, column);
    }
  };

  const checkExpand = (entity: Entity, expand: ExpandItem[]) => {
    for (const item of expand) {
      const nav = entity.collections[item.navigation];
      if (!nav) {
        if (entity.lookups[item.navigation]) {
          throw new ODataQueryError(400, QUERY_ERROR_CODE, `Expanding the single-valued navigation property '${item.navigation}' is not simulated.`);
        }
        throw unknownProperty(entity, item.navigation);
      }
      checkSelect(nav.target(), item.select);
      checkExpand(nav.target(), item.expand);
      if (item.filter) validateFilter(nav.target(), item.filter);
    }
  };

  const validateFilter = (entity: Entity, text: string) => {
    for (const property of filterProperties(parseFilter(text))) {
      if (!entity.columns.includes(property) && !entity.lookups[property] && !entity.collections[property] && property !== entity.key) {
        throw unknownProperty(entity, property);
      }
    }
  };

  const shape = (entity: Entity, row: Row, select: string[] | null, expand: ExpandItem[]): Row => {
    const out: Row = { '@odata.etag': `W/"${versionFor(entity, row).version}"` };
    for (const column of select ?? entity.columns) out[column] = entity.value(row, column);
    if (!(entity.key in out)) out[entity.key] = entity.value(row, entity.key);
    for (const item of expand) {
      const nav = entity.collections[item.navigation]!;
      const target = nav.target();
      let related = nav.related(row);
      if (item.filter) related = related.filter(compileFilter(item.filter, access(target)));
      if (item.top !== null) related = related.slice(0, item.top);
      out[item.navigation] = related.map((r) => shape(target, r, item.select, item.expand));
    }
    return out;
  };

  const contextSuffix = (select: string[] | null, expand: ExpandItem[]): string => {
    const parts = [...(select ?? []), ...expand.map((e) => `${e.navigation}(${contextSuffix(e.select, e.expand).slice(1, -1)})`)];
    return parts.length > 0 ? `(${parts.join(',')})` : '';
  };

  const pageSizePreference = (request: SimRequest): number | undefined => {
    const header = request.headers.prefer;
    const text = Array.isArray(header) ? header.join(',') : header ?? '';
    const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
    if (!match) return undefined;
    const size = Number.parseInt(match[1]!, 10);
    // "The service ignores max page size requests larger than 5,000."
    return size >= 1 && size <= MAX_PAGE_SIZE ? size : undefined;
  };

  const skipToken = (entity: Entity, lastId: string, firstId: string, page: number) => {
    const paging = `<cookie page="${page}"><${entity.key} last="{${lastId.toUpperCase()}}" first="{${firstId.toUpperCase()}}" /></cookie>`;
    return `<cookie pagenumber="${page + 1}" pagingcookie="${encodeURIComponent(paging)}" istracking="False" />`;
  };

  const readSkipToken = (token: string, entity: Entity, rows: Row[], pageSize: number): number => {
    const pageNumber = /pagenumber="(\d+)"/.exec(token);
    const cookie = /pagingcookie="([^"]*)"/.exec(token);
    if (!pageNumber || !cookie) throw new ODataQueryError(400, QUERY_ERROR_CODE, 'The $skiptoken is not a valid paging cookie.');
    let decoded = cookie[1]!;
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      throw new ODataQueryError(400, QUERY_ERROR_CODE, 'The $skiptoken is not a valid paging cookie.');
    }
    const last = /last="\{([0-9a-f-]{36})\}"/i.exec(decoded);
    if (last) {
      const index = rows.findIndex((r) => same(entity.value(r, entity.key), last[1]));
      if (index !== -1) return index + 1;
    }
    return (Number.parseInt(pageNumber[1]!, 10) - 1) * pageSize;
  };

  /** A collection answer: `entity` rows (all, or those of a navigation) with the query options applied. */
  const collection = (request: SimRequest, entity: Entity, source: Row[], pathForLinks: string): SimResponse => {
    const params = request.url.searchParams;
    for (const name of params.keys()) {
      if (name === '$skip') throw new ODataQueryError(400, QUERY_ERROR_CODE, 'The query parameter $skip is not supported.');
      if (name.startsWith('$') && !['$select', '$filter', '$expand', '$top', '$skiptoken', '$orderby', '$count'].includes(name)) {
        throw new ODataQueryError(400, QUERY_ERROR_CODE, `The query parameter ${name} is not supported.`);
      }
    }
    const select = parseSelect(params.get('$select'));
    checkSelect(entity, select);
    const expand = parseExpand(params.get('$expand'));
    checkExpand(entity, expand);
    const filterText = params.get('$filter');
    let rows = source;
    if (filterText) {
      validateFilter(entity, filterText);
      rows = rows.filter(compileFilter(filterText, access(entity)));
    }
    const orderby = params.get('$orderby');
    if (orderby) {
      const [column, direction] = orderby.trim().split(/\s+/);
      if (!column || !entity.columns.includes(column)) throw unknownProperty(entity, column ?? '');
      const sign = direction?.toLowerCase() === 'desc' ? -1 : 1;
      rows = [...rows].sort((a, b) => {
        const x = entity.value(a, column) as string | number | null;
        const y = entity.value(b, column) as string | number | null;
        if (x === y) return 0;
        if (x === null) return -sign;
        if (y === null) return sign;
        return x < y ? -sign : sign;
      });
    }
    const headers: Record<string, string> = { 'OData-Version': '4.0' };
    const topText = params.get('$top');
    let start = 0;
    let page: Row[];
    let nextLink: string | undefined;
    if (topText !== null) {
      const top = Number.parseInt(topText, 10);
      if (!Number.isInteger(top) || top < 0) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Invalid value '${topText}' for $top.`);
      page = rows.slice(0, Math.min(top, MAX_PAGE_SIZE));
    } else {
      const preferred = pageSizePreference(request);
      const pageSize = preferred ?? ctx.paging.dataverseDefault;
      if (preferred !== undefined) headers['Preference-Applied'] = `odata.maxpagesize=${preferred}`;
      const token = params.get('$skiptoken');
      if (token) start = readSkipToken(token, entity, rows, pageSize);
      page = rows.slice(start, start + pageSize);
      if (start + pageSize < rows.length && page.length > 0) {
        const query = [...params.entries()]
          .filter(([name]) => name !== '$skiptoken')
          .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
        const pageNumber = Math.floor(start / pageSize) + 1;
        const first = String(entity.value(page[0]!, entity.key));
        const last = String(entity.value(page[page.length - 1]!, entity.key));
        query.push(`$skiptoken=${encodeURIComponent(skipToken(entity, last, first, pageNumber))}`);
        nextLink = `${base()}${API}/${pathForLinks}?${query.join('&')}`;
      }
    }
    const body: Row = {
      '@odata.context': `${base()}${API}/$metadata#${entity.set}${contextSuffix(select, expand)}`,
      value: page.map((row) => shape(entity, row, select, expand)),
    };
    if (params.get('$count') === 'true') body['@odata.count'] = rows.length;
    if (nextLink) body['@odata.nextLink'] = nextLink;
    return json(200, body, headers);
  };

  const single = (request: SimRequest, entity: Entity, row: Row): SimResponse => {
    const params = request.url.searchParams;
    const select = parseSelect(params.get('$select'));
    checkSelect(entity, select);
    const expand = parseExpand(params.get('$expand'));
    checkExpand(entity, expand);
    const body: Row = {
      '@odata.context': `${base()}${API}/$metadata#${entity.set}${contextSuffix(select, expand)}/$entity`,
      ...shape(entity, row, select, expand),
    };
    return json(200, body, { 'OData-Version': '4.0' });
  };

  const notFound = (entity: Entity, id: string) => dvError(404, DataverseErrorCode.notFound, `${entity.logical} With Id = ${id} Does Not Exist`);

  const find = (entity: Entity, id: string) => entity.rows().find((row) => same(entity.value(row, entity.key), id));

  const entityId = (entity: Entity, id: string) => ({ 'OData-Version': '4.0', 'OData-EntityId': `${base()}${API}/${entity.set}(${id})` });

  // ── Mutations ───────────────────────────────────────────────────────────────────────────────

  const P1_STRINGS = [
    'domainname', 'firstname', 'lastname', 'title', 'address1_telephone1', 'mobilephone', 'address1_line1', 'address1_city',
    'address1_stateorprovince', 'address1_country', 'fullname', 'internalemailaddress',
  ];

  const refuseUnknown = (entity: Entity, body: Row, allowed: string[]) => {
    for (const name of Object.keys(body)) {
      if (allowed.includes(name)) continue;
      const known = entity.columns.includes(name) || name.endsWith('@odata.bind');
      if (!known) {
        return dvError(
          400,
          QUERY_ERROR_CODE,
          `The property '${name}' does not exist on type 'Microsoft.Dynamics.CRM.${entity.logical}'. Make sure to only use property names that are defined by the type.`,
        );
      }
      return dvError(400, DataverseErrorCode.invalidArgument, `The property '${name}' of '${entity.logical}' cannot be set through this request.`);
    }
    return null;
  };

  const patchSystemUser = (request: SimRequest, id: string): SimResponse => {
    const row = find(systemusers, id) as (FixtureSystemUser & Row) | undefined;
    // Without `If-Match: *` a PATCH is an upsert in Dataverse; a systemuser cannot be created that
    // way, so both cases answer 404 here.
    if (!row) return notFound(systemusers, id);
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return dvError(400, DataverseErrorCode.invalidArgument, 'The request body must be a JSON object.');
    }
    const patch = body as Row;
    const refused = refuseUnknown(systemusers, patch, ['accessmode', 'isdisabled', ...P1_STRINGS]);
    if (refused) return refused;
    if ('accessmode' in patch) {
      const mode = patch.accessmode;
      if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 5) {
        return dvError(
          400,
          DataverseErrorCode.invalidArgument,
          `A validation error occurred. The value ${JSON.stringify(mode)} of 'accessmode' on record of type 'systemuser' is outside the valid range. Accepted Values: 0,1,2,3,4,5`,
        );
      }
    }
    if ('isdisabled' in patch && typeof patch.isdisabled !== 'boolean') {
      return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(patch.isdisabled)}' to the expected type 'Edm.Boolean'.`);
    }
    for (const name of P1_STRINGS) {
      if (name in patch && patch[name] !== null && typeof patch[name] !== 'string') {
        return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(patch[name])}' to the expected type 'Edm.String'.`);
      }
    }
    Object.assign(row, patch);
    return { status: 204, headers: entityId(systemusers, String(row.systemuserid)) };
  };

  const bindId = (value: unknown, set: string): string | null => {
    if (typeof value !== 'string') return null;
    const match = new RegExp(`(?:^|/)${set}\\(([0-9a-fA-F-]{36})\\)$`).exec(value.trim());
    return match && GUID.test(match[1]!) ? match[1]! : null;
  };

  const createSystemUser = (request: SimRequest): SimResponse => {
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return dvError(400, DataverseErrorCode.invalidArgument, 'The request body must be a JSON object.');
    }
    const input = body as Row;
    const refused = refuseUnknown(systemusers, input, ['applicationid', 'businessunitid@odata.bind', 'firstname', 'lastname', 'domainname', 'internalemailaddress']);
    if (refused) return refused;
    const applicationId = input.applicationid;
    if (applicationId === undefined || applicationId === null) {
      return dvError(
        400,
        DataverseErrorCode.invalidArgument,
        'A systemuser is created either by the directory sync or as an application user (applicationid); this request has no applicationid.',
      );
    }
    if (typeof applicationId !== 'string' || !GUID.test(applicationId)) {
      return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(applicationId)}' to the expected type 'Edm.Guid'.`);
    }
    if (!('businessunitid@odata.bind' in input)) {
      return dvError(400, DataverseErrorCode.invalidArgument, "Attribute 'businessunitid' cannot be NULL: bind a business unit with 'businessunitid@odata.bind'.");
    }
    const businessUnitId = bindId(input['businessunitid@odata.bind'], 'businessunits');
    if (!businessUnitId) {
      return dvError(400, QUERY_ERROR_CODE, `The value '${String(input['businessunitid@odata.bind'])}' of 'businessunitid@odata.bind' is not a valid entity reference.`);
    }
    if (!find(businessunits, businessUnitId)) return notFound(businessunits, businessUnitId);
    if (environment.systemusers.some((u) => same(u.applicationid, applicationId))) {
      return dvError(412, DataverseErrorCode.duplicate, `A record with matching key values already exists: an application user with applicationid ${applicationId.toLowerCase()} exists.`);
    }
    const lastname = typeof input.lastname === 'string' && input.lastname ? input.lastname : applicationId.toLowerCase();
    const address = `${applicationId.toLowerCase()}@${ctx.state.tenant.defaultDomain}`;
    const row = {
      systemuserid: randomUUID(),
      domainname: typeof input.domainname === 'string' ? input.domainname : address,
      azureactivedirectoryobjectid: stableId('service-principal', ctx.state.tenant.id, applicationId.toLowerCase()),
      applicationid: applicationId.toLowerCase(),
      accessmode: 4,
      isdisabled: false,
      islicensed: false,
      firstname: '#',
      lastname,
      fullname: `# ${lastname}`,
      title: null,
      internalemailaddress: typeof input.internalemailaddress === 'string' ? input.internalemailaddress : address,
      mobilephone: null,
      address1_telephone1: null,
      address1_line1: null,
      address1_city: null,
      address1_stateorprovince: null,
      address1_country: null,
      roles: [] as string[],
      businessunitid: businessUnitId,
    };
    environment.systemusers.push(row as FixtureSystemUser);
    return { status: 204, headers: entityId(systemusers, row.systemuserid) };
  };

  const associateRole = (request: SimRequest, userId: string): SimResponse => {
    const row = find(systemusers, userId) as (FixtureSystemUser & Row) | undefined;
    if (!row) return notFound(systemusers, userId);
    const reference = (request.body as Row | undefined)?.['@odata.id'];
    const roleId = bindId(reference, 'roles');
    if (!roleId) {
      return dvError(400, QUERY_ERROR_CODE, `The '@odata.id' value '${String(reference)}' is not a valid reference to a role.`);
    }
    const role = find(roles, roleId);
    if (!role) return notFound(roles, roleId);
    const allow = /<AllowRoleAssignmentOnDisabledUsers>\s*true\s*<\/AllowRoleAssignmentOnDisabledUsers>/i.test(orgDbOrgSettingsXml(environment.orgSettings));
    if (row.isdisabled && !allow) {
      return dvError(
        400,
        DataverseErrorCode.userDisabled,
        `The user with SystemUserId = ${String(row.systemuserid)} is disabled. Security roles cannot be assigned to a disabled user unless AllowRoleAssignmentOnDisabledUsers is enabled in OrgDBOrgSettings.`,
      );
    }
    const current = row.roles ?? [];
    if (!current.some((id) => same(id, role.roleid))) row.roles = [...current, String(role.roleid)];
    return { status: 204, headers: { 'OData-Version': '4.0' } };
  };

  const whoAmI = (request: SimRequest): SimResponse =>
    json(
      200,
      {
        '@odata.context': `${base()}${API}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: rootBusinessUnitId(),
        UserId: stableId('application-user', envId, request.clientId ?? 'anonymous'),
        OrganizationId: orgId,
      },
      { 'OData-Version': '4.0' },
    );

  // ── Routing ─────────────────────────────────────────────────────────────────────────────────

  const methodNotAllowed = (method: string) => dvError(405, QUERY_ERROR_CODE, `The requested resource does not support http method '${method}'.`);

  const route = (request: SimRequest): SimResponse => {
    if (!request.path.startsWith(`${API}/`)) {
      return dvError(404, DataverseErrorCode.segment, `Resource not found for the segment '${request.path.split('/').filter(Boolean)[0] ?? ''}'.`);
    }
    const rest = request.path.slice(API.length + 1);
    if (/^WhoAmI(\(\))?$/.test(rest)) return request.method === 'GET' ? whoAmI(request) : methodNotAllowed(request.method);
    const match = /^([A-Za-z_]\w*)(?:\(([^)]*)\))?(?:\/([A-Za-z_]\w*))?(\/\$ref)?$/.exec(rest);
    if (!match) return dvError(404, DataverseErrorCode.segment, `Resource not found for the segment '${rest}'.`);
    const [, set, rawKey, navigation, ref] = match;
    const entity = entities[set!];
    if (!entity) return dvError(404, DataverseErrorCode.segment, `Resource not found for the segment '${set}'.`);
    if (rawKey === undefined) {
      if (navigation || ref) return dvError(400, QUERY_ERROR_CODE, `Bad Request - Error in query syntax.`);
      if (request.method === 'GET') return collection(request, entity, entity.rows(), entity.set);
      if (request.method === 'POST' && entity === systemusers) return createSystemUser(request);
      return methodNotAllowed(request.method);
    }
    const key = rawKey.trim().replace(/^\{|\}$/g, '');
    if (!GUID.test(key)) return dvError(400, QUERY_ERROR_CODE, `Bad Request - Error in query syntax: '${rawKey}' is not a valid key.`);
    if (!navigation) {
      if (request.method === 'GET') {
        const row = find(entity, key);
        return row ? single(request, entity, row) : notFound(entity, key);
      }
      if (request.method === 'PATCH' && entity === systemusers) return patchSystemUser(request, key);
      return methodNotAllowed(request.method);
    }
    const nav = entity.collections[navigation];
    if (!nav) return dvError(404, DataverseErrorCode.segment, `Resource not found for the segment '${navigation}'.`);
    if (ref) {
      if (request.method === 'POST' && entity === systemusers && navigation === 'systemuserroles_association') return associateRole(request, key);
      return methodNotAllowed(request.method);
    }
    if (request.method !== 'GET') return methodNotAllowed(request.method);
    const row = find(entity, key);
    if (!row) return notFound(entity, key);
    return collection(request, nav.target(), nav.related(row), `${entity.set}(${key})/${navigation}`);
  };

  return (request) => {
    try {
      return route(request);
    } catch (error) {
      if (error instanceof ODataQueryError) return dvError(error.status, error.code, error.message);
      throw error;
    }
  };
}
