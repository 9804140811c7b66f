import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../lib/domain/errors.js';
import { listChecks, listEnvironments, listEnvironmentUsers, resolveEnvironment } from '../../lib/inventory/inventory.js';
import { closestNames } from '../../lib/inventory/closest-names.js';
import { CHECK_CATALOGUE } from '../../lib/domain/check-catalogue.js';
import { ENV, ENV_NO_DATAVERSE, MemoryTenant, memoryServices } from './support/memory-tenant.js';

/** What an admin picks from, and how a typed name finds its environment (or the closest ones). */
describe('inventory', () => {
  it('lists environments by name, each saying whether audits cover it', async () => {
    const services = memoryServices(new MemoryTenant(), { settings: { environmentAllowList: [ENV] } });
    const listed = await listEnvironments(services);
    expect(listed.map((e) => [e.displayName, e.audited])).toEqual([
      ['No DB', false],
      ['Sales Prod', true],
    ]);
  });

  it('finds an environment by its name in any case, or by its id', async () => {
    const services = memoryServices(new MemoryTenant());
    expect((await resolveEnvironment(services, 'sales prod')).id).toBe(ENV);
    expect((await resolveEnvironment(services, ENV_NO_DATAVERSE.toUpperCase())).displayName).toBe('No DB');
  });

  it('answers an unknown name with the closest names', async () => {
    const services = memoryServices(new MemoryTenant());
    const error = await resolveEnvironment(services, 'Sales Prd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(`No environment 'Sales Prd'. Closest: Sales Prod (${ENV}).`);
  });

  it('suggests nothing when no name is near', () => {
    expect(closestNames('Marketing', ['Sales Prod (1)', 'No DB (2)'])).toEqual([]);
    expect(closestNames('prod', ['Sales Prod (1)', 'Dev (2)'])).toEqual(['Sales Prod (1)']);
  });

  it('lists the systemusers of an environment, filtered by a part of the name', async () => {
    const services = memoryServices(new MemoryTenant());
    const all = await listEnvironmentUsers(services, ENV);
    expect(all.length).toBeGreaterThan(0);
    const alice = await listEnvironmentUsers(services, ENV, 'ALICE');
    expect(alice.every((u) => /alice/i.test(`${u.fullName} ${u.domainName}`))).toBe(true);
    await expect(listEnvironmentUsers(services, ENV_NO_DATAVERSE)).rejects.toThrow(/no Dataverse database/);
  });

  it('lists every check of the catalogue', () => {
    expect(listChecks().map((c) => c.id)).toEqual(CHECK_CATALOGUE.map((c) => c.id));
  });
});
