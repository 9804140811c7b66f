import { z } from 'zod';
import type { ApiRequest, ApiResponse } from './api.js';
import { validationProblem, type FieldError } from './problem.js';

/**
 * Every input is checked at the edge with zod before any use case runs: a malformed request
 * changes nothing and answers 400 problem+json naming each bad field (SPEC §4).
 */

// ── Field schemas shared by the routes ───────────────────────────────────────────────────────

/**
 * What the OpenAPI document and the connector say about a parameter (zod metadata, read by
 * lib/http/openapi-schema.ts): `title` becomes `x-ms-summary`, and the pickers of Power Automate
 * (`x-ms-dynamic-values`) list the values from Steward's own list operations.
 */
export const PARAMETER_DOCS = {
  env: {
    title: 'Environment',
    description: 'The Power Platform environment id (a GUID, or Default-<tenant id>).',
    'x-ms-dynamic-values': { operationId: 'ListEnvironments', 'value-collection': 'value', 'value-path': 'id', 'value-title': 'displayName' },
  },
  user: {
    title: 'User',
    description: 'The user principal name (name@domain) or the Entra object id of the user.',
    'x-ms-dynamic-values': {
      operationId: 'ListEnvironmentUsers',
      parameters: { env: { parameter: 'env' } },
      'value-collection': 'value',
      'value-path': 'domainName',
      'value-title': 'fullName',
    },
  },
  org: {
    title: 'Salesforce Org',
    description: 'The Salesforce org id (00D followed by 12 or 15 characters).',
    'x-ms-dynamic-values': { operationId: 'ListSalesforceOrgs', 'value-collection': 'value', 'value-path': 'orgId', 'value-title': 'name' },
  },
  role: {
    title: 'Security Role',
    description: 'The name or id of a security role of the environment.',
    'x-ms-dynamic-values': {
      operationId: 'ListEnvironmentRoles',
      parameters: { env: { parameter: 'env' } },
      'value-collection': 'value',
      'value-path': 'roleId',
      'value-title': 'name',
    },
  },
} as const;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * A UPN: Entra allows letters, digits and `' . - _ ! # ^ ~` before the `@` (guests carry `#EXT#`),
 * 113 characters at most (64 + `@` + 48).
 */
const UPN = /^[A-Za-z0-9'._!#^~+&-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

export const guid = z.string().regex(GUID, 'expected a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)');

export const userPrincipalName = z
  .string()
  .max(113, 'a user principal name has at most 113 characters')
  .regex(UPN, 'expected a user principal name (name@domain)');

/** `{user}`: a UPN or an Entra object id. */
export const userReference = z
  .string()
  .max(113, 'expected a user principal name or an Entra object id')
  .refine((value) => GUID.test(value) || UPN.test(value), 'expected a user principal name (name@domain) or an Entra object id (GUID)')
  .meta(PARAMETER_DOCS.user);

/** `{env}`: a Power Platform environment id (a GUID, or `Default-<tenant id>`). */
export const environmentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'expected a Power Platform environment id')
  .meta(PARAMETER_DOCS.env);

/** `{org}`: a Salesforce org id (15 or 18 characters, `00D…`). */
export const salesforceOrgId = z
  .string()
  .regex(/^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/, 'expected a Salesforce org id (00D…, 15 or 18 characters)')
  .meta(PARAMETER_DOCS.org);

/** A license: a SKU part number (`DYN365_ENTERPRISE_SALES`) or a SKU id (GUID). */
export const skuReference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/, 'expected a SKU part number (e.g. DYN365_ENTERPRISE_SALES) or a SKU id');

/** A security role by name or id. */
export const roleReference = z
  .string()
  .trim()
  .min(1, 'expected a role name or id')
  .max(100, 'a role name has at most 100 characters')
  .meta(PARAMETER_DOCS.role);

/**
 * A finding's subject as the suppression routes carry it: in a body, and as the last segment of
 * `DELETE suppressions/{targetId}/{checkId}/{subjectId}`. So it must be something that segment can
 * carry: no `/`, `\`, `?`, `#` or `%`, and not `.` or `..` (which a URL resolves away before the
 * route sees it). Create and delete use this one schema, so what can be created can be deleted.
 */
