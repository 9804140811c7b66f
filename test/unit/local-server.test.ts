import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../lib/http/api.js';
import { startLocalServer, type LocalServer } from '../../lib/http/local-server.js';
import { json } from '../../lib/http/pipeline.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { ALICE, ENV, memoryApp, memoryServices } from './support/memory-tenant.js';

const echo = (name: string, route: string, authLevel: RouteDefinition['authLevel'] = 'function'): RouteDefinition => ({
  name,
  methods: ['GET'],
  route,
  authLevel,
  role: 'Steward.Read',
  mutation: false,
  contract: { operationId: 'Echo', summary: 'Echo', description: 'Echoes the request.', success: [200], polls: false, connector: true },
  handle: async (request) => json(200, { name, params: request.params, principal: request.principal.id }),
});

describe('steward serve (local server)', () => {
  let server: LocalServer;
  const services = memoryServices();

  beforeAll(async () => {
    server = await startLocalServer({
      app: memoryApp(services),
      functionKey: 'the-key',
      routes: [...apiRoutes, echo('echo-get', 'echo/{runId}'), echo('echo-latest', 'echo/latest'), echo('echo-open', 'echo-open', 'anonymous')],
    });
  });
  afterAll(() => server.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, server.origin), { headers });

  it('requires the function key, by header or code parameter, except on anonymous routes', async () => {
    const refused = await get('/api/echo/r1');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect((await get('/api/echo/r1', { 'x-functions-key': 'wrong' })).status).toBe(401);
    expect((await get('/api/echo/r1', { 'x-functions-key': 'the-key' })).status).toBe(200);
    expect((await get('/api/echo/r1?code=the-key')).status).toBe(200);
    expect((await get('/api/echo-open')).status).toBe(200);
  });

  it('fills route parameters, decoded, and prefers literal segments', async () => {
    const byId = await (await get('/api/echo/run%2042?code=the-key')).json();
    expect(byId).toMatchObject({ name: 'echo-get', params: { runId: 'run 42' } });
    const latest = (await (await get('/api/echo/latest?code=the-key')).json()) as { name: string };
    expect(latest.name).toBe('echo-latest');
  });

  it('answers 404 and 405 as problem+json', async () => {
    const missing = await get('/api/nothing/here?code=the-key');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const wrongMethod = await fetch(new URL('/api/users?code=the-key', server.origin), { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('runs the same handlers as the Functions host: validation, then the use case', async () => {
    const notJson = await fetch(new URL('/api/users?code=the-key', server.origin), { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ in: 'body', pointer: '#' });

    const disabled = await fetch(new URL(`/api/environments/${ENV}/users/${ALICE}/disable?code=the-key`, server.origin), { method: 'POST' });
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as { removedFromSecurityGroup: boolean }).removedFromSecurityGroup).toBe(true);
  });

  it('refuses a body larger than the limit with 413', async () => {
    const response = await fetch(new URL('/api/users?code=the-key', server.origin), { method: 'POST', body: 'x'.repeat(1024 * 1024 + 10) });
    expect(response.status).toBe(413);
  });
});
