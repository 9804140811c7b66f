import { describe, expect, it } from 'vitest';
import { createUser, type CreateUserInput } from '../../lib/operations/create-user.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { ENV, GROUP, MemoryTenant, SKU_SALES, memoryServices } from './support/memory-tenant.js';

/**
 * The joiner's steps after the account exists (licenses, security groups): each one's failure is
 * reported and the account kept; each group joined once; an environment without a group noted.
 */

const ENV_SAME_GROUP = '55555555-5555-4555-8555-555555555555';
const ENV_NO_GROUP = '66666666-6666-4666-8666-666666666666';

function tenantWithMoreEnvironments() {
  const tenant = new MemoryTenant();
  const base = tenant.environments[0]!;
  tenant.environments.push(
    { ...base, id: ENV_SAME_GROUP, displayName: 'Sales Test', type: 'Sandbox' },
    { ...base, id: ENV_NO_GROUP, displayName: 'Open Sandbox', type: 'Sandbox', securityGroupId: null },
  );
  return tenant;
}

const joiner = (over: Partial<CreateUserInput> = {}): CreateUserInput => ({
  userPrincipalName: 'dario@contoso.test',
  displayName: 'Dario Neri',
  usageLocation: 'IT',
  licenses: ['DYN365_ENTERPRISE_SALES'],
  environments: [],
  returnTemporaryPassword: false,
  ...over,
});

describe('create user: the steps after the account exists', () => {
  it('reports a license that could not be assigned, and keeps the account and its group', async () => {
    const services = memoryServices();
    services.tenant.failures.set('assignLicenses', () => new ServiceError({ service: 'graph', operation: 'assignLicense', status: 503 }));
    const result = await createUser(services, joiner({ environments: [ENV] }));
    if (!result.created) throw new Error('expected a new account');
    expect(result.licenses).toEqual([]);
    expect(result.user.licenses).toEqual([]);
    expect(result.incomplete).toEqual([{ step: 'license', target: 'DYN365_ENTERPRISE_SALES', detail: expect.any(String) }]);
    expect(result.environments).toEqual([expect.objectContaining({ id: ENV, addedToSecurityGroup: true })]);
    expect(services.tenant.user('dario@contoso.test')).not.toBeNull();
  });

  it('joins a group shared by two environments once, and notes an environment without a group (D4.3)', async () => {
    const services = memoryServices(tenantWithMoreEnvironments());
    const result = await createUser(services, joiner({ environments: [ENV, ENV_SAME_GROUP, ENV_NO_GROUP] }));
    if (!result.created) throw new Error('expected a new account');
    expect(services.tenant.calls.filter((c) => c.startsWith('addGroupMember'))).toEqual([`addGroupMember ${GROUP} ${result.user.id}`]);
    expect(result.environments.map((e) => [e.id, e.addedToSecurityGroup])).toEqual([
      [ENV, true],
      [ENV_SAME_GROUP, true],
      [ENV_NO_GROUP, false],
    ]);
    expect(result.incomplete).toEqual([]);
    expect(result.user.licenses).toEqual([{ skuId: SKU_SALES, skuPartNumber: 'DYN365_ENTERPRISE_SALES' }]);
    expect(result.notes[0]).toMatch(/'Open Sandbox' has no security group.*\(D4\.3\)/);
    expect(result.notes.some((n) => /background sync.*\(U2\)/.test(n))).toBe(true);
    expect(result.notes.some((n) => /not returned.*\(U1\)/.test(n))).toBe(true);
  });

  it('reports a group that could not be joined once for the environments that share it', async () => {
    const services = memoryServices(tenantWithMoreEnvironments());
    services.tenant.failures.set('addGroupMember', () => new ServiceError({ service: 'graph', operation: 'addGroupMember', status: 503 }));
    const result = await createUser(services, joiner({ environments: [ENV, ENV_SAME_GROUP] }));
    if (!result.created) throw new Error('expected a new account');
    expect(result.incomplete).toEqual([{ step: 'security-group', target: ENV, detail: expect.any(String) }]);
    expect(result.environments.map((e) => e.addedToSecurityGroup)).toEqual([false, false]);
  });
});
