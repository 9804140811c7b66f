import { z } from 'zod';
import { DOCUMENTED_AS } from './validation.js';

/**
 * zod → the JSON Schema subset Swagger 2.0 (and so a Power Automate connector) accepts. zod v4's
 * own export (draft-04) is the start; Swagger 2.0 has no `anyOf`/`oneOf`/`const`/type arrays or
 * null (a nullable field keeps its type and says `x-nullable`), and
 * Power Automate names a property by `x-ms-summary`, which the schemas carry as their `title`.
 */

export type JsonSchema = Record<string, unknown>;

/** Keeps the first usable alternative of a union, renames `title` to `x-ms-summary`. */
export function toSwaggerSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'id' || key === '$id') continue;
    if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      const first = (value as JsonSchema[]).find((v) => v.type !== 'null') ?? (value as JsonSchema[])[0];
      if (first) Object.assign(out, { ...toSwaggerSchema(first), ...out });
      if ((value as JsonSchema[]).some((v) => v.type === 'null')) out['x-nullable'] = true;
      continue;
    }
    // zod's bounds of an integer are the safe integers: no bound a reader needs to see.
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'title') {
      out['x-ms-summary'] = value;
      continue;
    }
    if (key === 'const') {
      out.enum = [value];
      continue;
    }
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toSwaggerSchema(v)]));
      continue;
    }
    if (key === 'additionalProperties' && value && typeof value === 'object' && Object.keys(value).length === 0) continue; // open: Swagger's default
    if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = toSwaggerSchema(value as JsonSchema);
      continue;
    }
    if (Array.isArray(value) && key === 'type') {
      out.type = (value as string[]).find((t) => t !== 'null') ?? 'string';
      // Swagger 2.0 has no null type: `x-nullable` (the AutoRest extension) says a null may come.
      if ((value as string[]).includes('null')) out['x-nullable'] = true;
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** A request schema as the caller writes it (`io: input`), or an answer as Steward writes it (`io: output`). */
export function swaggerSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const documented = DOCUMENTED_AS.get(schema) ?? schema;
  return toSwaggerSchema(z.toJSONSchema(documented, { target: 'draft-04', io, unrepresentable: 'any' }) as JsonSchema);
}
