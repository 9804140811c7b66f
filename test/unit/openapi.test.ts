import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lib/http/openapi.js';
import { apiRoutes } from '../../lib/http/routes.js';

type Parameter = { name: string; in: string; required?: boolean; pattern?: string; enum?: unknown[]; schema?: { required?: string[]; properties?: Record<string, unknown> } };
type Operation = { operationId: string; parameters: Parameter[]; responses: Record<string, unknown>; security?: unknown[] };
type Doc = { swagger: string; paths: Record<string, Record<string, Operation>> };

describe('OpenAPI document (Power Automate custom connector)', () => {
  const doc = buildOpenApiDocument(apiRoutes, { host: 'steward.example.net', version: '1.2.3' }) as unknown as Doc;

  it('is a valid OpenAPI 2.0 document', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.swagger).toBe('2.0');
  });

  it('lists every route and method once, with unique operation ids', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const expected = apiRoutes.flatMap((r) => r.methods.map((m) => `${m} /${r.route}`));
    expect(operations.sort()).toEqual(expected.sort());
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes request bodies from the schemas that validate them', () => {
    const create = doc.paths['/users']!.post!;
    const body = create.parameters.find((p) => p.in === 'body');
    expect(body?.schema?.required).toEqual(expect.arrayContaining(['userPrincipalName', 'displayName']));
    expect(Object.keys(body?.schema?.properties ?? {})).toEqual(expect.arrayContaining(['licenses', 'environments', 'usageLocation']));
    expect(create.parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')).toBe(true);
    const enable = doc.paths['/environments/{env}/users/{user}/enable']!.post!;
    expect(enable.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(['env', 'user']);
  });

  it('carries the patterns of path parameters and the choices of query parameters from their schemas', () => {
    const diagnosis = doc.paths['/environments/{env}/users/{user}/diagnosis']!.get!;
    expect(diagnosis.parameters.find((p) => p.name === 'env')?.pattern).toBeTruthy();
    const findings = doc.paths['/findings']!.get!.parameters.filter((p) => p.in === 'query');
    expect(findings.find((p) => p.name === 'severity')).toMatchObject({ required: false, enum: ['critical', 'warning', 'info'] });
    expect(findings.find((p) => p.name === 'targetId')).toMatchObject({ required: false, type: 'string' });
    expect(findings.some((p) => p.name === 'Idempotency-Key')).toBe(false);
  });

  it('answers 201 for a creation, 202 for long operations, 409 only for mutations (SPEC §4)', () => {
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(statuses('/users', 'post')).toEqual(['201', '202', '400', '401', '403', '404', '409', '503']);
    expect(statuses('/environments/{env}/users/{user}/enable', 'post')).toEqual(['200', '202', '400', '401', '403', '404', '409', '503']);
    expect(statuses('/environments/{env}/users/{user}/diagnosis', 'get')).toEqual(['200', '400', '401', '403', '404', '503']);
    expect(statuses('/audits/{runId}', 'get')).toContain('202');
  });

  it('asks no function key for an anonymous route', () => {
    expect(doc.paths['/health']!.get!.security).toEqual([]);
    expect(doc.paths['/findings']!.get!.security).toBeUndefined();
  });
});
