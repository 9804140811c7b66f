import { createHash } from 'node:crypto';
import { ServiceError } from '../http/service-error.js';

/**
 * Azure Table keys (PartitionKey, RowKey): no `/`, `\`, `#`, `?`, no control characters
 * (U+0000–U+001F, U+007F–U+009F), at most 1 KiB. Keys are never built from free text such as
 * UPNs (guest UPNs carry `#EXT#`) or subject ids: those are hashed (`hashKey`).
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_KEY = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** The service stores keys as UTF-16: 1 KiB is 512 code units. */
export const MAX_KEY_CODE_UNITS = 512;

export const INVALID_KEY_CODE = 'InvalidTableKey';

/**
 * Validates a value used as a Table key as is; returns it unchanged or throws a `ServiceError`
 * (service `storage`, code `InvalidTableKey`) naming `operation`: a bad key is refused before any
 * request goes out, never silently altered.
 */
export function keySafe(value: string, operation = 'keySafe'): string {
  const problem = keyProblem(value);
  if (problem) {
    throw new ServiceError({ service: 'storage', operation, code: INVALID_KEY_CODE }, `not usable as a table key (${problem}): ${JSON.stringify(String(value).slice(0, 80))}`);
  }
  return value;
}

/** Why a value cannot be a Table key, or null when it can. */
export function keyProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'not a string';
  if (value.length === 0) return 'empty';
  if (value.length > MAX_KEY_CODE_UNITS) return 'longer than 1 KiB';
  if (FORBIDDEN_IN_KEY.test(value)) return 'contains / \\ # ? or a control character';
  return null;
}

export function isKeySafe(value: unknown): value is string {
  return keyProblem(value) === null;
}

/** A key-safe, fixed-length (32 hex) key for any text: the first 128 bits of its SHA-256. */
export function hashKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 32);
}

/** RowKey of a finding or suppression within its target's partition: `hash(checkId|subjectId)`. */
export function subjectRowKey(checkId: string, subjectId: string): string {
  return hashKey(`${checkId}|${subjectId}`);
}

/** Largest time JavaScript dates can hold (ms): inverted times count down from it. */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** A 16-digit key part that sorts newest first (Table queries return keys in ascending order). */
export function invertedTimeKey(iso: string, operation = 'invertedTimeKey'): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new ServiceError({ service: 'storage', operation, code: INVALID_KEY_CODE }, `not a usable timestamp for a key: ${JSON.stringify(String(iso).slice(0, 40))}`);
  }
  return String(MAX_TIME_MS - ms).padStart(16, '0');
}
