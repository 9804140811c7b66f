import type { RouteContract, RouteDefinition } from './api.js';
import { swaggerSchemaOf, type JsonSchema } from './openapi-schema.js';

/**
 * The OpenAPI 2.0 (Swagger) document of the HTTP API, the version Power Automate custom connectors
 * import. Built from the route list and each route's contract (lib/http/api.ts): the zod schemas
 * that validate requests, and the answer schemas the end-to-end tests check every success body
 * against, so it cannot drift.
 *
 * Two audiences, one builder:
 * - `openapi` (`GET /api/openapi.json`): every route, the browser pages (report, CSV) with their
 *   own `produces`, the operations that are no action (health, the document) marked internal;
 * - `connector` (connector/apiDefinition.swagger.json, `npm run connector:build`): only the
 *   operations a flow calls; a 202 answer carries no schema of its own, since Power Automate polls
 *   `Location` and hands the flow the final answer.
 */

export type DocumentTarget = 'openapi' | 'connector';

export interface DocumentOptions {
  host?: string;
  version: string;
  target?: DocumentTarget;
}

const CONNECTOR_DESCRIPTION =
  'Keeps the people and integration accounts of a Microsoft tenant healthy across Microsoft Entra ID, its business environments and the Salesforce orgs of Copilot for Sales: create, enable and disable users, assign roles, diagnose why someone cannot get in, and run audits.';

/** The certification submission's connector metadata (Website, Privacy policy, Categories). */
export const CONNECTOR_METADATA = [
  { propertyName: 'Website', propertyValue: 'https://steward.example.com/' },
  { propertyName: 'Privacy policy', propertyValue: 'https://steward.example.com/privacy' },
  { propertyName: 'Categories', propertyValue: 'IT Operations;Security' },
];

/** The one security definition: the Functions key, the connection's secure parameter (apiProperties.json). */
export const API_KEY_SECURITY = { api_key: { type: 'apiKey', in: 'header', name: 'x-functions-key' } };

/** `{env}` → `Env`, for a path parameter whose schema has no title. */
const titleCase = (name: string) => name.replace(/^./, (c) => c.toUpperCase()).replace(/([a-z])([A-Z])/g, '$1 $2');

/** The documentation keys a parameter takes from its schema (zod metadata). */
function documented(property: JsonSchema, fallbackTitle: string): Record<string, unknown> {
  const keep = ['description', 'pattern', 'enum', 'default', 'format', 'x-ms-visibility', 'x-ms-dynamic-values'];
  return {
    'x-ms-summary': property['x-ms-summary'] ?? fallbackTitle,
    ...Object.fromEntries(keep.filter((k) => property[k] !== undefined).map((k) => [k, property[k]])),
  };
}

const propertiesOf = (schema: JsonSchema | null) => (schema?.properties ?? {}) as Record<string, JsonSchema>;

/** `{env}`, `{user?}`, `{id:guid}`: every path parameter, documented by its schema, encoded once (a UPN holds `@`). */
function pathParameters(route: RouteDefinition, params: JsonSchema | null): Record<string, unknown>[] {
  const properties = propertiesOf(params);
  return [...route.route.matchAll(/\{(\w+)\??(?::[^}]*)?\}/g)].map((m) => m[1]!).map((name) => ({
    name,
    in: 'path',
    required: true,
    type: 'string',
    ...documented(properties[name] ?? {}, titleCase(name)),
    'x-ms-url-encoding': 'single',
  }));
}

function queryParameters(query: JsonSchema | null): Record<string, unknown>[] {
  const required = new Set((query?.required as string[] | undefined) ?? []);
  return Object.entries(propertiesOf(query)).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    type: typeof property.type === 'string' ? property.type : 'string',
    // A filter is optional: offered under "advanced" unless its schema says otherwise.
    ...(required.has(name) ? {} : { 'x-ms-visibility': 'advanced' }),
    ...documented(property, titleCase(name)),
  }));
}

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  type: 'string',
  'x-ms-summary': 'Idempotency Key',
  description: 'A key of your choosing: a retry with the same key returns the first answer and changes nothing.',
  // Set by the flow's own retry policy or an expression, never typed by a maker.
  'x-ms-visibility': 'internal',
};

/** Path, query, body and, on a mutation, the Idempotency-Key header. */
function parametersOf(route: RouteDefinition): Record<string, unknown>[] {
  const { contract } = route;
  const params = contract.params ? swaggerSchemaOf(contract.params, 'input') : null;
  const query = contract.query ? swaggerSchemaOf(contract.query, 'input') : null;
  const body = contract.body ? swaggerSchemaOf(contract.body, 'input') : null;
  return [
    ...pathParameters(route, params),
    ...queryParameters(query),
    ...(body
      ? [{ name: 'body', in: 'body', required: ((body.required as string[] | undefined) ?? []).length > 0, 'x-ms-summary': 'Request', description: 'The fields of the request.', schema: body }]
      : []),
    ...(route.mutation ? [IDEMPOTENCY_KEY] : []),
  ];
}

const SUCCESS_TEXT: Record<number, string> = { 200: 'Done.', 201: 'Created.', 204: 'Done; no content.' };

