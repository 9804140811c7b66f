/**
 * A small OData v4 query evaluator for the simulated Dataverse Web API: `$filter` (comparisons,
 * `and` / `or` / `not`, parentheses, `contains` / `startswith` / `endswith`, `any` / `all` lambdas
 * over collection-valued navigation properties), `$select` and `$expand` with nested options.
 *
 * Literals follow the OData ABNF: a string is quoted with `'` and a quote inside it is doubled
 * (`'o''brien'`); GUIDs, numbers, `true`, `false`, `null` and date-times are bare.
 * String comparisons are case-insensitive, as Dataverse's SQL collation makes them.
 */

/** A refusal the way Dataverse words it; the handler turns it into `{ error: { code, message } }`. */
export class ODataQueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ODataQueryError';
  }
}

/** Dataverse's code for malformed queries and unknown properties. */
export const QUERY_ERROR_CODE = '0x80060888';

const syntaxError = (text: string, position: number, what: string) =>
  new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: ${what} at position ${position} in '${text}'.`);

// ── Tokens ─────────────────────────────────────────────────────────────────────────────────────

type Token =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'guid'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'datetime'; value: string; pos: number }
  | { kind: 'word'; value: string; pos: number }
  | { kind: 'punct'; value: '(' | ')' | ',' | '/' | ':'; pos: number };

const GUID_AT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/;
const DATETIME_AT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?(?![\w-])/;
const NUMBER_AT = /^-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w-])/;
const WORD_AT = /^[A-Za-z_@$][\w.@$]*/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw syntaxError(text, i, 'unterminated string literal');
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ kind: 'string', value, pos: i });
      i = j + 1;
      continue;
    }
    if ('(),/:'.includes(ch)) {
      tokens.push({ kind: 'punct', value: ch as '(' | ')' | ',' | '/' | ':', pos: i });
      i++;
      continue;
    }
    const rest = text.slice(i);
    const guid = GUID_AT.exec(rest);
    if (guid) {
      tokens.push({ kind: 'guid', value: guid[0].toLowerCase(), pos: i });
      i += guid[0].length;
      continue;
    }
    const datetime = DATETIME_AT.exec(rest);
    if (datetime && datetime[0].includes('-')) {
      tokens.push({ kind: 'datetime', value: datetime[0], pos: i });
      i += datetime[0].length;
      continue;
    }
    const number = NUMBER_AT.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const word = WORD_AT.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', value: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    throw syntaxError(text, i, `unexpected character '${ch}'`);
  }
  return tokens;
}

// ── Filter syntax tree ─────────────────────────────────────────────────────────────────────────

export type FilterNode =
  | { type: 'or' | 'and'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; left: Operand; right: Operand }
  | { type: 'call'; name: 'contains' | 'startswith' | 'endswith'; args: [Operand, Operand] }
  | { type: 'lambda'; quantifier: 'any' | 'all'; navigation: string; variable: string; body: FilterNode | null }
  | { type: 'bool'; operand: Operand };

export type Operand =
  | { type: 'literal'; value: string | number | boolean | null; guid?: boolean }
  | { type: 'property'; path: string[] }
  | { type: 'call'; name: 'tolower' | 'toupper'; arg: Operand };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const BOOLEAN_FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

class FilterParser {
  private index = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): FilterNode {
    const node = this.orExpr();
    const extra = this.peek();
    if (extra) throw syntaxError(this.text, extra.pos, `unexpected '${String(extra.value)}'`);
    return node;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  private next(): Token {
    const token = this.tokens[this.index++];
    if (!token) throw syntaxError(this.text, this.text.length, 'unexpected end of expression');
    return token;
  }

  private isWord(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'word' && t.value.toLowerCase() === value;
  }

  private expectPunct(value: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== value) throw syntaxError(this.text, t.pos, `expected '${value}'`);
  }

  private orExpr(): FilterNode {
    return this.chain('or', () => this.andExpr());
  }

  private andExpr(): FilterNode {
    return this.chain('and', () => this.unary());
  }

  /** `operand (type operand)*`, left-associative. */
  private chain(type: 'and' | 'or', operand: () => FilterNode): FilterNode {
    let left = operand();
    while (this.isWord(type)) {
      this.index++;
      left = { type, left, right: operand() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.isWord('not')) {
      this.index++;
      return { type: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): FilterNode {
    const t = this.peek();
    if (t?.kind === 'punct' && t.value === '(') {
      this.index++;
      const inner = this.orExpr();
      this.expectPunct(')');
      return inner;
    }
    if (t?.kind === 'word' && BOOLEAN_FUNCTIONS.has(t.value.toLowerCase()) && this.peek(1)?.value === '(') {
      this.index += 2;
      const first = this.operand();
      this.expectPunct(',');
      const second = this.operand();
      this.expectPunct(')');
      return { type: 'call', name: t.value.toLowerCase() as 'contains', args: [first, second] };
    }
    // nav/any(x: x/prop eq 1)
    if (t?.kind === 'word' && this.peek(1)?.value === '/' && (this.isWord('any', 2) || this.isWord('all', 2))) {
      this.index += 2;
      const quantifier = (this.next().value as string).toLowerCase() as 'any' | 'all';
      this.expectPunct('(');
      if (this.peek()?.value === ')') {
        this.index++;
        return { type: 'lambda', quantifier, navigation: t.value, variable: '', body: null };
      }
      const variable = this.next();
      if (variable.kind !== 'word') throw syntaxError(this.text, variable.pos, 'expected a lambda variable');
      this.expectPunct(':');
      const body = this.orExpr();
      this.expectPunct(')');
      return { type: 'lambda', quantifier, navigation: t.value, variable: variable.value, body };
    }
    const left = this.operand();
    const op = this.peek();
    if (op?.kind === 'word' && COMPARISONS.has(op.value.toLowerCase())) {
      this.index++;
      const right = this.operand();
      return { type: 'compare', op: op.value.toLowerCase() as 'eq', left, right };
    }
    if (left.type === 'property') return { type: 'bool', operand: left };
    throw syntaxError(this.text, op?.pos ?? this.text.length, 'expected a comparison operator');
  }

  private operand(): Operand {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { type: 'literal', value: t.value };
      case 'guid':
        return { type: 'literal', value: t.value, guid: true };
      case 'number':
        return { type: 'literal', value: t.value };
      case 'datetime':
        return { type: 'literal', value: t.value };
      case 'word': {
        const lower = t.value.toLowerCase();
        if (lower === 'null') return { type: 'literal', value: null };
        if (lower === 'true') return { type: 'literal', value: true };
        if (lower === 'false') return { type: 'literal', value: false };
        if ((lower === 'tolower' || lower === 'toupper') && this.peek()?.value === '(') {
          this.index++;
          const arg = this.operand();
          this.expectPunct(')');
          return { type: 'call', name: lower, arg };
        }
        const path = [t.value];
        while (this.peek()?.value === '/' && this.peek(1)?.kind === 'word') {
          this.index++;
          path.push(this.next().value as string);
        }
        return { type: 'property', path };
      }
      default:
        throw syntaxError(this.text, t.pos, `unexpected '${String(t.value)}'`);
    }
  }
}

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw syntaxError(text, 0, 'empty expression');
  return new FilterParser(text, tokens).parse();
}

// ── Evaluation ─────────────────────────────────────────────────────────────────────────────────

/** How the evaluator reaches a row's data; the handler supplies one per entity. */
export interface RowAccess<Row> {
  /** The wire value of a column or of a single-valued navigation property (its lookup value). */
  value(row: Row, property: string): unknown;
  /** Rows of a collection-valued navigation property, with the access for their entity. */
  collection(row: Row, navigation: string): { rows: unknown[]; access: RowAccess<unknown> };
}

const normalise = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

function compareValues(op: string, left: unknown, right: unknown): boolean {
  const l = left === undefined ? null : normalise(left);
  const r = right === undefined ? null : normalise(right);
  if (op === 'eq') return l === r;
  if (op === 'ne') return l !== r;
  if (l === null || r === null) return false;
  if (typeof l !== typeof r) return false;
  const a = l as number | string;
  const b = r as number | string;
  if (op === 'gt') return a > b;
  if (op === 'ge') return a >= b;
  if (op === 'lt') return a < b;
  return a <= b;
}

interface Scope {
  row: unknown;
  access: RowAccess<unknown>;
  variables: Map<string, { row: unknown; access: RowAccess<unknown> }>;
}

function operandValue(operand: Operand, scope: Scope): unknown {
  if (operand.type === 'literal') return operand.value;
  if (operand.type === 'call') {
    const inner = operandValue(operand.arg, scope);
    if (typeof inner !== 'string') return inner;
    return operand.name === 'tolower' ? inner.toLowerCase() : inner.toUpperCase();
  }
  const [head, ...rest] = operand.path;
  const variable = scope.variables.get(head!);
  if (variable) {
    if (rest.length !== 1) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Invalid lambda path '${operand.path.join('/')}'.`);
    return variable.access.value(variable.row, rest[0]!);
  }
  if (rest.length > 0) {
    throw new ODataQueryError(400, QUERY_ERROR_CODE, `Navigation paths are not supported in this position: '${operand.path.join('/')}'.`);
  }
  return scope.access.value(scope.row, head!);
}

