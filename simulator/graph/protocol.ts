import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../core/host.js';
import { GraphFault, badRequest } from './odata.js';

/**
 * The wire pieces every Graph resource shares: one call (from the wire or from inside a `$batch`),
 * its path segments with OData key syntax, Graph's JSON content type and the success answer with
 * `request-id` headers.
 */

export type Json = Record<string, unknown>;

/** One call, from the wire or from inside a `$batch`. */
export interface Call {
  method: string;
  /** Path segments after `/v1.0`, percent-decoded. */
  segments: Segment[];
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: unknown;
  clientRequestId: string | undefined;
}

/** A path segment; `users('x')` and `directoryRoles(roleTemplateId='x')` become a name plus a key. */
export type Segment = string | { key: string; alternate?: string };

export const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
export const eqi = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

export function canonical(list: readonly string[], name: string): string | undefined {
  return list.find((p) => p.toLowerCase() === name.toLowerCase());
}

/** Splits a raw path into decoded segments, turning OData key syntax into name + key. */
export function splitPath(rawPath: string): Segment[] {
  const out: Segment[] = [];
  for (const raw of rawPath.split('/').filter((s) => s.length > 0)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badRequest(`Invalid URL segment '${raw}'.`);
    }
    const keyed = /^([A-Za-z$][\w.$]*)\((.*)\)$/.exec(segment);
    if (keyed) {
      out.push(keyed[1]!);
      const inner = keyed[2]!;
      const alternate = /^(\w+)=(.*)$/.exec(inner);
      const literal = (text: string) => {
        const quoted = /^'(.*)'$/.exec(text);
        if (!quoted) throw badRequest(`Invalid key literal in '${segment}'.`);
        return quoted[1]!.replace(/''/g, "'");
      };
      if (alternate) out.push({ key: literal(alternate[2]!), alternate: alternate[1]! });
      else out.push({ key: literal(inner) });
    } else {
      out.push(segment);
    }
  }
  return out;
}

/** A key segment's value: `/users/{key}` takes doubled quotes as one (the key becomes a literal). */
export function keyOf(segment: Segment | undefined): { key: string; alternate?: string } | undefined {
  if (segment === undefined) return undefined;
  if (typeof segment !== 'string') return segment;
  return { key: segment.replace(/''/g, "'") };
}

export const nameOf = (segment: Segment | undefined): string | undefined => (typeof segment === 'string' ? segment : undefined);

/** The text of a segment as an error names it: its name, or its key. */
export const segmentText = (segment: Segment): string => (typeof segment === 'string' ? segment : segment.key);

export function lowerHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** A success answer as Graph sends it: its content type and a fresh `request-id`. */
export function ok(status: number, body?: unknown, headers: Record<string, string> = {}): SimResponse {
  const requestId = randomUUID();
  return {
    status,
    body,
    headers: {
      ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': JSON_CONTENT_TYPE } : {}),
      'request-id': requestId,
      'client-request-id': requestId,
      ...headers,
    },
  };
}

export const methodNotAllowed = () => new GraphFault(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