/** Problem answers are described, not typed: one schema (`default`) for all of them, none competing with the success schema. */
function problemResponses(route: RouteDefinition): Record<string, unknown> {
  return {
    ...(route.contract.params || route.contract.query || route.contract.body ? { '400': { description: 'Bad input: every bad field is named in errors[].' } } : {}),
    ...(route.authLevel === 'anonymous' ? {} : { '401': { description: 'Missing or wrong function key.' }, '403': { description: 'The caller lacks the app role.' } }),
    ...(route.authLevel === 'anonymous' ? {} : { '404': { description: 'Unknown user, environment, role, licence, org or run.' } }),
    ...(route.mutation ? { '409': { description: 'Refused by a rule (cap of 7, E5, D3, read-only mode); factId names it.' } } : {}),
    '503': { description: 'Upstream throttling outlasted the retries: retry after Retry-After seconds.', headers: { 'Retry-After': { type: 'integer', description: 'Seconds to wait.' } } },
    default: { description: 'A problem (RFC 9457, application/problem+json).', schema: { $ref: '#/definitions/Problem' } },
  };
}

function responsesOf(route: RouteDefinition, target: DocumentTarget): Record<string, unknown> {
  const { contract } = route;
  const answer = contract.answer ? swaggerSchemaOf(contract.answer, 'output') : undefined;
  const success = Object.fromEntries(
    contract.success.map((status) => [String(status), { description: SUCCESS_TEXT[status] ?? 'Done.', ...(answer && status !== 204 ? { schema: answer } : {}) }]),
  );
  const accepted = contract.polls
    ? {
        '202': {
          description: 'Accepted and still going: Power Automate polls the Location header after Retry-After seconds until the final answer.',
          headers: { Location: { type: 'string', description: 'Where to poll.' }, 'Retry-After': { type: 'integer', description: 'Seconds to wait before polling.' } },
          ...(target === 'openapi' && contract.accepted ? { schema: swaggerSchemaOf(contract.accepted, 'output') } : {}),
        },
      }
    : {};
  return { ...success, ...accepted, ...problemResponses(route) };
}

/** Offered to a flow: not a browser page, not left out (health, the document, a duplicate). */
export const isConnectorOperation = (contract: RouteContract) => contract.connector && !contract.browserOnly;

function operationOf(route: RouteDefinition, method: string, target: DocumentTarget): Record<string, unknown> {
  const { contract } = route;
  const visibility = contract.visibility ?? (isConnectorOperation(contract) ? undefined : 'internal');
  return {
    operationId: contract.operationId,
    summary: contract.summary,
    description: contract.description,
    tags: [route.route.split('/')[0]],
    ...(contract.browserOnly ? { produces: [contract.browserOnly] } : {}),
    parameters: parametersOf(route),
    ...(route.authLevel === 'anonymous' ? { security: [] } : {}),
    responses: responsesOf(route, target),
    ...(visibility ? { 'x-ms-visibility': visibility } : {}),
  };
}

/** One path per route, one operation per method. */
function pathsOf(routes: readonly RouteDefinition[], target: DocumentTarget): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (target === 'connector' && !isConnectorOperation(route.contract)) continue;
    for (const method of route.methods) {
      paths[`/${route.route}`] ??= {};
      paths[`/${route.route}`]![method.toLowerCase()] = operationOf(route, method, target);
    }
  }
  return paths;
}

/** RFC 9457 problem details, with Steward's `factId`, `code` and `errors[]`. */
const problemDefinition = () => ({
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', 'x-ms-summary': 'Problem Type', description: 'A URI naming the kind of problem.' },
    title: { type: 'string', 'x-ms-summary': 'Title', description: 'A short summary of the problem.' },
    status: { type: 'integer', 'x-ms-summary': 'Status', description: 'The HTTP status code.' },
    detail: { type: 'string', 'x-ms-summary': 'Detail', description: 'What went wrong in this call.' },
    factId: { type: 'string', 'x-ms-summary': 'Fact ID', description: 'The domain fact a refusal rests on (E5, T3, D3).' },
    code: { type: 'string', 'x-ms-summary': 'Code', description: 'A stable code to branch on.' },
    errors: {
      type: 'array',
      'x-ms-summary': 'Errors',
      description: 'Every bad field of the request.',
      items: {
        type: 'object',
        properties: {
          in: { type: 'string', 'x-ms-summary': 'In', description: 'Where the field is: path, query, header or body.' },
          pointer: { type: 'string', 'x-ms-summary': 'Pointer', description: 'The JSON pointer of the field.' },
          detail: { type: 'string', 'x-ms-summary': 'Detail', description: 'What is expected.' },
        },
      },
    },
  },
});

export function buildOpenApiDocument(routes: readonly RouteDefinition[], options: DocumentOptions): Record<string, unknown> {
  const target = options.target ?? 'openapi';
  return {
    swagger: '2.0',
    info: { title: 'Steward', description: CONNECTOR_DESCRIPTION, version: options.version },
    ...(options.host ? { host: options.host } : {}),
    basePath: '/api',
    schemes: ['https'],
    consumes: ['application/json'],
    // Problems are application/problem+json, described by `default`; a flow reads JSON.
    produces: ['application/json'],
    securityDefinitions: API_KEY_SECURITY,
    security: [{ api_key: [] }],
    paths: pathsOf(routes, target),
    definitions: { Problem: problemDefinition() },
    'x-ms-connector-metadata': CONNECTOR_METADATA,
  };
}
