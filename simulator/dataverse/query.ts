import type { SimRequest, SimResponse } from '../core/host.js';
import { json } from '../core/host.js';
import { ODATA_VERSION, same, type Entity, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';
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
 * The query options of the Dataverse Web API over one table: `$select` (the key always returned),
 * `$expand` of collection-valued navigations with nested options, `$filter`, `$orderby`, `$count`,
 * `$top`, and paging by `Prefer: odata.maxpagesize` (up to 5,000, larger values ignored) with an
 * absolute `@odata.nextLink` carrying a `$skiptoken` paging cookie; `$skip` refused.
 */

const MAX_PAGE_SIZE = 5000;
const QUERY_OPTIONS = ['$select', '$filter', '$expand', '$top', '$skiptoken', '$orderby', '$count'];

const queryError = (message: string) => new ODataQueryError(400, QUERY_ERROR_CODE, message);

const unknownProperty = (entity: Entity, name: string) =>
  queryError(`Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity.logical}'.`);

function access(entity: Entity): RowAccess<Row> {
  return {
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
  };
}

export function checkSelect(entity: Entity, select: string[] | null): void {
  for (const column of select ?? []) {
    if (!entity.columns.includes(column)) throw unknownProperty(entity, column);
  }
}

function validateFilter(entity: Entity, text: string): void {
  for (const property of filterProperties(parseFilter(text))) {
    if (!entity.columns.includes(property) && !entity.lookups[property] && !entity.collections[property] && property !== entity.key) {
      throw unknownProperty(entity, property);
    }
  }
}

function checkExpand(entity: Entity, expand: ExpandItem[]): void {
  for (const item of expand) {
    const nav = entity.collections[item.navigation];
    if (!nav) {
      if (entity.lookups[item.navigation]) throw queryError(`Expanding the single-valued navigation property '${item.navigation}' is not simulated.`);
      throw unknownProperty(entity, item.navigation);
    }
    checkSelect(nav.target(), item.select);
    checkExpand(nav.target(), item.expand);
    if (item.filter) validateFilter(nav.target(), item.filter);
  }
}

/** `$select` and `$expand` of a request, checked against the table. */
function projection(entity: Entity, params: URLSearchParams): { select: string[] | null; expand: ExpandItem[] } {
  const select = parseSelect(params.get('$select'));
  checkSelect(entity, select);
  const expand = parseExpand(params.get('$expand'));
  checkExpand(entity, expand);
  return { select, expand };
}

/**
 * R1 (SPEC §8): in a paged query, each row's single-level expand of a collection-valued navigation
 * comes with `<navigation>@odata.nextLink`, even when the array is empty, and the link carries no
 * paging information: following it returns the same related rows again. "Each expanded
 * collection-valued navigation property returns a `<property>@odata.nextLink` URL that includes no
 * paging information … it returns the same rows that were returned in your original request"
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables, "Single $expand
 * on collection-valued navigation properties"; the empty-array case: …/webapi/retrieve-related-entities-query,
 * v9.1 sample `"Account_Tasks": []` with `"Account_Tasks@odata.nextLink"`).
 */
function navigationLink(env: DataverseEnvironment, entity: Entity, row: Row, item: ExpandItem): string {
  const options: string[] = [];
  if (item.select) options.push(`$select=${item.select.join(',')}`);
  if (item.filter) options.push(`$filter=${encodeURIComponent(item.filter)}`);
  if (item.top !== null) options.push(`$top=${item.top}`);
  const key = String(entity.value(row, entity.key));
  return `${env.api()}/${entity.set}(${key})/${item.navigation}${options.length > 0 ? `?${options.join('&')}` : ''}`;
}

/** A record as the Web API writes it: `@odata.etag`, the selected columns, the key, the expansions. */
export function shape(env: DataverseEnvironment, entity: Entity, row: Row, select: string[] | null, expand: ExpandItem[], paged = false): Row {
  const version = entity.version ? entity.version(row) : env.versionOf(row).version;
  const out: Row = { '@odata.etag': `W/"${version}"` };
  for (const column of select ?? entity.columns) out[column] = entity.value(row, column);
  if (!(entity.key in out)) out[entity.key] = entity.value(row, entity.key);
  for (const item of expand) {
    const nav = entity.collections[item.navigation]!;
    const target = nav.target();
    let related = nav.related(row);
    if (item.filter) related = related.filter(compileFilter(item.filter, access(target)));
    if (item.top !== null) related = related.slice(0, item.top);
    out[item.navigation] = related.map((r) => shape(env, target, r, item.select, item.expand));
    if (paged && item.expand.length === 0) out[`${item.navigation}@odata.nextLink`] = navigationLink(env, entity, row, item);
  }
  return out;
}

function contextSuffix(select: string[] | null, expand: ExpandItem[]): string {
  const parts = [...(select ?? []), ...expand.map((e) => `${e.navigation}(${contextSuffix(e.select, e.expand).slice(1, -1)})`)];
  return parts.length > 0 ? `(${parts.join(',')})` : '';
}

export function pageSizePreference(request: SimRequest): number | undefined {
  const header = request.headers.prefer;
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
  if (!match) return undefined;
  const size = Number.parseInt(match[1]!, 10);
  // "The service ignores max page size requests larger than 5,000."
  return size >= 1 && size <= MAX_PAGE_SIZE ? size : undefined;
}

function skipToken(entity: Entity, lastId: string, firstId: string, page: number): string {
  const paging = `<cookie page="${page}"><${entity.key} last="{${lastId.toUpperCase()}}" first="{${firstId.toUpperCase()}}" /></cookie>`;
  return `<cookie pagenumber="${page + 1}" pagingcookie="${encodeURIComponent(paging)}" istracking="False" />`;
}

function readSkipToken(token: string, entity: Entity, rows: Row[], pageSize: number): number {
  const pageNumber = /pagenumber="(\d+)"/.exec(token);
  const cookie = /pagingcookie="([^"]*)"/.exec(token);
  if (!pageNumber || !cookie) throw queryError('The $skiptoken is not a valid paging cookie.');
  let decoded = cookie[1]!;
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    throw queryError('The $skiptoken is not a valid paging cookie.');
  }
  const last = /last="\{([0-9a-f-]{36})\}"/i.exec(decoded);
  if (last) {
    const index = rows.findIndex((r) => same(entity.value(r, entity.key), last[1]));
    if (index !== -1) return index + 1;
  }
  return (Number.parseInt(pageNumber[1]!, 10) - 1) * pageSize;
}

