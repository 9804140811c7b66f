/**
 * OData literals for `$filter` (Graph, Dataverse). A string literal doubles its single quotes
 * (OData ABNF `SQUOTE-in-string`); the whole query is URL-encoded by the caller (URLSearchParams
 * or encodeURIComponent), so `#`, `&` and `+` in a value cannot break the URL either.
 */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** A GUID literal (Dataverse takes them bare); refuses anything that is not a GUID. */
export function odataGuid(value: string): string {
  if (!isGuid(value)) throw new TypeError(`not a GUID: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** A key segment in a path, e.g. `/users/{id or UPN}`: quotes doubled for `('…')` keys, URL-encoded. */
export function pathSegment(value: string): string {
  return encodeURIComponent(value.replace(/'/g, "''"));
}

/**
 * A query string (`?$select=a,b&$top=999`, or `''` when every value is undefined) whose values are
 * percent-encoded: a quote stays a doubled quote inside its literal, `#`, `&` and `+` cannot break
 * the URL. Graph's client and Dataverse's both take the query as given.
 */
export function odataQuery(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** One page of an OData collection (Graph, Dataverse): the items and the link to the next page. */
export interface ODataCollection<T> {
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
  value?: T[];
}
