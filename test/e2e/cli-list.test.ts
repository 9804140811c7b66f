import { describe, expect, it } from 'vitest';
import { ids } from '../../fixtures/demo-tenant.js';
import { DEMO, steward } from './support/cli.js';

/**
 * Issue 14: `steward list` shows what the other commands can be given, and every --environment,
 * --user and --org takes a name, a UPN or an id in any case; an unknown one is answered with the
 * closest names (exit 3: the command could not run).
 */

describe('steward list', () => {
  it('environments: a table with name, id, type, Dataverse and audited', async () => {
    const { stdout, code } = await steward(['list', 'environments', '--fixture', DEMO]);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^name\s+id\s+type\s+Dataverse\s+audited$/);
    expect(stdout).toMatch(new RegExp(`Tailspin Prod\\s+${ids.env('Prod')}\\s+Production\\s+yes\\s+yes`));
    expect(stdout).toMatch(/Tailspin \(default\)\s+\S+\s+Default\s+no/);
  });

  it('environments --json: the inventory records', async () => {
    const { stdout, code } = await steward(['list', 'environments', '--fixture', DEMO, '--json']);
    expect(code).toBe(0);
    const list = JSON.parse(stdout) as { id: string; displayName: string }[];
    expect(list.map((e) => e.displayName)).toEqual(['Ana Dev', 'Tailspin (default)', 'Tailspin Pilot', 'Tailspin Prod', 'Tailspin Sandbox']);
  });

  it('orgs: name and org id', async () => {
    const { stdout, code } = await steward(['list', 'orgs', '--fixture', DEMO]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Tailspin Sales \(Salesforce\)\s+00D8d000001TSPNEAA/);
    expect(stdout).toMatch(/Wingtip \(Salesforce\)\s+00D8d000002WNGTEAA/);
  });

  it('users of an environment named in another case, with --search', async () => {
    const { stdout, code } = await steward(['list', 'users', '--environment', 'tailspin prod', '--search', 'an', '--fixture', DEMO, '--json']);
    expect(code).toBe(0);
    const users = JSON.parse(stdout) as { domainName: string }[];
    // Names and user names that contain "an": Ana Reyes, Dan Moss, Eve Tan.
    expect(users.map((u) => u.domainName).sort()).toEqual(['ana@tailspin.onmicrosoft.com', 'dan@tailspin.onmicrosoft.com', 'eve@tailspin.onmicrosoft.com']);
    const table = await steward(['list', 'users', '--environment', ids.env('Prod').toUpperCase(), '--fixture', DEMO]);
    expect(table.stdout).toMatch(/Kai Lund\s+kai@tailspin\.onmicrosoft\.com\s+\S+\s+Administrative\s+enabled/);
  });

  it('users without --environment says what is missing', async () => {
    const { stderr, code } = await steward(['list', 'users', '--fixture', DEMO]);
    expect(code).toBe(3);
    expect(stderr).toContain('needs --environment');
  });

  it('checks: every check of the catalogue, with its severities', async () => {
    const { stdout, code } = await steward(['list', 'checks', '--json']);
    expect(code).toBe(0);
    const checks = JSON.parse(stdout) as { id: string; severities: string[] }[];
    expect(checks.find((c) => c.id === 'dataverse.non-interactive-cap')?.severities).toEqual(['critical', 'warning']);
    expect((await steward(['list', 'checks'])).stdout).toMatch(/salesforce\.integration-user-inactive\s+salesforce-org\s+critical/);
  });

  it('an unknown list is refused with the choices', async () => {
    const { stderr, code } = await steward(['list', 'groups']);
    expect(code).toBe(3);
    expect(stderr).toContain('environments, orgs, users, checks');
  });
});

describe('names instead of ids', () => {
  it('diagnose takes an environment name and a display name', async () => {
    const { stdout, code } = await steward(['diagnose', '--environment', 'TAILSPIN PROD', '--user', 'ana reyes', '--fixture', DEMO, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { user: { userPrincipalName: string }; environment: { id: string } };
    expect(result.user.userPrincipalName).toBe('ana@tailspin.onmicrosoft.com');
    expect(result.environment.id).toBe(ids.env('Prod'));
  });

  it('an unknown environment is answered with the closest names', async () => {
    const { stderr, code } = await steward(['diagnose', '--environment', 'Tailspin Prd', '--user', 'ana@tailspin.onmicrosoft.com', '--fixture', DEMO]);
    expect(code).toBe(3);
    expect(stderr).toContain(`No environment 'Tailspin Prd'. Closest: Tailspin Prod (${ids.env('Prod')})`);
  });

  it('an unknown user is answered with the closest users of the environment', async () => {
    const { stderr, code } = await steward(['diagnose', '--environment', 'Tailspin Prod', '--user', 'ana@tailspin.onmicrosoft.co', '--fixture', DEMO]);
    expect(code).toBe(3);
    expect(stderr).toContain("No user 'ana@tailspin.onmicrosoft.co'. Closest: ana@tailspin.onmicrosoft.com (Ana Reyes)");
  });

  it('readiness takes an org name, and an unknown one gets the closest', async () => {
    const named = await steward(['readiness', '--org', 'wingtip (salesforce)', '--fixture', DEMO, '--json']);
    expect((JSON.parse(named.stdout) as { org: { id: string } }).org.id).toBe('00D8d000002WNGTEAA');
    const unknown = await steward(['readiness', '--org', 'Wingtp', '--fixture', DEMO]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('Closest: Wingtip (Salesforce) (00D8d000002WNGTEAA)');
  });
});