function checkQueryOptions(params: URLSearchParams): void {
  for (const name of params.keys()) {
    if (name === '$skip') throw queryError('The query parameter $skip is not supported.');
    if (name.startsWith('$') && !QUERY_OPTIONS.includes(name)) throw queryError(`The query parameter ${name} is not supported.`);
  }
}

/** `$filter` then `$orderby` (nulls first, as SQL sorts them). */
function filterAndOrder(entity: Entity, params: URLSearchParams, source: Row[]): Row[] {
  const filterText = params.get('$filter');
  let rows = source;
  if (filterText) {
    validateFilter(entity, filterText);
    rows = rows.filter(compileFilter(filterText, access(entity)));
  }
  const orderby = params.get('$orderby');
  if (!orderby) return rows;
  const [column, direction] = orderby.trim().split(/\s+/);
  if (!column || !entity.columns.includes(column)) throw unknownProperty(entity, column ?? '');
  const sign = direction?.toLowerCase() === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = entity.value(a, column) as string | number | null;
    const y = entity.value(b, column) as string | number | null;
    if (x === y) return 0;
    if (x === null) return -sign;
    if (y === null) return sign;
    return x < y ? -sign : sign;
  });
}

interface Page {
  rows: Row[];
  /** The client asked for pages (`Prefer: odata.maxpagesize`). */
  paged: boolean;
  nextLink?: string;
  headers: Record<string, string>;
}

/** `$top` (no paging), or one page of `Prefer: odata.maxpagesize` with its next link. */
function pageOf(env: DataverseEnvironment, request: SimRequest, entity: Entity, rows: Row[], pathForLinks: string): Page {
  const params = request.url.searchParams;
  const headers: Record<string, string> = { ...ODATA_VERSION };
  const topText = params.get('$top');
  if (topText !== null) {
    const top = Number.parseInt(topText, 10);
    if (!Number.isInteger(top) || top < 0) throw queryError(`Invalid value '${topText}' for $top.`);
    return { rows: rows.slice(0, Math.min(top, MAX_PAGE_SIZE)), headers, paged: false };
  }
  const preferred = pageSizePreference(request);
  const pageSize = preferred ?? env.ctx.paging.dataverseDefault;
  if (preferred !== undefined) headers['Preference-Applied'] = `odata.maxpagesize=${preferred}`;
  const token = params.get('$skiptoken');
  const start = token ? readSkipToken(token, entity, rows, pageSize) : 0;
  const page = rows.slice(start, start + pageSize);
  const paged = preferred !== undefined;
  if (!(start + pageSize < rows.length && page.length > 0)) return { rows: page, headers, paged };
  const query = [...params.entries()].filter(([name]) => name !== '$skiptoken').map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  const pageNumber = Math.floor(start / pageSize) + 1;
  const first = String(entity.value(page[0]!, entity.key));
  const last = String(entity.value(page[page.length - 1]!, entity.key));
  query.push(`$skiptoken=${encodeURIComponent(skipToken(entity, last, first, pageNumber))}`);
  return { rows: page, headers, paged, nextLink: `${env.api()}/${pathForLinks}?${query.join('&')}` };
}

/** A collection answer: `entity` rows (all, or those of a navigation) with the query options applied. */
export function collection(env: DataverseEnvironment, request: SimRequest, entity: Entity, source: Row[], pathForLinks: string): SimResponse {
  const params = request.url.searchParams;
  checkQueryOptions(params);
  const { select, expand } = projection(entity, params);
  const rows = filterAndOrder(entity, params, source);
  const page = pageOf(env, request, entity, rows, pathForLinks);
  const body: Row = {
    '@odata.context': `${env.api()}/$metadata#${entity.set}${contextSuffix(select, expand)}`,
    value: page.rows.map((row) => shape(env, entity, row, select, expand, page.paged)),
  };
  if (params.get('$count') === 'true') body['@odata.count'] = rows.length;
  if (page.nextLink) body['@odata.nextLink'] = page.nextLink;
  return json(200, body, page.headers);
}

/** One record, with `$select` and `$expand`. */
export function single(env: DataverseEnvironment, request: SimRequest, entity: Entity, row: Row): SimResponse {
  const { select, expand } = projection(entity, request.url.searchParams);
  const body: Row = {
    '@odata.context': `${env.api()}/$metadata#${entity.set}${contextSuffix(select, expand)}/$entity`,
    ...shape(env, entity, row, select, expand),
  };
  return json(200, body, { ...ODATA_VERSION });
}
