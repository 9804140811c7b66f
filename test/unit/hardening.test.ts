import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../../lib/http/handlers/health.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { OPERATIONS_TABLE } from '../../lib/http/operation-log.js';
import { ENV, memoryApp, memoryServices } from './support/memory-tenant.js';
import { apiRequest } from './support/requests.js';

/** Issue 12: the defects found under bad input and hostile callers, one test each. */

const [health] = healthRoutes;

describe('health (D2)', () => {
  it('answers anonymous probes and Manage-only callers with app roles on, and writes no operation-log row', async () => {
    const services = memoryServices(undefined, { settings: { requireAppRoles: true } });
    const probe = await health!.handle(apiRequest({ method: 'GET', principal: { id: 'anonymous', roles: [], authenticated: false } }), memoryApp(services));
    expect(probe.status).toBe(200);
    expect((probe.body as { status: string }).status).toBe('healthy');
    const manager = await health!.handle(
      apiRequest({ method: 'GET', principal: { id: 'ops', roles: ['Steward.Manage'], authenticated: true } }),
      memoryApp(services),
    );
    expect(manager.status).toBe(200);
    expect(services.memoryTables.get(OPERATIONS_TABLE).entities()).toHaveLength(0);
  });
});

describe('control characters (D7)', () => {
  const createUser = apiRoutes.find((r) => r.name === 'users-create')!;
  it('are refused in every text field before anything reaches Graph, each field named', async () => {
    const services = memoryServices();
    const response = await createUser.handle(
      apiRequest({
        body: { userPrincipalName: 'dario@contoso.test', displayName: 'Dario\u0000Neri', jobTitle: 'Sales\u0085', department: 'ok', usageLocation: 'IT', environments: [ENV] },
      }),
      memoryApp(services),
    );
    expect(response.status).toBe(400);
    const errors = (response.body as { errors: { in: string; pointer: string; detail: string }[] }).errors;
    expect(errors.map((e) => `${e.in} ${e.pointer}`).sort()).toEqual(['body #/displayName', 'body #/jobTitle']);
    expect(errors[0]!.detail).toBe('control characters are not allowed');
    expect(services.tenant.calls).toEqual([]);
  });

  it('are refused in path parameters and the query too', async () => {
    const services = memoryServices();
    const diagnosis = apiRoutes.find((r) => r.name === 'diagnosis-get')!;
    const response = await diagnosis.handle(
      apiRequest({ method: 'GET', params: { env: ENV, user: 'alice\u0001@contoso.test' } }),
      memoryApp(services),
    );
    expect(response.status).toBe(400);
    expect((response.body as { errors: { in: string; pointer: string }[] }).errors.map((e) => `${e.in} ${e.pointer}`)).toEqual(['path #/user']);
  });
});

describe('links (D8)', () => {
  const openapi = apiRoutes.find((r) => r.name === 'openapi')!;
  const hostile = (headers: Record<string, string>) =>
    ({ ...apiRequest({ method: 'GET', headers: { host: 'evil.example', ...headers } }), url: 'https://evil.example/api/openapi.json' });

  it('never reflects the Host header into the OpenAPI host; uses the site name, or a trusted forwarded host', async () => {
    const plain = await openapi.handle(hostile({}), memoryApp(memoryServices()));
    expect((plain.body as { host?: string }).host).toBeUndefined();
    const site = memoryServices(undefined, { settings: { links: { trustForwardedHost: false, siteHostName: 'steward-prod.azurewebsites.net' } } });
    expect((await openapi.handle(hostile({ 'x-forwarded-host': 'evil.example' }), memoryApp(site))).body).toMatchObject({ host: 'steward-prod.azurewebsites.net' });
    const trusted = memoryServices(undefined, { settings: { links: { trustForwardedHost: true } } });
    expect((await openapi.handle(hostile({ 'x-forwarded-host': 'steward.contoso.com' }), memoryApp(trusted))).body).toMatchObject({ host: 'steward.contoso.com' });
  });
});
