import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, SF_ORG, operationsTenant } from '../fixtures/operations-tenant.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import type { Fixture } from '../../simulator/core/fixture.js';

/** `steward doctor`, run as the real binary (`npm run --silent steward -- doctor`), against the simulator. */

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'steward-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Check {
  id: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  title: string;
  detail: string;
  fix?: string;
}

function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'steward', '--', 'doctor', ...args], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function doctorJson(args: string[], env: Record<string, string> = {}): Promise<{ code: number; ok: boolean; checks: Check[] }> {
  const { code, stdout, stderr } = await doctor([...args, '--json'], env);
  if (!stdout.trim()) throw new Error(`no output (exit ${code}): ${stderr}`);
  const report = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  return { code, ...report };
}

function fixtureFile(name: string, fixture: Fixture): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(fixture));
  return file;
}

const READ_PERMISSIONS = ['User.Read.All', 'GroupMember.Read.All', 'LicenseAssignment.Read.All', 'RoleManagement.Read.Directory', 'AuditLog.Read.All'];
const byId = (checks: Check[]) => new Map(checks.map((c) => [c.id, c]));

describe('steward doctor', () => {
  it('passes every check of a fully configured tenant, and exits 0', async () => {
    const { code, ok, checks } = await doctorJson(['--fixture', fixtureFile('full', operationsTenant())]);
    expect(code).toBe(0);
    expect(ok).toBe(true);
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    const ids = checks.map((c) => c.id);
    for (const id of [
      'token.graph',
      'graph.answers',
      'token.powerplatform',
      'powerplatform.answers',
      `token.dataverse.${ENV.sales}`,
      `dataverse.${ENV.sales}`,
      `salesforce.${SF_ORG}`,
      'storage.writable',
      ...READ_PERMISSIONS.map((p) => `graph.permission.${p}`),
      'graph.permission.User.ReadWrite.All',
      'graph.permission.GroupMember.ReadWrite.All',
    ]) {
      expect(byId(checks).get(id)?.status, id).toBe('pass');
    }
    // An environment without a database has nothing to check (D3).
    expect(byId(checks).get(`dataverse.${ENV.noDatabase}`)?.status).toBe('skip');
  });

  it('fails naming the Graph permission the app was not granted, and the calls that need it', async () => {
    const fixture = operationsTenant();
    fixture.app = { graphPermissions: ['User.ReadWrite.All', 'GroupMember.ReadWrite.All', 'LicenseAssignment.Read.All', 'RoleManagement.Read.Directory'] };
    const file = fixtureFile('no-audit-log', fixture);
    const { code, ok, checks } = await doctorJson(['--fixture', file]);
    expect(code).toBe(1);
    expect(ok).toBe(false);
    const failed = checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['graph.permission.AuditLog.Read.All']);
    expect(failed[0]!.detail).toContain('signInActivity');
    expect(failed[0]!.fix).toMatch(/grant the Microsoft Graph application permission AuditLog\.Read\.All to .+ admin consent/);

    // The readable checklist says the same, and so does the exit code.
    const text = await doctor(['--fixture', file]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/✗ Graph permission AuditLog\.Read\.All: not in the token's roles/);
    expect(text.stdout).toMatch(/→ grant the Microsoft Graph application permission AuditLog\.Read\.All/);
    expect(text.stdout).toMatch(/1 failed/);
  });

  it('asks a read-only deployment for the read permissions only, and warns about write permissions it holds', async () => {
    const fixture = operationsTenant();
    fixture.app = { graphPermissions: READ_PERMISSIONS };
    const leastPrivilege = await doctorJson(['--fixture', fixtureFile('read-only', fixture)], { STEWARD_READ_ONLY: 'true' });
    expect(leastPrivilege.code).toBe(0);
    expect(leastPrivilege.checks.filter((c) => c.id.startsWith('graph.permission')).map((c) => [c.id, c.status])).toEqual(READ_PERMISSIONS.map((p) => [`graph.permission.${p}`, 'pass']));
    expect(leastPrivilege.checks.some((c) => c.status === 'warn')).toBe(false);

    // The same read permissions are not enough once the deployment writes.
    const writing = await doctorJson(['--fixture', fixtureFile('read-only', fixture)], { STEWARD_READ_ONLY: 'false' });
    expect(writing.code).toBe(1);
    expect(writing.checks.filter((c) => c.status === 'fail').map((c) => c.id).sort()).toEqual([
      'graph.permission.GroupMember.ReadWrite.All',
      'graph.permission.User.ReadWrite.All',
    ]);

    // Read-only with the default (read-write) grant: passes, with a least-privilege warning.
    const broad = await doctorJson(['--fixture', fixtureFile('broad', operationsTenant())], { STEWARD_READ_ONLY: 'true' });
    expect(broad.code).toBe(0);
    const warning = byId(broad.checks).get('graph.permissions.least-privilege')!;
    expect(warning.status).toBe('warn');
    expect(warning.fix).toContain('User.ReadWrite.All');
  });

  describe('against a configured deployment (no --fixture)', () => {
    let sim: Simulator;
    let storage: EmbeddedStorage;
    beforeAll(async () => {
      [sim, storage] = await Promise.all([startSimulator(operationsTenant()), startAzurite()]);
    });
    afterAll(async () => {
      await sim?.stop();
      await storage?.stop();
    });

    it('passes with the right settings', async () => {
      const { code, checks } = await doctorJson([], { ...sim.settingsEnv(), STEWARD_STORAGE_CONNECTION: storage.connectionString });
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(code).toBe(0);
    });

    it('names the wrong Entra client secret and the wrong Salesforce secret, and exits 1', async () => {
      const env = sim.settingsEnv();
      const orgs = JSON.parse(env.STEWARD_SALESFORCE_ORGS!) as { id: string; clientSecret?: string }[];
      const index = orgs.findIndex((o) => o.id === SF_ORG);
      orgs[index]!.clientSecret = 'not-the-consumer-secret';
      const { code, ok, checks } = await doctorJson([], {
        ...env,
        STEWARD_CLIENT_SECRET: 'not-the-secret',
        STEWARD_SALESFORCE_ORGS: JSON.stringify(orgs),
        STEWARD_STORAGE_CONNECTION: storage.connectionString,
      });
      expect(code).toBe(1);
      expect(ok).toBe(false);
      const checksById = byId(checks);
      for (const id of ['token.graph', 'token.powerplatform']) {
        expect(checksById.get(id)).toMatchObject({ status: 'fail', fix: expect.stringContaining('STEWARD_CLIENT_SECRET') });
      }
      // Without the admin API, the environments cannot be listed: said, not failed twice.
      expect(checksById.get('dataverse')?.status).toBe('skip');
      expect(checksById.get(`salesforce.${SF_ORG}`)).toMatchObject({ status: 'fail', fix: expect.stringContaining(`STEWARD_SALESFORCE_ORGS.${index} (${SF_ORG}).clientSecret`) });
      // The other orgs and the storage are fine.
      for (const org of orgs.filter((o) => o.id !== SF_ORG)) expect(checksById.get(`salesforce.${org.id}`)?.status).toBe('pass');
      expect(checksById.get('storage.writable')?.status).toBe('pass');
      // No secret is printed.
      expect(JSON.stringify(checks)).not.toMatch(/not-the-secret|not-the-consumer-secret/);
    });
  });
});
