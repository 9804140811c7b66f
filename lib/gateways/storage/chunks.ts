import type { TableEntity, TableEntityResult } from '@azure/data-tables';

/**
 * Table Storage size limits and the helpers that keep within them: a string property holds at
 * most 64 KiB (UTF-16), an entity 1 MiB, a transaction 100 operations and 4 MiB. Text longer than
 * one property is spread over several; text longer than one entity over several entities.
 */

export type Entity = TableEntity<Record<string, unknown>>;
export type Row = TableEntityResult<Record<string, unknown>>;

/** A string property holds at most 64 KiB (UTF-16): 30 000 code units leaves a margin. */
export const MAX_PROPERTY_CHARS = 30_000;
/** Transactions: at most 100 operations and 4 MiB of payload. */
export const MAX_BATCH_ACTIONS = 100;
export const MAX_BATCH_BYTES = 3_500_000;
/** Text pieces per chunk entity: 12 × 60 KB stays well under the 1 MiB entity limit. */
const PIECES_PER_ENTITY = 12;

/** Splits text into pieces of at most `size` code units without cutting a surrogate pair. */
export function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces.length ? pieces : [''];
}

export function dropLoneSurrogate(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/** A string property within the 64 KiB limit. */
export function clip(value: string, max = MAX_PROPERTY_CHARS): string {
  return value.length <= max ? value : `${dropLoneSurrogate(value.slice(0, max - 1))}…`;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text longer than one property, spread over `<name>_0`, `<name>_1`… with `<name>_n` pieces. */
export function textProperties(name: string, text: string): Record<string, unknown> {
  const pieces = splitText(text, MAX_PROPERTY_CHARS);
  const out: Record<string, unknown> = { [`${name}_n`]: pieces.length };
  pieces.forEach((piece, i) => (out[`${name}_${i}`] = piece));
  return out;
}

export function readTextProperties(row: Row, name: string): string {
  const n = Number(row[`${name}_n`] ?? 0);
  return Array.from({ length: n }, (_, i) => str(row[`${name}_${i}`])).join('');
}

/**
 * Text too long for one entity, as entities `<prefix>_000000`, `<prefix>_000001`… each with up to
 * PIECES_PER_ENTITY properties `p0…` of MAX_PROPERTY_CHARS, its `pieces` count and the total `chunks`.
 */
export function chunkEntities(partitionKey: string, rowKeyPrefix: string, text: string, extra: Record<string, unknown> = {}): Entity[] {
  const pieces = splitText(text, MAX_PROPERTY_CHARS);
  const count = Math.max(1, Math.ceil(pieces.length / PIECES_PER_ENTITY));
  return Array.from({ length: count }, (_, i) => {
    const part = pieces.slice(i * PIECES_PER_ENTITY, (i + 1) * PIECES_PER_ENTITY);
    const chunk: Entity = { partitionKey, rowKey: `${rowKeyPrefix}_${String(i).padStart(6, '0')}`, ...extra, pieces: part.length, chunks: count };
    part.forEach((piece, j) => (chunk[`p${j}`] = piece));
    return chunk;
  });
}

/** The text of `chunkEntities`' rows (any order), or null when some are missing. */
export function joinChunks(rows: readonly Row[]): string | null {
  const sorted = [...rows].sort((a, b) => compare(String(a.rowKey), String(b.rowKey)));
  const expected = sorted[0]?.chunks;
  if (typeof expected === 'number' && expected !== sorted.length) return null;
  return sorted.map((row) => Array.from({ length: Number(row.pieces) }, (_, j) => str(row[`p${j}`])).join('')).join('');
}

/**
 * The details as JSON, at most `max` characters. Too large: the small entries are kept whole, a
 * long array keeps its first items, a long string its beginning, and `_truncated` says what was cut
 * (the result is always valid JSON of an object).
 */
export function serialiseDetails(details: Record<string, unknown>, max = MAX_PROPERTY_CHARS): { json: string; truncated: boolean } {
  const json = JSON.stringify(details ?? {});
  if (json.length <= max) return { json, truncated: false };
  const budget = max - 600; // room for the `_truncated` note
  const entries = Object.entries(details)
    .map(([key, value]) => ({ key, value, text: JSON.stringify(value) ?? 'null' }))
    .sort((a, b) => a.text.length - b.text.length);
  const out: Record<string, unknown> = {};
  const shortened: string[] = [];
  const omitted: string[] = [];
  let used = 2;
  for (const { key, value, text } of entries) {
    const overhead = JSON.stringify(key).length + 2;
    const room = budget - used - overhead;
    if (text.length <= room) {
      out[key] = value;
      used += overhead + text.length;
      continue;
    }
    const short = shorten(value, room);
    if (!short) {
      omitted.push(key);
      continue;
    }
    out[key] = short.kept;
    used += overhead + JSON.stringify(short.kept).length;
    shortened.push(Array.isArray(value) ? `${key} (${(short.kept as unknown[]).length} of ${value.length})` : key);
  }
  out._truncated = { originalChars: json.length, shortened: shortened.slice(0, 10), omitted: omitted.slice(0, 10) };
  let result = JSON.stringify(out);
  if (result.length > max) result = JSON.stringify({ _truncated: { originalChars: json.length } });
  return { json: result, truncated: true };
}

/** A long array's first items or a long string's beginning within `room` characters of JSON; null when neither fits. */
function shorten(value: unknown, room: number): { kept: unknown } | null {
  if (Array.isArray(value) && room > 2) {
    let lo = 0;
    let hi = value.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (JSON.stringify(value.slice(0, mid)).length <= room) lo = mid;
      else hi = mid - 1;
    }
    return { kept: value.slice(0, lo) };
  }
  if (typeof value === 'string' && room > 20) {
    let cut = value.slice(0, room - 10);
    while (JSON.stringify(cut).length + 1 > room) cut = cut.slice(0, Math.floor(cut.length * 0.9));
    return { kept: `${dropLoneSurrogate(cut)}…` };
  }
  return null;
}

export function parseDetails(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { _unreadable: value.slice(0, 200) };
  }
}
