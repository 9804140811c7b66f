/**
 * A small SOQL parser and evaluator for the simulated Salesforce org: what Steward's gateway (and
 * jsforce users in general) send, evaluated over fixture records.
 *
 * Supported, following the SOQL reference:
 * - `SELECT f1, f2, Parent.Field | COUNT() FROM Object [WHERE cond] [ORDER BY f [ASC|DESC]
 *   [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]`; keywords and names are case-insensitive, the
 *   answer uses each field's canonical name;
 * - conditions: `=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE` (`%`, `_`, `\%`, `\_`), `IN (...)`,
 *   `NOT IN (...)`, `AND`, `OR`, `NOT`, parentheses; `true`, `false`, `null`, numbers and quoted
 *   strings with the SOQL escape sequences (`\'`, `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
 *   `\uXXXX`; any other backslash sequence is an error);
 * - mixing `AND` and `OR` without parentheses is refused, as Salesforce does ("Parentheses are
 *   required whenever you mix the operators");
 * - string comparisons (`=`, `LIKE`, `ORDER BY`) ignore case, except on id and reference fields;
 * - parent relationships through reference fields (`Profile.Name` on User), any depth.
 *
 * Errors carry Salesforce's error codes: `MALFORMED_QUERY` (syntax), `INVALID_TYPE` (unknown
 * object), `INVALID_FIELD` (unknown field or relationship).
 */

// ── Errors ───────────────────────────────────────────────────────────────────────────────────

export type SoqlErrorCode = 'MALFORMED_QUERY' | 'INVALID_TYPE' | 'INVALID_FIELD';

export class SoqlError extends Error {
  constructor(
    readonly errorCode: SoqlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

// ── Schema ───────────────────────────────────────────────────────────────────────────────────

export type SoqlFieldType = 'id' | 'reference' | 'string' | 'picklist' | 'boolean' | 'int' | 'double' | 'datetime';

export interface SoqlField {
  /** Canonical API name (`Username`). */
  name: string;
  type: SoqlFieldType;
  /** For reference fields: the relationship name (`Profile`) and the object it points to. */
  relationship?: { name: string; to: string };
  /** Value when the record does not carry the field (default null). */
  defaultValue?: unknown;
}

export interface SoqlObject {
  /** Canonical API name (`PermissionSetLicenseAssign`). */
  name: string;
  fields: SoqlField[];
}

/** What a query runs over: object descriptions and their live records. */
export interface SoqlDatabase {
  /** The object of that name (case-insensitive), or undefined. */
  describe(objectName: string): SoqlObject | undefined;
  records(objectName: string): readonly Record<string, unknown>[];
}

/** A database over fixed object descriptions; records are read on every query (live state). */
export function createSoqlDatabase(
  objects: SoqlObject[],
  records: (objectName: string) => readonly Record<string, unknown>[],
): SoqlDatabase {
  const byName = new Map(objects.map((o) => [o.name.toLowerCase(), o]));
  return { describe: (name) => byName.get(name.toLowerCase()), records };
}

// ── Syntax tree ──────────────────────────────────────────────────────────────────────────────

export type SoqlValue = string | number | boolean | null;

/** A string literal keeps what LIKE needs: which `%` and `_` were escaped. */
export interface SoqlString {
  kind: 'string';
  value: string;
  /** Regular-expression source for LIKE (anchored by the caller). */
  likeSource: string;
}

export type SoqlLiteral = SoqlString | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean } | { kind: 'null' };

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type SoqlCondition =
  | { kind: 'compare'; field: string; operator: ComparisonOperator; value: SoqlLiteral }
  | { kind: 'like'; field: string; pattern: SoqlString }
  | { kind: 'in'; field: string; negated: boolean; values: SoqlLiteral[] }
  | { kind: 'and'; conditions: SoqlCondition[] }
  | { kind: 'or'; conditions: SoqlCondition[] }
  | { kind: 'not'; condition: SoqlCondition };

export interface SoqlOrder {
  field: string;
  descending: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  /** Field paths as written (`Id`, `Profile.Name`); empty for `COUNT()`. */
  fields: string[];
  count: boolean;
  object: string;
  where?: SoqlCondition;
  orderBy: SoqlOrder[];
  limit?: number;
  offset?: number;
}

// ── Tokens ───────────────────────────────────────────────────────────────────────────────────

type Token =
  | { kind: 'word'; text: string; upper: string; column: number }
  | { kind: 'string'; literal: SoqlString; text: string; column: number }
  | { kind: 'number'; value: number; text: string; column: number }
  | { kind: 'symbol'; text: string; column: number }
  | { kind: 'eof'; text: string; column: number };

const KEYWORDS = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'LIKE', 'IN', 'ORDER', 'BY', 'ASC', 'DESC', 'NULLS',
  'FIRST', 'LAST', 'LIMIT', 'OFFSET', 'TRUE', 'FALSE', 'NULL', 'GROUP', 'HAVING', 'INCLUDES', 'EXCLUDES',
]);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function malformed(query: string, column: number, detail: string): SoqlError {
  const line = query.replace(/\s+/g, ' ');
  const caret = ' '.repeat(Math.max(0, column - 1)) + '^';
  return new SoqlError('MALFORMED_QUERY', `\n${line}\n${caret}\nERROR at Row:1:Column:${column}\n${detail}`);
}

