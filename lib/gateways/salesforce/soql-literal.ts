/**
 * SOQL literals built from values. The SOQL reference reserves the single quote and the backslash
 * in quoted strings: both must be preceded by a backslash ("Reserved Characters", "Quoted String
 * Escape Sequences"). Line breaks, tabs, backspace and form feed have escapes of their own and are
 * escaped too, so a literal always stays on one line.
 *
 * `%` and `_` are left alone: they are wildcards only inside a LIKE pattern, where the caller
 * means them.
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** `o'brien` → `'o\'brien'`: a quoted SOQL string literal for any value. */
export function soqlString(value: string): string {
  return `'${value.replace(/[\\'\n\r\t\b\f]/g, (ch) => ESCAPES[ch]!)}'`;
}

/** `('a','b')`: the value list of an `IN` condition (at least one value). */
export function soqlList(values: readonly string[]): string {
  if (values.length === 0) throw new Error('an IN list needs at least one value');
  return `(${values.map(soqlString).join(',')})`;
}
