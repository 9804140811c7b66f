import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lib/http/openapi.js';
import { apiRoutes } from '../../lib/http/routes.js';

type Parameter = {
  name: string;
  in: string;
  required?: boolean;
  pattern?: string;
  enum?: unknown[];
  'x-ms-summary'?: string;
  'x-ms-visibility'?: string;
  'x-ms-url-encoding'?: string;
  'x-ms-dynamic-values'?: { operationId: string; 'value-path': string; parameters?: Record<string, unknown> };
  description?: string;
  schema?: { required?: string[]; properties?: Record<string, { 'x-ms-summary'?: string; 'x-ms-dynamic-values'?: unknown }> };
};
type Response = { description: string; schema?: { $ref?: string; type?: string; properties?: Record<string, unknown> }; headers?: Record<string, unknown> };
type Operation = {
  operationId: string;
  summary: string;
  description: string;
  parameters: Parameter[];
  responses: Record<string, Response>;
  security?: unknown[];
  produces?: string[];
  'x-ms-visibility'?: string;
};
type Doc = { swagger: string; produces: string[]; paths: Record<string, Record<string, Operation>>; 'x-ms-connector-metadata': { propertyName: string }[] };

describe('OpenAPI document (GET /api/openapi.json)', () => {
  const doc = buildOpenApiDocument(apiRoutes, { host: 'steward.example.net', version: '1.2.3' }) as unknown as Doc;
  const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));

  it('is a valid OpenAPI 2.0 document', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.swagger).toBe('2.0');
  });

  it('lists every route and method once, with unique PascalCase operation ids', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const expected = apiRoutes.flatMap((r) => r.methods.map((m) => `${m} /${r.route}`));
    expect(listed.sort()).toEqual(expected.sort());
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Z][A-Za-z0-9]+$/);
  });

  it('gives every operation a sentence-case summary and a full-sentence description', () => {
    for (const o of operations) {
      expect(o.summary, o.operationId).toMatch(/^[A-Z][^/]{2,78}[A-Za-z0-9]$/);
      expect(o.description, o.operationId).toMatch(/^[A-Z].+\.$/);
    }
  });

  it('describes request bodies from the schemas that validate them, each field named for a flow', () => {
    const create = doc.paths['/users']!.post!;
    const body = create.parameters.find((p) => p.in === 'body');
    expect(body?.schema?.required).toEqual(expect.arrayContaining(['userPrincipalName', 'displayName']));
    expect(Object.keys(body?.schema?.properties ?? {})).toEqual(expect.arrayContaining(['licenses', 'environments', 'usageLocation']));
    expect(body?.schema?.properties?.usageLocation?.['x-ms-summary']).toBe('Usage Location');
    const enable = doc.paths['/environments/{env}/users/{user}/enable']!.post!;
    expect(enable.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(['env', 'user']);
    // A body that may be left out (enable takes an optional licence) is not required.
    expect(enable.parameters.find((p) => p.in === 'body')?.required).toBe(false);
  });

  it('hides the Idempotency-Key header from makers and offers it on mutations only', () => {
    for (const o of operations) {
      const key = o.parameters.find((p) => p.name === 'Idempotency-Key');
      if (key) expect(key).toMatchObject({ in: 'header', required: false, 'x-ms-visibility': 'internal', 'x-ms-summary': 'Idempotency Key' });
    }
    expect(doc.paths['/users']!.post!.parameters.some((p) => p.name === 'Idempotency-Key')).toBe(true);
    expect(doc.paths['/findings']!.get!.parameters.some((p) => p.name === 'Idempotency-Key')).toBe(false);
  });

  it('documents path parameters: pattern, Title Case summary, description, encoded once (a UPN holds @), a picker', () => {
    const diagnosis = doc.paths['/environments/{env}/users/{user}/diagnosis']!.get!;
    const env = diagnosis.parameters.find((p) => p.name === 'env')!;
    expect(env.pattern).toBeTruthy();
    expect(env).toMatchObject({ 'x-ms-summary': 'Environment', 'x-ms-url-encoding': 'single' });
    expect(env['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListEnvironments', 'value-path': 'id' });
    const user = diagnosis.parameters.find((p) => p.name === 'user')!;
    expect(user['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListEnvironmentUsers', parameters: { env: { parameter: 'env' } } });
    for (const o of operations) for (const p of o.parameters.filter((q) => q.in === 'path')) expect(p['x-ms-url-encoding'], `${o.operationId} ${p.name}`).toBe('single');
  });

  it('gives the role and org parameters pickers from the list operations', () => {
    const roles = doc.paths['/environments/{env}/users/{user}/roles']!.post!;
    expect(roles.parameters.find((p) => p.in === 'body')?.schema?.properties?.role?.['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListEnvironmentRoles' });
    const readiness = doc.paths['/salesforce/{org}/s2s-readiness']!.get!;
    expect(readiness.parameters.find((p) => p.name === 'org')?.['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListSalesforceOrgs', 'value-path': 'orgId' });
  });

  it('carries the choices of query parameters from their schemas, optional filters as advanced', () => {
    const findings = doc.paths['/findings']!.get!.parameters.filter((p) => p.in === 'query');
    expect(findings.find((p) => p.name === 'severity')).toMatchObject({ required: false, enum: ['critical', 'warning', 'info'], 'x-ms-visibility': 'advanced', 'x-ms-summary': 'Severity' });
    expect(findings.find((p) => p.name === 'targetId')).toMatchObject({ required: false, type: 'string' });
  });

  it('answers each success with its exact schema, problems described and typed once by default (SPEC §4)', () => {
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(statuses('/users', 'post')).toEqual(['200', '201', '400', '401', '403', '404', '409', '503', 'default']);
    expect(statuses('/environments/{env}/users/{user}/enable', 'post')).toEqual(['200', '202', '400', '401', '403', '404', '409', '503', 'default']);
    expect(statuses('/environments/{env}/users/{user}/diagnosis', 'get')).toEqual(['200', '400', '401', '403', '404', '503', 'default']);
    expect(statuses('/audits/{runId}', 'get')).toContain('202');
    const created = doc.paths['/users']!.post!.responses['201']!;
    expect(Object.keys(created.schema?.properties ?? {})).toEqual(expect.arrayContaining(['created', 'user', 'notes', 'temporaryPassword']));
    for (const o of operations) {
      for (const [status, response] of Object.entries(o.responses)) {
        if (/^[45]/.test(status)) expect(response.schema, `${o.operationId} ${status}`).toBeUndefined();
      }
      expect(o.responses.default?.schema).toEqual({ $ref: '#/definitions/Problem' });
    }
    expect(doc.produces).toEqual(['application/json']);
    // Swagger 2.0 has no null type: a field that may be null keeps its type and says so.
    const diagnosis = doc.paths['/environments/{env}/users/{user}/diagnosis']!.get!.responses['200']!.schema!.properties as Record<string, Record<string, unknown>>;
    expect(diagnosis.currentRow).toMatchObject({ type: 'object', 'x-nullable': true, 'x-ms-summary': 'Current Row' });
    expect(diagnosis.verdict).not.toHaveProperty('x-nullable');
  });

  it('documents the polled answer of POST /audits: 202 with Location, then the finished run', () => {
    const start = doc.paths['/audits']!.post!;
    expect(start.responses['202']?.headers).toHaveProperty('Location');
    expect(Object.keys(start.responses['202']?.schema?.properties ?? {})).toEqual(['runId', 'status', 'targets']);
    expect(Object.keys(start.responses['200']?.schema?.properties ?? {})).toEqual(expect.arrayContaining(['runId', 'status', 'targets', 'summary']));
    const get = doc.paths['/audits/{runId}']!.get!;
    expect(get.parameters.find((p) => p.name === 'runId')?.description).toContain('latest');
  });

  it('serves the report pages as HTML and CSV, the probe and the document itself as internal operations', () => {
    expect(doc.paths['/audits/{runId}/report']!.get!.produces).toEqual(['text/html']);
    expect(doc.paths['/audits/{runId}/findings.csv']!.get!.produces).toEqual(['text/csv']);
    expect(doc.paths['/health']!.get!['x-ms-visibility']).toBe('internal');
    expect(doc.paths['/openapi.json']!.get!['x-ms-visibility']).toBe('internal');
    expect(doc.paths['/audits/latest']!.get!['x-ms-visibility']).toBe('internal');
  });

  it('asks no function key for an anonymous route', () => {
    expect(doc.paths['/health']!.get!.security).toEqual([]);
    expect(doc.paths['/findings']!.get!.security).toBeUndefined();
  });

  it('carries the connector metadata of the certification submission', () => {
    expect(doc['x-ms-connector-metadata'].map((m) => m.propertyName)).toEqual(['Website', 'Privacy policy', 'Categories']);
  });
});

describe('the connector definition (connector/apiDefinition.swagger.json)', () => {
  const doc = buildOpenApiDocument(apiRoutes, { host: 'steward.example.net', version: '1.2.3', target: 'connector' }) as unknown as Doc;
  const operationIds = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));

  it('offers the actions of a flow: not the browser pages, the probe, the document or the latest-run duplicate', () => {
    for (const left of ['GetAuditReport', 'GetLatestAuditReport', 'GetAuditFindingsCsv', 'GetLatestAuditFindingsCsv', 'GetHealth', 'GetOpenApiDocument', 'GetLatestAuditRun']) {
      expect(operationIds).not.toContain(left);
    }
    expect(operationIds).toEqual(expect.arrayContaining(['CreateUser', 'EnableUser', 'DiagnoseUser', 'StartAudit', 'GetAuditRun', 'ListEnvironments', 'ListEnvironmentUsers', 'ListEnvironmentRoles', 'ListSalesforceOrgs']));
  });

  it('gives a 202 no schema of its own: Power Automate polls Location and hands the flow the final answer', () => {
    const start = doc.paths['/audits']!.post!;
    expect(start.responses['202']?.schema).toBeUndefined();
    expect(start.responses['200']?.schema?.properties).toHaveProperty('summary');
  });
});