function evaluate(node: FilterNode, scope: Scope): boolean {
  switch (node.type) {
    case 'or':
      return evaluate(node.left, scope) || evaluate(node.right, scope);
    case 'and':
      return evaluate(node.left, scope) && evaluate(node.right, scope);
    case 'not':
      return !evaluate(node.operand, scope);
    case 'compare':
      return compareValues(node.op, operandValue(node.left, scope), operandValue(node.right, scope));
    case 'bool':
      return operandValue(node.operand, scope) === true;
    case 'call': {
      const haystack = operandValue(node.args[0], scope);
      const needle = operandValue(node.args[1], scope);
      if (typeof haystack !== 'string' || typeof needle !== 'string') return false;
      const h = haystack.toLowerCase();
      const n = needle.toLowerCase();
      if (node.name === 'contains') return h.includes(n);
      if (node.name === 'startswith') return h.startsWith(n);
      return h.endsWith(n);
    }
    case 'lambda': {
      const related = scope.access.collection(scope.row, node.navigation);
      const test = (row: unknown) => {
        if (!node.body) return true;
        const variables = new Map(scope.variables);
        variables.set(node.variable, { row, access: related.access });
        return evaluate(node.body, { ...scope, variables });
      };
      return node.quantifier === 'any' ? related.rows.some(test) : related.rows.every(test);
    }
  }
}

