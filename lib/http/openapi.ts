import { z } from 'zod';
import type { RouteDefinition } from './api.js';

/**
 * The OpenAPI 2.0 (Swagger) document of the HTTP API, the version Power Automate custom connectors
 * import. Built from the route list and the same zod schemas that validate requests (zod's own
 * JSON Schema export, draft-04, which Swagger 2.0 schemas are a subset of), so it cannot drift.
 */

type JsonSchema = Record<string, unknown>;

/** Swagger 2.0 has no `anyOf`/`oneOf`/`const`/`nullable`: keep the first usable alternative. */
function toSwaggerSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'id' || key === '$id') continue;
    if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      const first = (value as JsonSchema[]).find((v) => v.type !== 'null') ?? (value as JsonSchema[])[0];
      if (first) Object.assign(out, toSwaggerSchema(first));
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
    if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = toSwaggerSchema(value as JsonSchema);
      continue;
    }
    if (Array.isArray(value) && key === 'type') {
      out.type = (value as string[]).find((t) => t !== 'null') ?? 'string';
      continue;
    }
    out[key] = value;
  }
  return out;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return toSwaggerSchema(z.toJSONSchema(schema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

/** `users-create` → `usersCreate`; a route with several methods gets the method appended. */
const operationId = (route: RouteDefinition, method: string) =>
  `${route.name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())}${route.methods.length > 1 ? method[0] + method.slice(1).toLowerCase() : ''}`;

const problemRef = { $ref: '#/definitions/Problem' };

/** `{env}`, `{user?}`, `{id:guid}`: every path parameter, with the pattern its schema checks. */
function pathParameters(route: RouteDefinition, paramsSchema: JsonSchema | null): Record<string, unknown>[] {
  const properties = (paramsSchema?.properties ?? {}) as Record<string, JsonSchema>;
  return [...route.route.matchAll(/\{(\w+)\??(?::[^}]*)?\}/g)].map((m) => m[1]!).map((name) => {
    const property = properties[name] ?? {};
    return { name, in: 'path', required: true, type: 'string', ...(property.pattern ? { pattern: property.pattern } : {}), 'x-ms-summary': name };
  });
}

function queryParameters(querySchema: JsonSchema | null): Record<string, unknown>[] {
  const properties = (querySchema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((querySchema?.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    type: typeof property.type === 'string' ? property.type : 'string',
    ...(property.enum ? { enum: property.enum } : {}),
  }));
}

/** Path, query, body and, on a mutation, the Idempotency-Key header. */
function parametersOf(route: RouteDefinition, paramsSchema: JsonSchema | null, querySchema: JsonSchema | null): Record<string, unknown>[] {
  return [
    ...pathParameters(route, paramsSchema),
    ...queryParameters(querySchema),
    ...(route.contract?.body ? [{ name: 'body', in: 'body', required: true, schema: jsonSchemaOf(route.contract.body) }] : []),
    ...(route.mutation
      ? [{ name: 'Idempotency-Key', in: 'header', required: false, type: 'string', description: 'A replay with the same key returns the first answer and changes nothing.' }]
      : []),
  ];
}

/** The answers of SPEC §4: success, 202 for long operations, and the problem+json statuses. */
function responsesOf(route: RouteDefinition, method: string): Record<string, unknown> {
  const ok = method === 'POST' && /create|users$/.test(route.name) ? '201' : '200';
  return {
    [ok]: { description: 'Success', schema: { type: 'object' } },
    ...(route.mutation || route.name.startsWith('audits') ? { '202': { description: 'Accepted: poll the Location header after Retry-After seconds', headers: { Location: { type: 'string' }, 'Retry-After': { type: 'integer' } } } } : {}),
    '400': { description: 'Bad input: every bad field is named in errors[]', schema: problemRef },
    '401': { description: 'Missing or wrong function key', schema: problemRef },
    '403': { description: 'The caller lacks the app role', schema: problemRef },
    '404': { description: 'Unknown user, environment, role or org', schema: problemRef },
    ...(route.mutation ? { '409': { description: 'Refused by a rule (cap of 7, E5, D3, read-only…); factId names it', schema: problemRef } } : {}),
    '503': { description: 'Upstream throttling outlasted the retries; retry after Retry-After', schema: problemRef, headers: { 'Retry-After': { type: 'integer' } } },
  };
}

/** One path per route, one operation per method. */
function pathsOf(routes: readonly RouteDefinition[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/${route.route}`;
    const paramsSchema = route.contract?.params ? jsonSchemaOf(route.contract.params) : null;
    const querySchema = route.contract?.query ? jsonSchemaOf(route.contract.query) : null;
    for (const method of route.methods) {
      paths[path] ??= {};
      paths[path][method.toLowerCase()] = {
        operationId: operationId(route, method),
        summary: route.contract?.summary ?? route.name.replace(/-/g, ' '),
        tags: [route.route.split('/')[0]],
        parameters: parametersOf(route, paramsSchema, querySchema),
        ...(route.authLevel === 'anonymous' ? { security: [] } : {}),
        responses: responsesOf(route, method),
      };
    }
  }
  return paths;
}

/** RFC 9457 problem details, with Steward's `factId`, `code` and `errors[]`. */
const problemDefinition = () => ({
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    factId: { type: 'string' },
    code: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { in: { type: 'string' }, pointer: { type: 'string' }, detail: { type: 'string' } } },
    },
  },
});

export function buildOpenApiDocument(routes: readonly RouteDefinition[], options: { host?: string; version: string }): Record<string, unknown> {
  return {
    swagger: '2.0',
    info: {
      title: 'Steward',
      version: options.version,
      description: 'User operations, diagnose and audits for Entra ID, Dataverse and Copilot for Sales (Salesforce S2S).',
    },
    ...(options.host ? { host: options.host } : {}),
    basePath: '/api',
    schemes: ['https'],
    consumes: ['application/json'],
    produces: ['application/json', 'application/problem+json'],
    securityDefinitions: { functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' } },
    security: [{ functionKey: [] }],
    paths: pathsOf(routes),
    definitions: { Problem: problemDefinition() },
  };
}
