import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lib/http/openapi.js';
import { apiRoutes } from '../../lib/http/routes.js';

type Doc = { swagger: string; paths: Record<string, Record<string, { operationId: string; parameters: { name: string; in: string; required?: boolean; schema?: { required?: string[]; properties?: Record<string, unknown> } }[] }>> };

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
});
