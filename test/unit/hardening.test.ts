import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../../lib/http/handlers/health.js';
import { OPERATIONS_TABLE } from '../../lib/http/operation-log.js';
import { memoryApp, memoryServices } from './support/memory-tenant.js';
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