/** Decodes the inside of a quoted SOQL string (the reference's "Quoted String Escape Sequences"). */
function decodeString(query: string, body: string, column: number): SoqlString {
  let value = '';
  let likeSource = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      value += ch;
      likeSource += ch === '%' ? '.*' : ch === '_' ? '.' : escapeRegExp(ch);
      continue;
    }
    const next = body[i + 1];
    i++;
    let literal: string;
    switch (next) {
      case 'n': case 'N': literal = '\n'; break;
      case 'r': case 'R': literal = '\r'; break;
      case 't': case 'T': literal = '\t'; break;
      case 'b': case 'B': literal = '\b'; break;
      case 'f': case 'F': literal = '\f'; break;
      case '"': literal = '"'; break;
      case "'": literal = "'"; break;
      case '\\': literal = '\\'; break;
      // LIKE only: a literal underscore or percent sign.
      case '_': literal = '_'; break;
      case '%': literal = '%'; break;
      case 'u': {
        const hex = body.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw malformed(query, column, `Invalid string literal '${body}'. Illegal character sequence '\\u${hex}' in quoted string.`);
        }
        literal = String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        throw malformed(query, column, `Invalid string literal '${body}'. Illegal character sequence '\\${next ?? ''}' in quoted string.`);
    }
    value += literal;
    likeSource += escapeRegExp(literal);
  }
  return { kind: 'string', value, likeSource };
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i]!;
    const column = i + 1;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      let body = '';
      let closed = false;
      while (j < query.length) {
        const c = query[j]!;
        if (c === '\\') {
          body += c + (query[j + 1] ?? '');
          j += 2;
          continue;
        }
        if (c === "'") {
          closed = true;
          break;
        }
        body += c;
        j++;
      }
      if (!closed) throw malformed(query, column, `line 1:${i} mismatched character '<EOF>' expecting '''`);
      tokens.push({ kind: 'string', literal: decodeString(query, body, column), text: query.slice(i, j + 1), column });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(query.slice(i));
    if (number && (ch !== '-' || /\d/.test(query[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', value: Number(number[0]), text: number[0], column });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(query.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], upper: word[0].toUpperCase(), column });
      i += word[0].length;
      continue;
    }
    const symbol = /^(!=|<=|>=|[=<>(),])/.exec(query.slice(i));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol[0], column });
      i += symbol[0].length;
      continue;
    }
    throw malformed(query, column, `line 1:${i} no viable alternative at character '${ch}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', column: query.length + 1 });
  return tokens;
}

// ── Parser ───────────────────────────────────────────────────────────────────────────────────

class Parser {
  private position = 0;

  constructor(
    private readonly query: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.kind !== 'eof') this.position++;
    return token;
  }

  private unexpected(token: Token = this.peek()): SoqlError {
    return malformed(this.query, token.column, `unexpected token: '${token.text}'`);
  }

  private isKeyword(keyword: string, token: Token = this.peek()): boolean {
    return token.kind === 'word' && token.upper === keyword;
  }

  private isSymbol(symbol: string, token: Token = this.peek()): boolean {
    return token.kind === 'symbol' && token.text === symbol;
  }

  private expectKeyword(keyword: string): void {
    if (!this.isKeyword(keyword)) throw this.unexpected();
    this.next();
  }

  private expectSymbol(symbol: string): void {
    if (!this.isSymbol(symbol)) throw this.unexpected();
    this.next();
  }

  /** A field path or object name: a word that is not a reserved keyword. */
  private name(): string {
    const token = this.peek();
    if (token.kind !== 'word' || KEYWORDS.has(token.upper)) throw this.unexpected(token);
    this.next();
    return token.text;
  }

  parse(): SoqlQuery {
    this.expectKeyword('SELECT');
    const fields: string[] = [];
    let count = false;
    if (this.isKeyword('COUNT') && this.isSymbol('(', this.tokens[this.position + 1])) {
      this.next();
      this.expectSymbol('(');
      this.expectSymbol(')');
      count = true;
    } else {
      fields.push(this.name());
      while (this.isSymbol(',')) {
        this.next();
        fields.push(this.name());
      }
    }
    this.expectKeyword('FROM');
    const object = this.name();
    if (object.includes('.')) throw this.unexpected(this.tokens[this.position - 1]);
    const query: SoqlQuery = { fields, count, object, orderBy: [] };
    if (this.isKeyword('WHERE')) {
      this.next();
      query.where = this.condition();
    }
    if (this.isKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY');
      do {
        if (this.isSymbol(',')) this.next();
        const field = this.name();
        let descending = false;
        if (this.isKeyword('ASC')) this.next();
        else if (this.isKeyword('DESC')) {
          this.next();
          descending = true;
        }
        // Salesforce's default: nulls first ascending, last descending.
        let nullsLast = descending;
        if (this.isKeyword('NULLS')) {
          this.next();
          if (this.isKeyword('FIRST')) nullsLast = false;
          else if (this.isKeyword('LAST')) nullsLast = true;
          else throw this.unexpected();
          this.next();
        }
        query.orderBy.push({ field, descending, nullsLast });
      } while (this.isSymbol(','));
    }
    if (this.isKeyword('LIMIT')) {
      this.next();
      query.limit = this.nonNegativeInteger();
    }
    if (this.isKeyword('OFFSET')) {
      this.next();
      query.offset = this.nonNegativeInteger();
    }
    if (this.peek().kind !== 'eof') throw this.unexpected();
    return query;
  }

  private nonNegativeInteger(): number {
    const token = this.next();
    if (token.kind !== 'number' || !Number.isInteger(token.value) || token.value < 0) throw this.unexpected(token);
    return token.value;
  }

  /** `a AND b AND c` or `a OR b OR c`; mixing the two needs parentheses. */
  private condition(): SoqlCondition {
    const first = this.unary();
    const operator = this.isKeyword('AND') ? 'AND' : this.isKeyword('OR') ? 'OR' : null;
    if (!operator) return first;
    const conditions = [first];
    while (this.isKeyword('AND') || this.isKeyword('OR')) {
      if (!this.isKeyword(operator)) throw this.unexpected();
      this.next();
      conditions.push(this.unary());
    }
    return operator === 'AND' ? { kind: 'and', conditions } : { kind: 'or', conditions };
  }

  private unary(): SoqlCondition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', condition: this.unary() };
    }
    if (this.isSymbol('(')) {
      this.next();
      const inner = this.condition();
      this.expectSymbol(')');
      return inner;
    }
    return this.comparison();
  }

  private comparison(): SoqlCondition {
    const field = this.name();
    const token = this.peek();
    if (this.isKeyword('LIKE')) {
      this.next();
      const value = this.next();
      if (value.kind !== 'string') throw this.unexpected(value);
      return { kind: 'like', field, pattern: value.literal };
    }
    if (this.isKeyword('IN') || (this.isKeyword('NOT') && this.isKeyword('IN', this.tokens[this.position + 1]))) {
      const negated = this.isKeyword('NOT');
      if (negated) this.next();
      this.next();
      this.expectSymbol('(');
      const values = [this.literal()];
      while (this.isSymbol(',')) {
        this.next();
        values.push(this.literal());
      }
      this.expectSymbol(')');
      return { kind: 'in', field, negated, values };
    }
    if (token.kind === 'symbol' && ['=', '!=', '<', '<=', '>', '>='].includes(token.text)) {
      this.next();
      return { kind: 'compare', field, operator: token.text as ComparisonOperator, value: this.literal() };
    }
    throw this.unexpected(token);
  }

  private literal(): SoqlLiteral {
    const token = this.next();
    if (token.kind === 'string') return token.literal;
    if (token.kind === 'number') return { kind: 'number', value: token.value };
    if (token.kind === 'word' && token.upper === 'TRUE') return { kind: 'boolean', value: true };
    if (token.kind === 'word' && token.upper === 'FALSE') return { kind: 'boolean', value: false };
    if (token.kind === 'word' && token.upper === 'NULL') return { kind: 'null' };
    throw this.unexpected(token);
  }
}

/** Parses a SOQL SELECT; throws a `SoqlError` (`MALFORMED_QUERY`) on bad syntax. */
export function parseSoql(query: string): SoqlQuery {
  if (query.trim() === '') throw new SoqlError('MALFORMED_QUERY', 'unexpected token: <EOF>');
  return new Parser(query, tokenize(query)).parse();
}

/** The anchored, case-insensitive regular expression of a LIKE pattern literal. */
export function likeToRegExp(pattern: SoqlString): RegExp {
  return new RegExp(`^${pattern.likeSource}$`, 'is');
}

// ── Evaluation ───────────────────────────────────────────────────────────────────────────────

type Row = Record<string, unknown>;

interface ResolvedPath {
  /** Canonical names of the relationships walked, then of the field. */
  relationships: { name: string; via: SoqlField; object: SoqlObject }[];
  field: SoqlField;
  object: SoqlObject;
}

function invalidField(object: SoqlObject, path: string): SoqlError {
  return new SoqlError(
    'INVALID_FIELD',
    `No such column '${path}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

export interface SoqlResult {
  /** Canonical object name. */
  object: string;
  /** How many records the query returns (after OFFSET and LIMIT). */
  totalSize: number;
  /** Projected records, each with `attributes: { type, url }` (empty for `COUNT()`). */
  records: Row[];
}

export interface ExecuteOptions {
  /** `attributes.url` of a record (default `/services/data/v62.0/sobjects/{type}/{id}`). */
  recordUrl?: (type: string, id: string) => string;
}

/** Parses (when given text), checks against the schema, and runs a query. */
export function executeSoql(input: string | SoqlQuery, db: SoqlDatabase, options: ExecuteOptions = {}): SoqlResult {
  const query = typeof input === 'string' ? parseSoql(input) : input;
  const object = db.describe(query.object);
  if (!object) {
    throw new SoqlError(
      'INVALID_TYPE',
      `sObject type '${query.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const recordUrl = options.recordUrl ?? ((type: string, id: string) => `/services/data/v62.0/sobjects/${type}/${id}`);

  const indexes = new Map<string, Map<string, Row>>();
  const byId = (target: SoqlObject, id: unknown): Row | undefined => {
    if (typeof id !== 'string') return undefined;
    let index = indexes.get(target.name);
    if (!index) {
      index = new Map(db.records(target.name).map((r) => [String(r.Id), r]));
      indexes.set(target.name, index);
    }
    return index.get(id);
  };

  const resolve = (path: string): ResolvedPath => {
    const parts = path.split('.');
    // `User.Username` in a query FROM User: a leading object name is allowed.
    if (parts.length > 1 && parts[0]!.toLowerCase() === object.name.toLowerCase()) parts.shift();
    let current = object;
    const relationships: ResolvedPath['relationships'] = [];
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!.toLowerCase();
      const via = current.fields.find((f) => f.relationship?.name.toLowerCase() === part);
      const target = via?.relationship ? db.describe(via.relationship.to) : undefined;
      if (!via || !target) throw invalidField(object, path);
      relationships.push({ name: via.relationship!.name, via, object: target });
      current = target;
    }
    const last = parts[parts.length - 1]!.toLowerCase();
    const field = current.fields.find((f) => f.name.toLowerCase() === last);
    if (!field) throw invalidField(object, path);
    return { relationships, field, object: current };
  };

  const fieldValue = (record: Row, field: SoqlField): unknown => {
    const value = record[field.name];
    return value === undefined ? (field.defaultValue ?? null) : value;
  };

  /** The value at a resolved path, or null when a parent along the way is missing. */
  const valueAt = (record: Row, path: ResolvedPath): unknown => {
    let current: Row | undefined = record;
    for (const step of path.relationships) {
      current = byId(step.object, fieldValue(current, step.via));
      if (!current) return null;
    }
    return fieldValue(current, path.field);
  };

  const resolved = new Map<string, ResolvedPath>();
  const pathOf = (path: string) => {
    let r = resolved.get(path);
    if (!r) {
      r = resolve(path);
      resolved.set(path, r);
    }
    return r;
  };
  // Check every name before reading any record, as Salesforce does.
  query.fields.forEach(pathOf);
  query.orderBy.forEach((o) => pathOf(o.field));
  const checkCondition = (c: SoqlCondition): void => {
    if (c.kind === 'and' || c.kind === 'or') c.conditions.forEach(checkCondition);
    else if (c.kind === 'not') checkCondition(c.condition);
    else pathOf(c.field);
  };
  if (query.where) checkCondition(query.where);

  const matches = (record: Row, c: SoqlCondition): boolean => {
    switch (c.kind) {
      case 'and':
        return c.conditions.every((x) => matches(record, x));
      case 'or':
        return c.conditions.some((x) => matches(record, x));
      case 'not':
        return !matches(record, c.condition);
      case 'like': {
        const value = valueAt(record, pathOf(c.field));
        return typeof value === 'string' && likeToRegExp(c.pattern).test(value);
      }
      case 'in': {
        const path = pathOf(c.field);
        const value = valueAt(record, path);
        const found = c.values.some((v) => compare(value, v, path.field) === 0);
        return c.negated ? !found : found;
      }
      case 'compare': {
        const path = pathOf(c.field);
        const value = valueAt(record, path);
        if (c.value.kind === 'null') {
          if (c.operator === '=') return value === null;
          if (c.operator === '!=') return value !== null;
          return false;
        }
        if (value === null) return c.operator === '!=';
        const order = compare(value, c.value, path.field);
        if (order === undefined) return c.operator === '!=';
        switch (c.operator) {
          case '=': return order === 0;
          case '!=': return order !== 0;
          case '<': return order < 0;
          case '<=': return order <= 0;
          case '>': return order > 0;
          case '>=': return order >= 0;
        }
      }
    }
  };

  let rows = db.records(object.name).filter((r) => !query.where || matches(r, query.where));

  if (query.orderBy.length > 0) {
    rows = [...rows].sort((a, b) => {
      for (const order of query.orderBy) {
        const path = pathOf(order.field);
        const x = valueAt(a, path);
        const y = valueAt(b, path);
        if (x === null && y === null) continue;
        if (x === null || y === null) return (x === null) === order.nullsLast ? 1 : -1;
        const result = sortCompare(x, y, path.field);
        if (result !== 0) return order.descending ? -result : result;
      }
      return 0;
    });
  }
  if (query.offset !== undefined) rows = rows.slice(query.offset);
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);

  if (query.count) return { object: object.name, totalSize: rows.length, records: [] };

  const project = (record: Row, type: SoqlObject, paths: { path: ResolvedPath; depth: number }[]): Row => {
    const out: Row = { attributes: { type: type.name, url: recordUrl(type.name, String(record.Id ?? '')) } };
    const nested = new Map<string, { via: SoqlField; object: SoqlObject; items: typeof paths }>();
    for (const item of paths) {
      if (item.depth === item.path.relationships.length) {
        out[item.path.field.name] = fieldValue(record, item.path.field);
        continue;
      }
      const step = item.path.relationships[item.depth]!;
      let group = nested.get(step.name);
      if (!group) {
        group = { via: step.via, object: step.object, items: [] };
        nested.set(step.name, group);
        out[step.name] = null;
      }
      group.items.push({ ...item, depth: item.depth + 1 });
    }
    for (const [name, group] of nested) {
      const parent = byId(group.object, fieldValue(record, group.via));
      out[name] = parent ? project(parent, group.object, group.items) : null;
    }
    return out;
  };
  const selected = query.fields.map((f) => ({ path: pathOf(f), depth: 0 }));
  return { object: object.name, totalSize: rows.length, records: rows.map((r) => project(r, object, selected)) };
}

const caseSensitive = (field: SoqlField) => field.type === 'id' || field.type === 'reference';

/** 0 when equal, negative/positive for order, undefined when the types cannot be compared. */
function compare(value: unknown, literal: SoqlLiteral, field: SoqlField): number | undefined {
  if (literal.kind === 'null') return value === null ? 0 : undefined;
  if (value === null || value === undefined) return undefined;
  if (literal.kind === 'boolean') return typeof value === 'boolean' ? Number(value) - Number(literal.value) : undefined;
  if (literal.kind === 'number') return typeof value === 'number' ? value - literal.value : undefined;
  if (typeof value !== 'string') return undefined;
  return sortCompare(value, literal.value, field);
}

function sortCompare(x: unknown, y: unknown, field: SoqlField): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  let a = String(x);
  let b = String(y);
  if (!caseSensitive(field)) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
