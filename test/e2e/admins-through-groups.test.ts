import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/diagnose.js';
import { adminRoles, entraUser, environmentRecord, fixtureOf, stableId, subscribedSku, syncedSystemUser } from '../support/builders.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * U5 end to end: directory roles held through role-assignable groups count for D4's exemptions, in
 * diagnose (which says through which group) and in the audit (no `enabled-user-ineligible`).
 */

const id = (name: string) => stableId('admins-through-groups', name);
const SKU = id('sku-sales');
const ENV = id('env-prod');

const ops = entraUser({ id: id('ops'), userPrincipalName: 'ops@contoso.onmicrosoft.com', givenName: 'Ops', surname: 'Admin' });
const crm = entraUser({ id: id('crm'), userPrincipalName: 'crm@contoso.onmicrosoft.com', givenName: 'Crm', surname: 'Admin' });
const adminsGroup = { id: id('group-pp-admins'), displayName: 'Power Platform Admins', securityEnabled: true, isAssignableToRole: true, members: [ops.id], owners: [] };
const d365Group = { id: id('group-d365-admins'), displayName: 'Dynamics Admins', securityEnabled: true, isAssignableToRole: true, members: [crm.id], owners: [] };
const envGroup = { id: id('group-env'), displayName: 'ENV-Prod', securityEnabled: true, members: [], owners: [] };

const fixture = fixtureOf({
  graph: {
    subscribedSkus: [subscribedSku(SKU, 'DYN365_ENTERPRISE_SALES', { consumed: 0, enabled: 5 })],
    users: [ops, crm],
    groups: [adminsGroup, d365Group, envGroup],
    directoryRoles: adminRoles({ powerPlatformAdministrator: [adminsGroup.id], dynamics365Administrator: [d365Group.id] }),
  },
  environments: [
    environmentRecord({
      id: ENV,
      displayName: 'Prod',
      type: 'Production',
      securityGroupId: envGroup.id,
      systemusers: [syncedSystemUser(id('row-ops'), ops, { accessmode: 1 }), syncedSystemUser(id('row-crm'), crm, { accessmode: 1 })],
    }),
  ],
});

let t: TestServices;
beforeAll(async () => {
  t = await startTestServices(fixture);
});
afterAll(() => t?.stop());

describe('administrators through role-assignable groups (U5)', () => {
  it('diagnose: a Power Platform administrator through a group, unlicensed and outside the security group, is eligible and told why', async () => {
    const result = await diagnose(t.services, ops.userPrincipalName, ENV);

    expect(result.verdict).toBe('eligible');
    expect(result.reasons).toEqual([]);
    expect(result.expectedAccessMode).toBe('administrative'); // A2: an admin holding no licence
    const u5 = result.notes.find((n) => n.factId === 'U5');
    expect(u5?.message).toContain('Power Platform Administrator through the role-assignable group "Power Platform Admins"');
  });

  it('diagnose: a Dynamics 365 administrator through a group still needs the security group (D4.3)', async () => {
    const result = await diagnose(t.services, crm.userPrincipalName, ENV);

    expect(result.verdict).toBe('not-eligible');
    expect(result.reasons.map((r) => r.factId)).toEqual(['D4.3']);
    expect(result.reasons[0]!.message).toContain('Dynamics 365 administrator');
    expect(result.notes.find((n) => n.factId === 'U5')?.message).toContain('"Dynamics Admins"');
  });

  it('audit: the group-held role exempts from D4.2 and (for Power Platform) D4.3; the Dynamics 365 one is still flagged for D4.3', async () => {
    const report = await t.audit.run('cli');
    const ineligible = report.findings.filter((f) => f.checkId === 'dataverse.enabled-user-ineligible').map((f) => f.subjectId);
    expect(ineligible).toEqual([crm.id]);
    const failed = report.findings.find((f) => f.subjectId === crm.id && f.checkId === 'dataverse.enabled-user-ineligible')!.details.failed as { factId: string }[];
    expect(failed.map((f) => f.factId)).toEqual(['D4.3']);
  });
});
