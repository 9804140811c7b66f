import { json, type SimResponse } from '../core/host.js';
import { QUERY_ERROR_CODE } from './odata-query.js';

/**
 * What every Dataverse table of the simulator shares: the shape of an entity (its set, key,
 * columns, lookups and collection-valued navigation properties), Dataverse's error codes and the
 * error body `{ "error": { "code": "0x…", "message" } }`.
 */

export const API = '/api/data/v9.2';
export const ODATA_VERSION = { 'OData-Version': '4.0' } as const;

export type Row = Record<string, unknown>;

export interface Navigation {
  target: () => Entity;
  related(row: Row): Row[];
}

export interface Entity {
  set: string;
  logical: string;
  key: string;
  columns: readonly string[];
  rows(): Row[];
  value(row: Row, column: string): unknown;
  /** Single-valued navigation properties usable in `$filter` (`parentbusinessunitid eq null`). */
  lookups: Record<string, string>;
  collections: Record<string, Navigation>;
  /** The row's version (`@odata.etag`), when it moves with more than the row itself. */
  version?: (row: Row) => number;
}

/** The tables of one environment, by entity set name. */
export interface Entities {
  systemusers: Entity;
  roles: Entity;
  teams: Entity;
  businessunits: Entity;
  organizations: Entity;
  systemuserrolescollection: Entity;
}

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
  /** ExpiredVersionStamp: a change-tracking token older than the organization keeps (SPEC §9). */
  expiredVersionStamp: '0x80044352',
} as const;

export const dvError = (status: number, code: string, message: string): SimResponse => json(status, { error: { code, message } }, { ...ODATA_VERSION });

export const notFound = (entity: Entity, id: string) => dvError(404, DataverseErrorCode.notFound, `${entity.logical} With Id = ${id} Does Not Exist`);

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const same = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

/** The rows of `rows` whose `column` is one of `ids` (ignoring case). */
export const rowsWithId = (rows: Row[], column: string, ids: unknown): Row[] =>
  rows.filter((r) => ((ids as string[] | undefined) ?? []).some((id) => same(id, r[column])));

/** The rows of `rows` whose list `column` holds `id` (ignoring case). */
export const rowsListing = (rows: Row[], column: string, id: unknown): Row[] =>
  rows.filter((r) => ((r[column] as string[] | undefined) ?? []).some((x) => same(x, id)));

export function find(entity: Entity, id: string): Row | undefined {
  return entity.rows().find((row) => same(entity.value(row, entity.key), id));
}

/** The id of an `@odata.bind` / `@odata.id` reference to a record of `set`, or null. */
export function bindId(value: unknown, set: string): string | null {
  if (typeof value !== 'string') return null;
  const match = new RegExp(`(?:^|/)${set}\\(([0-9a-fA-F-]{36})\\)$`).exec(value.trim());
  return match && GUID.test(match[1]!) ? match[1]! : null;
}

export const isJsonObject = (body: unknown): body is Row => !!body && typeof body === 'object' && !Array.isArray(body);