export const subjectId = z
  .string()
  .min(1, 'expected a subject id, or * for the whole check')
  .max(200, 'at most 200 characters')
  .regex(/^[^/\\?#%]+$/, 'a subject id cannot contain / \\ ? # or %')
  .refine((value) => !/^\.{1,2}$/.test(value), 'a subject id cannot be . or ..')
  .meta({ title: 'Subject ID', description: 'The subject of the finding (a user, a licence or a row), or * for the whole check.' });

/**
 * Optional free text: Power Automate sends `null` or `""` for an empty dynamic value, both mean
 * "not given".
 */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .nullish()
    .transform((value) => (value ? value : undefined));

/** `removeLicenses`-style flags: absent or null means false. */
export const flag = z
  .boolean()
  .nullish()
  .transform((value) => value ?? false);

/** Routes that take no body accept none, `null` or `{}`; anything else is refused. */
export const noBody = z
  .union([z.undefined(), z.null(), z.object({}).strict()], { message: 'this call takes no body (or an empty JSON object)' })
  .transform(() => ({}) as Record<string, never>);

/** A body that is a JSON object, or no body at all (then every field takes its default). */
export const optionalBody = <T extends z.ZodType>(schema: T) => {
  const body = z.preprocess((value) => (value === undefined || value === null ? {} : value), schema);
  // The document describes the object itself: the preprocess step has no JSON Schema of its own.
  DOCUMENTED_AS.set(body, schema);
  return body;
};

/** Schemas whose JSON Schema is another's (optionalBody's preprocess is described by its object). */
export const DOCUMENTED_AS = new WeakMap<z.ZodType, z.ZodType>();

// ── Parsing a request ────────────────────────────────────────────────────────────────────────

export interface RequestSchemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

export type ParsedRequest<S extends RequestSchemas> =
  | {
      ok: true;
      params: S['params'] extends z.ZodType ? z.output<S['params']> : Record<string, never>;
      query: S['query'] extends z.ZodType ? z.output<S['query']> : Record<string, never>;
      body: S['body'] extends z.ZodType ? z.output<S['body']> : Record<string, never>;
    }
  | { ok: false; errors: FieldError[]; response: ApiResponse };

const escapePointerToken = (token: PropertyKey) => String(token).replace(/~/g, '~0').replace(/\//g, '~1');

export function pointerOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '#' : '#/' + path.map(escapePointerToken).join('/');
}

/** One field error per zod issue; an `unrecognized_keys` issue becomes one error per unknown field. */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[], where: FieldError['in']): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ in: where, pointer: pointerOf([...issue.path, key]), detail: 'unknown field: this call does not accept it' });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.path.length === 0 && where === 'body') {
      errors.push({ in: where, pointer: '#', detail: issue.message });
      continue;
    }
    errors.push({ in: where, pointer: pointerOf(issue.path), detail: friendly(issue) });
  }
  return errors;
}

function friendly(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return issue.path.length === 0 ? 'a JSON object body is required' : `required (${issue.expected})`;
  }
  return issue.message;
}

/** The query string as an object; `code` (the function key) is the host's, not the route's. */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of query) {
    if (key === 'code') continue;
    result[key] = value;
  }
  return result;
}

/**
 * C0 and C1 control characters (NUL, U+0001, line breaks, DEL, U+0080–U+009F). No field of the API
 * needs one, and passed on they end up in Graph, Dataverse or a table key. Refused here, for every
 * string of the path, query and body, so no route can forget it.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

function controlCharacterErrors(value: unknown, where: FieldError['in'], path: PropertyKey[] = []): FieldError[] {
  if (typeof value === 'string') {
    return CONTROL_CHARACTER.test(value) ? [{ in: where, pointer: pointerOf(path), detail: 'control characters are not allowed' }] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(CONTROL_CHARACTER.test(key) ? [{ in: where, pointer: pointerOf([...path, key]), detail: 'control characters are not allowed in a field name' }] : []),
    ...controlCharacterErrors(item, where, [...path, key]),
  ]);
}

/**
 * Parses path parameters, query and body together, so one answer names every bad field of all
 * three. A body that is not JSON is reported as such (the host hands it over as a SyntaxError).
 */
export function parseRequest<S extends RequestSchemas>(request: ApiRequest, schemas: S): ParsedRequest<S> {
  const errors: FieldError[] = [];
  const run = (schema: z.ZodType | undefined, value: unknown, where: FieldError['in']): unknown => {
    const refused = controlCharacterErrors(value, where);
    if (refused.length > 0) {
      errors.push(...refused);
      return undefined;
    }
    if (!schema) return {};
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    errors.push(...issuesToFieldErrors(result.error.issues, where));
    return undefined;
  };
  const params = run(schemas.params, request.params, 'path');
  const query = run(schemas.query, queryObject(request.query), 'query');
  let body: unknown;
  if (request.body instanceof SyntaxError) {
    errors.push({ in: 'body', pointer: '#', detail: 'the body is not valid JSON' });
  } else {
    body = run(schemas.body ?? noBody, request.body, 'body');
  }
  if (errors.length > 0) return { ok: false, errors, response: validationProblem(errors) };
  return { ok: true, params, query, body } as ParsedRequest<S>;
}
