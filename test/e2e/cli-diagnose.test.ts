import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKU, ids } from '../../fixtures/demo-tenant.js';
import { DEMO, steward } from './support/cli.js';

/**
 * Issue 14: `steward diagnose` as a checklist in the admin's words: each requirement passed or
 * failed with its evidence (how the licence, the group membership and the admin role are held),
 * the systemuser record, whether the user can sign in now and what happens next; exit 0 for an
 * eligible user, 1 for one who is not. On the demo tenant, with Eve deleted from Entra ID (her row
 * left behind) and Ana's licence assigned through the group ENV-Tailspin-Prod.
 */

const work = mkdtempSync(join(tmpdir(), 'steward-diagnose-'));
const fixture = join(work, 'tenant.json');
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  const tenant = JSON.parse(readFileSync(DEMO, 'utf8'));
  tenant.graph.users = tenant.graph.users.filter((u: { id: string }) => u.id !== ids.user('eve'));
  const ana = tenant.graph.users.find((u: { id: string }) => u.id === ids.user('ana'));
  ana.licenseAssignmentStates = [{ skuId: SKU.sales, state: 'Active', error: null, assignedByGroup: ids.group('prod') }];
  writeFileSync(fixture, JSON.stringify(tenant));
});

const diagnose = (user: string, ...more: string[]) => steward(['diagnose', '--fixture', fixture, '--environment', 'Tailspin Prod', '--user', user, ...more]);

describe('steward diagnose, the checklist', () => {
  it('an eligible user: every requirement passed, the licence held through a group, exit 0', async () => {
    const { stdout, code } = await diagnose('ana@tailspin.onmicrosoft.com');
    expect(code).toBe(0);
    expect(stdout).toContain('Ana Reyes (ana@tailspin.onmicrosoft.com) in Tailspin Prod (Production): meets every requirement');
    expect(stdout).toMatch(/✓ Licence \(D4\.2\)\s+Licences: Dynamics 365 for Sales Enterprise Edition \(DYN365_ENTERPRISE_SALES\), through the group "ENV-Tailspin-Prod"/);
    expect(stdout).toMatch(/✓ Security group \(D4\.3\)\s+The user is a direct member\./);
    expect(stdout).toMatch(/– Administrator role \(D4\.2\)\s+Holds none of the three administrator roles\./);
    expect(stdout).toContain('Systemuser record: Enabled, Read-Write, with a security role. Roles: Salesperson.');
    expect(stdout).toContain('Can sign in now:   Yes: the user meets every requirement and the row is enabled.');
    expect(stdout).toContain('What happens next: Nothing to wait for: the background sync keeps the row up to date (D1).');
    // No internal words.
    expect(stdout).not.toMatch(/added by|expected access mode|\brow: /);
  });

  it('a member only through a nested group: the failed requirement with its evidence and the fix, exit 1', async () => {
    const { stdout, code } = await diagnose('Fay Hart');
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ Security group \(D4\.3\)\s+The user is a member only through the nested group "Tailspin Contractors", which does not count \(E4\)\./);
    expect(stdout).toContain('Can sign in now:   No: the user does not meet D4.3; the row is still enabled, but the next sync or sign-in disables it.');
    expect(stdout).toContain('→ Add the user directly to the security group "ENV-Tailspin-Prod" (D4.3, E4), then force a sync (D1).');
  });

  it('an administrator holding a licence in Administrative mode: exempt from the group, and a note on the access mode', async () => {
    const { stdout, code } = await diagnose('kai lund');
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ Administrator role \(D4\.2\)\s+Power Platform Administrator \(assigned directly\)\./);
    expect(stdout).toMatch(/✓ Security group \(D4\.3\)\s+The user is not a member; exempt as a Global or Power Platform administrator\./);
    expect(stdout).toContain('Can sign in now:   Yes, to settings and administration only: Administrative mode gives no access to data (A2).');
    expect(stdout).toContain('• A2: The row is in Administrative mode');
    expect(stdout).toContain('set the access mode to Read-Write');
  });

  it('a user deleted from Entra ID whose row is left behind, by UPN and by name', async () => {
    for (const user of ['eve@tailspin.onmicrosoft.com', 'Eve Tan']) {
      const { stdout, code } = await diagnose(user);
      expect(code).toBe(1);
      expect(stdout).toMatch(/✗ Entra ID account \(D4\.1\)\s+No such account in Entra ID: deleted \(or never created\)\./);
      expect(stdout).toContain('Systemuser record: Enabled, Read-Write');
      expect(stdout).toContain('Can sign in now:   No: the account no longer exists in Entra ID (D4.1).');
    }
  });

  it('--json keeps the diagnosis fields and adds the checklist', async () => {
    const { stdout, code } = await diagnose('ida@tailspin.onmicrosoft.com', '--json');
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(['user', 'environment', 'verdict', 'addedBy', 'expectedAccessMode', 'currentRow', 'reasons', 'notes', 'checklist']);
    expect(result.checklist.requirements.map((r: { check: string; status: string }) => `${r.check} ${r.status}`)).toEqual([
      'dataverse-database passed', 'account passed', 'license passed', 'admin-role not-applicable', 'security-group passed', 'environment-type passed',
    ]);
    expect(result.checklist.signIn).toEqual({ now: true, why: 'Yes: the user meets every requirement and the row is enabled, but without a security role they cannot use the apps (U3).' });
    expect(result.checklist.next.by).toBe('background-sync');
    expect(code).toBe(0);
  });
});
