import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../core/host.js';

/**
 * The OData pieces of the simulated Microsoft Graph: error bodies, `$filter` parsing and evaluation,
 * `$select` projection and server-driven paging (`@odata.nextLink` with a `$skiptoken`).
 */

// ── Errors ───────────────────────────────────────────────────────────────────────────────────

/** Graph's error shape: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function graphError(status: number, code: string, message: string, clientRequestId?: string, headers: Record<string, string> = {}): SimResponse {
  const requestId = randomUUID();
  return {
    status,
    headers: { 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId, ...headers },
    body: {
      error: {
        code,
        message,
        innerError: {
          // Graph prints the date without milliseconds or zone designator.
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': clientRequestId ?? requestId,
        },
      },
    },
  };
}

/** Thrown inside a route to answer with a Graph error. */
export class GraphFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (key: string) =>
  new GraphFault(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
export const badRequest = (message: string) => new GraphFault(400, 'Request_BadRequest', message);
export const unsupportedQuery = (message: string) => new GraphFault(400, 'Request_UnsupportedQuery', message);
export const segmentNotFound = (segment: string) => new GraphFault(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

// ── $filter ──────────────────────────────────────────────────────────────────────────────────

type Literal = string | number | boolean | null;
export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; property: string; value: Literal }
  | { kind: 'in'; property: string; values: Literal[] }
  | { kind: 'call'; fn: 'startswith' | 'endswith'; property: string; value: string };

type Token =
  | { type: 'string'; value: string; pos: number }
  | { type: 'number'; value: number; pos: number }
  | { type: 'word'; value: string; pos: number }
  | { type: 'punct'; value: '(' | ')' | ','; pos: number };

function syntaxError(filter: string, pos: number): GraphFault {
  return new GraphFault(400, 'BadRequest', `Invalid filter clause: Syntax error at position ${pos} in '${filter}'.`);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      // An OData string literal: '' inside stands for one quote (SQUOTE-in-string).
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= filter.length) throw syntaxError(filter, start);
        if (filter[i] === "'") {
          if (filter[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += filter[i];
        i++;
      }
      tokens.push({ type: 'string', value, pos: start });
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', value: c, pos: i });
      i++;
    } else if (/[-0-9]/.test(c)) {
      const match = /^-?\d+(\.\d+)?/.exec(filter.slice(i));
      if (!match) throw syntaxError(filter, i);
      tokens.push({ type: 'number', value: Number(match[0]), pos: i });
      i += match[0].length;
    } else if (/[A-Za-z_$@]/.test(c)) {
      const match = /^[A-Za-z_$@][A-Za-z0-9_./]*/.exec(filter.slice(i))!;
      tokens.push({ type: 'word', value: match[0], pos: i });
      i += match[0].length;
    } else {
      throw syntaxError(filter, i);
    }
  }
  return tokens;
}

/** Parses the subset of OData `$filter` the directory supports (eq, ne, in, startswith, endswith, and/or/not). */
export function parseFilter(filter: string): FilterNode {
  const tokens = tokenize(filter);
  let index = 0;
  const peek = () => tokens[index];
  const fail = (): never => {
    throw syntaxError(filter, peek()?.pos ?? filter.length);
  };
  const expectPunct = (value: '(' | ')' | ',') => {
    const t = tokens[index];
    if (!t || t.type !== 'punct' || t.value !== value) fail();
    index++;
  };
  const literal = (): Literal => {
    const t = tokens[index];
    if (!t) return fail();
    index++;
    if (t.type === 'string' || t.type === 'number') return t.value;
    if (t.type === 'word' && t.value === 'true') return true;
    if (t.type === 'word' && t.value === 'false') return false;
    if (t.type === 'word' && t.value === 'null') return null;
    index--;
    return fail();
  };
  const isWord = (t: Token | undefined, ...values: string[]) => t?.type === 'word' && values.includes(t.value.toLowerCase());

  const primary = (): FilterNode => {
    const t = peek();
    if (!t) return fail();
    if (t.type === 'punct' && t.value === '(') {
      index++;
      const inner = or();
      expectPunct(')');
      return inner;
    }
    if (t.type !== 'word') return fail();
    index++;
    const next = peek();
    if (next?.type === 'punct' && next.value === '(') {
      const fn = t.value.toLowerCase();
      if (fn !== 'startswith' && fn !== 'endswith') {
        throw unsupportedQuery(`Unsupported function '${t.value}' in filter clause.`);
      }
      index++;
      const property = peek();
      if (property?.type !== 'word') return fail();
      index++;
      expectPunct(',');
      const value = literal();
      expectPunct(')');
      if (typeof value !== 'string') return fail();
      return { kind: 'call', fn, property: property.value, value };
    }
    if (t.value.includes('/')) {
      // Lambda operators (assignedLicenses/any(...)) and navigation paths are not simulated.
      throw unsupportedQuery('Unsupported query.');
    }
    const op = peek();
    if (isWord(op, 'eq', 'ne', 'gt', 'ge', 'lt', 'le')) {
      index++;
      return { kind: 'compare', op: (op as { value: string }).value.toLowerCase() as 'eq', property: t.value, value: literal() };
    }
    if (isWord(op, 'in')) {
      index++;
      expectPunct('(');
      const values: Literal[] = [literal()];
      while (peek()?.type === 'punct' && (peek() as { value: string }).value === ',') {
        index++;
        values.push(literal());
      }
      expectPunct(')');
      return { kind: 'in', property: t.value, values };
    }
    return fail();
  };
  const not = (): FilterNode => {
    if (isWord(peek(), 'not')) {
      index++;
      return { kind: 'not', operand: not() };
    }
    return primary();
  };
  /** `operand (kind operand)*`, left-associative: `and` binds tighter than `or`. */
  const chain = (kind: 'and' | 'or', operand: () => FilterNode) => (): FilterNode => {
    let left = operand();
    while (isWord(peek(), kind)) {
      index++;
      left = { kind, left, right: operand() };
    }
    return left;
  };
  const and = chain('and', not);
  const or = chain('or', and);
  const tree = or();
  if (index !== tokens.length) fail();
  return tree;
}