/** Compiles a `$filter` into a predicate over rows (throws `ODataQueryError` on bad syntax). */
export function compileFilter<Row>(text: string, access: RowAccess<Row>): (row: Row) => boolean {
  const tree = parseFilter(text);
  return (row) => evaluate(tree, { row, access: access as RowAccess<unknown>, variables: new Map() });
}

/** Every property name a filter mentions at the top level (to refuse unknown ones up front). */
export function filterProperties(node: FilterNode, variables: Set<string> = new Set()): string[] {
  const fromOperand = (o: Operand): string[] => {
    if (o.type === 'property') return variables.has(o.path[0]!) ? [] : [o.path[0]!];
    if (o.type === 'call') return fromOperand(o.arg);
    return [];
  };
  switch (node.type) {
    case 'or':
    case 'and':
      return [...filterProperties(node.left, variables), ...filterProperties(node.right, variables)];
    case 'not':
      return filterProperties(node.operand, variables);
    case 'compare':
      return [...fromOperand(node.left), ...fromOperand(node.right)];
    case 'bool':
      return fromOperand(node.operand);
    case 'call':
      return [...fromOperand(node.args[0]), ...fromOperand(node.args[1])];
    case 'lambda':
      return [node.navigation];
  }
}

// ── $select and $expand ────────────────────────────────────────────────────────────────────────

export function parseSelect(text: string | null | undefined): string[] | null {
  if (text === null || text === undefined || text.trim() === '') return null;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface ExpandItem {
  navigation: string;
  select: string[] | null;
  filter: string | null;
  top: number | null;
  expand: ExpandItem[];
}

/** Splits on a separator at parenthesis depth 0, outside string literals. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") inString = !inString;
    if (!inString) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (depth < 0) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: unbalanced ')' in '${text}'.`);
      if (ch === separator && depth === 0) {
        parts.push(current);
        current = '';
        continue;
      }
    }
    current += ch;
  }
  if (depth !== 0 || inString) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: unbalanced expression in '${text}'.`);
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseExpand(text: string | null | undefined): ExpandItem[] {
  if (text === null || text === undefined || text.trim() === '') return [];
  return splitTopLevel(text, ',').map((part) => {
    const open = part.indexOf('(');
    const navigation = (open === -1 ? part : part.slice(0, open)).trim();
    if (!/^[A-Za-z_][\w]*$/.test(navigation)) {
      throw new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: '${navigation}' is not a navigation property name.`);
    }
    const item: ExpandItem = { navigation, select: null, filter: null, top: null, expand: [] };
    if (open !== -1) {
      if (!part.endsWith(')')) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: unbalanced expression in '${part}'.`);
      const inner = part.slice(open + 1, -1);
      for (const option of splitTopLevel(inner, ';')) {
        const eq = option.indexOf('=');
        const name = option.slice(0, eq).trim().toLowerCase();
        const value = option.slice(eq + 1).trim();
        if (eq === -1) throw new ODataQueryError(400, QUERY_ERROR_CODE, `Syntax error: bad expand option '${option}'.`);
        if (name === '$select') item.select = parseSelect(value);
        else if (name === '$filter') item.filter = value;
        else if (name === '$top') item.top = Number.parseInt(value, 10);
        else if (name === '$expand') item.expand = parseExpand(value);
        else throw new ODataQueryError(400, QUERY_ERROR_CODE, `The query option '${name}' is not supported inside $expand.`);
      }
    }
    return item;
  });
}
