import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/diagnose.js';
import { AccessMode } from '../../lib/domain/model.js';
import { ALICE, ENV, GROUP, MemoryTenant, ROLE_SALES, memoryServices } from './support/memory-tenant.js';

/**
 * The advice diagnose gives about a user's existing row (U3, T3): notes that never change the
 * verdict, over a tenant in memory. The verdicts themselves are the eligibility rules' (eligibility
 * tests) and the end-to-end diagnose tests'.
 */

/** The memory tenant, with the one Graph `$batch` diagnose asks answered from it. */
function servicesOf(tenant: MemoryTenant) {
  const services = memoryServices(tenant);
  services.directory = {
    ...services.directory,
    getUserAccessFacts: async (idOrUpn) => {
      const user = tenant.user(idOrUpn);
      const member = !!user && (tenant.groups.get(GROUP) ?? []).some((m) => m.id === user.id);
      return {
        user,
        skus: tenant.skus,
        directGroupIds: member ? [GROUP] : [],
        nestedGroups: [],
        adminRoles: new Set(),
        adminRoleGroups: new Map(),
        securityGroupOwnerIds: [],
        securityGroupNestedGroups: [],
        securityGroupName: 'Sales Prod users',
      };
    },
  };
  return services;
}

/** Alice (licensed, direct member) with her row in Sales Prod changed as given. */
function aliceWithRow(row: { accessMode?: number; roleIds?: string[]; isDisabled?: boolean }, licensed = true) {
  const tenant = new MemoryTenant();
  Object.assign(tenant.rowsOf(ENV)[0]!, row);
  if (!licensed) tenant.user(ALICE)!.assignedSkuIds = [];
  return diagnose(servicesOf(tenant), 'alice@contoso.test', ENV);
}

describe('diagnose: notes about the row (U3, T3)', () => {
  it('a healthy row gets no note', async () => {
    const result = await aliceWithRow({});
    expect(result.verdict).toBe('eligible');
    expect(result.currentRow?.roles).toEqual([{ id: ROLE_SALES, name: 'Salesperson', via: 'direct' }]);
    expect(result.notes).toEqual([]);
  });

  it('tells that a non-interactive row still holding a license could free it (T3)', async () => {
    const result = await aliceWithRow({ accessMode: AccessMode.NonInteractive });
    expect(result.verdict).toBe('eligible');
    expect(result.expectedAccessMode).toBe('non-interactive');
    expect(result.notes.map((n) => n.factId)).toEqual(['T3']);
    expect(result.notes[0]!.remediation).toMatch(/need no license: remove it/);
  });

  it('gives no T3 note to a non-interactive row without a license', async () => {
    const result = await aliceWithRow({ accessMode: AccessMode.NonInteractive }, false);
    expect(result.verdict).toBe('eligible');
    expect(result.notes).toEqual([]);
  });

  it('warns of a missing security role only for an enabled read-write row (U3)', async () => {
    const readWrite = await aliceWithRow({ roleIds: [] });
    expect(readWrite.notes.map((n) => n.factId)).toEqual(['U3']);
    expect(readWrite.currentRow?.roles).toEqual([]);

    const administrative = await aliceWithRow({ roleIds: [], accessMode: AccessMode.Administrative });
    // No U3 for an Administrative row; Alice holds a licence, so the mode itself is noted (A2, issue 14).
    expect(administrative.notes.map((n) => n.factId)).toEqual(['A2']);

    const disabled = await aliceWithRow({ roleIds: [], isDisabled: true });
    expect(disabled.notes.map((n) => n.factId)).toEqual(['D1']);
  });
});