/** The properties a filter names (for checks against what a resource supports). */
export function filterProperties(node: FilterNode): string[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...filterProperties(node.left), ...filterProperties(node.right)];
    case 'not':
      return filterProperties(node.operand);
    default:
      return [node.property];
  }
}

/** Whether the filter uses an operator Graph reserves for advanced queries (`ConsistencyLevel: eventual`). */
export function needsAdvancedQuery(node: FilterNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return needsAdvancedQuery(node.left) || needsAdvancedQuery(node.right);
    case 'not':
      return true;
    case 'compare':
      return node.op === 'ne';
    case 'call':
      return node.fn === 'endswith';
    default:
      return false;
  }
}

function readProperty(record: Record<string, unknown>, property: string): unknown {
  const key = Object.keys(record).find((k) => k.toLowerCase() === property.toLowerCase());
  return key === undefined ? null : record[key];
}

const fold = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);

/** Directory string comparisons are case-insensitive. */
export function evaluateFilter(node: FilterNode, record: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return evaluateFilter(node.left, record) && evaluateFilter(node.right, record);
    case 'or':
      return evaluateFilter(node.left, record) || evaluateFilter(node.right, record);
    case 'not':
      return !evaluateFilter(node.operand, record);
    case 'in': {
      const value = fold(readProperty(record, node.property) ?? null);
      return node.values.some((v) => fold(v) === value);
    }
    case 'call': {
      const value = readProperty(record, node.property);
      if (typeof value !== 'string') return false;
      const probe = node.value.toLowerCase();
      return node.fn === 'startswith' ? value.toLowerCase().startsWith(probe) : value.toLowerCase().endsWith(probe);
    }
    case 'compare': {
      const value = fold(readProperty(record, node.property) ?? null);
      const other = fold(node.value);
      switch (node.op) {
        case 'eq':
          return value === other;
        case 'ne':
          return value !== other;
        default: {
          if (value === null || other === null) return false;
          const a = value as string | number;
          const b = other as string | number;
          if (node.op === 'gt') return a > b;
          if (node.op === 'ge') return a >= b;
          if (node.op === 'lt') return a < b;
          return a <= b;
        }
      }
    }
  }
}

// ── $select ──────────────────────────────────────────────────────────────────────────────────

/** `$select` as a list of property names; undefined when absent. */
export function parseSelect(query: URLSearchParams): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

// ── Paging ───────────────────────────────────────────────────────────────────────────────────

export function encodeSkipToken(offset: number): string {
  // Opaque to clients, as Graph's own tokens are.
  return 'RFNwdAIA' + Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeSkipToken(token: string): number {
  try {
    if (!token.startsWith('RFNwdAIA')) throw new Error('foreign token');
    const parsed = JSON.parse(Buffer.from(token.slice(8), 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o !== 'number' || !Number.isInteger(parsed.o) || parsed.o < 0) throw new Error('bad offset');
    return parsed.o;
  } catch {
    throw badRequest('The specified page token value has expired and can no longer be included in your request.');
  }
}

/** Reads `$top` against the service's default and maximum page sizes. */
export function pageSize(query: URLSearchParams, paging: { graphDefault: number; graphMax: number }): number {
  const raw = query.get('$top');
  if (raw === null) return paging.graphDefault;
  const top = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || top < 1 || top > paging.graphMax) {
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${paging.graphMax} inclusive.`);
  }
  return top;
}

/**
 * Builds an absolute next link that repeats the query (select, filter, top…) with a new skip token.
 * Keys keep their `$`; values are percent-encoded, as Graph's own links are.
 */
export function nextLink(base: string, path: string, query: URLSearchParams, offset: number): string {
  const parts: string[] = [];
  for (const [key, value] of query) {
    if (key.toLowerCase() === '$skiptoken') continue;
    parts.push(`${key}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skiptoken=${encodeSkipToken(offset)}`);
  return `${base}${path}?${parts.join('&')}`;
}
