import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRunReport } from '../../lib/audit/pipeline.js';
import { DELTA_STATE_CONTAINER, DeltaStateStore } from '../../lib/audit/delta-state.js';
import { createAuditPipeline, createAuditRunner, createServices, createSteward } from '../../lib/composition.js';
import { ClaimStore } from '../../lib/gateways/storage/claims.js';
import { loadSettings } from '../../lib/config/settings.js';
import type { Steward } from '../../lib/services.js';
import type { Fixture, FixtureUser } from '../../simulator/core/fixture.js';
import { generateTenant, stableId } from '../../simulator/core/generate.js';
import { seededRandom, type Random } from '../../simulator/core/random.js';
import { entraUser, syncedSystemUser } from '../../simulator/core/records.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/**
 * SPEC §9's correctness bar: on the same tenant state, an incremental run finds what a full run
 * finds. One simulated tenant, two Stewards with their own storage: one audits every night by
 * changes (after its first, full, night), the other in full (`full: true`). Each night a seeded
 * random change set is applied to the tenant (users created, deleted, disabled, licences added and
 * removed, group members added and removed, systemusers disabled, access modes changed, teams' and
 * rows' roles changed), then both audit it, and their open findings must be the same.
 * The checks whose data delta does not track (L2 sign-in activity, L3 licence errors) run on full
 * runs only (SPEC §9) and are left out of the comparison.
 */

const NIGHTS = 5;
const UNTRACKED = new Set(['entra.inactive-licensed-user', 'entra.license-assignment-error']);
const SALES_SKU = generateTenant({ users: 1, environments: 0, systemusersPerEnvironment: 0, salesforceOrgs: 0 }).graph.subscribedSkus[0]!.skuId;

function tenantWithTeams(): Fixture {
  const fixture = generateTenant({ users: 60, environments: 2, systemusersPerEnvironment: 30, salesforceOrgs: 0, seed: 'incremental' });
  for (const environment of fixture.environments) {
    const rows = environment.systemusers;
    environment.teams = [
      { teamid: stableId('incremental', environment.id, 'team'), name: 'Sales team', roles: [environment.roles[0]!.roleid], members: rows.slice(0, 3).map((r) => r.systemuserid) },
    ];
  }
  return fixture;
}

const pick = <T>(random: Random, items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[Math.floor(random() * items.length)]);

/** One night of admins' changes, straight in the tenant's state. */
function changeTenant(state: Fixture, random: Random, night: number): void {
  const users = state.graph.users;
  const groups = state.graph.groups;
  for (let i = 0; i < 6; i++) {
    const user = pick(random, users)!;
    switch (Math.floor(random() * 12)) {
      case 0: {
        const id = stableId('incremental', 'new', night, i);
        const created: FixtureUser = entraUser({ id, userPrincipalName: `new${night}-${i}@steward.example`, givenName: 'New', surname: `${night}-${i}`, skuIds: [SALES_SKU] });
        users.push(created);
        const environment = pick(random, state.environments)!;
        groups.find((g) => g.id === environment.securityGroupId)?.members.push(id);
        if (random() < 0.5) environment.systemusers.push(syncedSystemUser(stableId('incremental', 'row', night, i), created, { roles: [environment.roles[1]!.roleid] }));
        break;
      }
      case 1:
        users.splice(users.indexOf(user), 1);
        break;
      case 2:
        user.accountEnabled = !user.accountEnabled;
        break;
      case 3:
        user.assignedLicenses = user.assignedLicenses.length > 0 ? [] : [{ skuId: SALES_SKU, disabledPlans: [] }];
        break;
      case 4: {
        const group = pick(random, groups)!;
        if (!group.members.includes(user.id)) group.members.push(user.id);
        break;
      }
      case 5: {
        const group = pick(random, groups)!;
        const member = pick(random, group.members);
        if (member) group.members = group.members.filter((m) => m !== member);
        break;
      }
      default: {
        const environment = pick(random, state.environments)!;
        const row = pick(random, environment.systemusers)!;
        const team = environment.teams[0]!;
        const choice = Math.floor(random() * 6);
        if (choice === 0) row.isdisabled = !row.isdisabled;
        else if (choice === 1) row.accessmode = row.accessmode === 4 ? 0 : 4;
        else if (choice === 2) row.roles = (row.roles ?? []).length > 0 ? [] : [environment.roles[1]!.roleid];
        else if (choice === 3) team.members = team.members.includes(row.systemuserid) ? team.members.filter((m) => m !== row.systemuserid) : [...team.members, row.systemuserid];
        else if (choice === 4) team.roles = team.roles.length > 0 ? [] : [environment.roles[0]!.roleid];
        else environment.systemusers.splice(environment.systemusers.indexOf(row), 1);
      }
    }
  }
}

/** The open findings a person would compare: what, where, about whom, how bad, and the title. */
function openFindings(report: AuditRunReport): string[] {
  return report.findings
    .filter((f) => !UNTRACKED.has(f.checkId))
    .map((f) => [f.checkId, f.targetId, f.subjectId, f.severity, f.title].join(' | '))
    .sort();
}

describe('incremental audits (SPEC §9)', () => {
  let tenant: TestTenant;
  const storages: EmbeddedStorage[] = [];
  let incremental: Steward;
  let full: Steward;

  beforeAll(async () => {
    storages.push(await startAzurite(), await startAzurite());
    tenant = await startTestTenant(tenantWithTeams(), { storageConnection: storages[0]!.connectionString });
    incremental = await createSteward(tenant.settings, { dispatch: 'in-process' });
    full = await createSteward(loadSettings({ ...tenant.sim.settingsEnv(), STEWARD_STORAGE_CONNECTION: storages[1]!.connectionString }), { dispatch: 'in-process' });
  });
  afterAll(async () => {
    await tenant?.stop();
    for (const storage of storages) await storage.stop();
  });

  type DeltaBlobs = ConstructorParameters<typeof DeltaStateStore>[0];
  /** The incremental Steward's runner, its delta state's blob calls passed through `override` where it names them. */
  async function runnerOverDeltaState(override: (blobs: ClaimStore) => Partial<DeltaBlobs>) {
    const blobs = new ClaimStore(storages[0]!.connectionString, DELTA_STATE_CONTAINER);
    const through: DeltaBlobs = {
      put: (...args) => blobs.put(...args),
      get: (...args) => blobs.get(...args),
      putLines: (...args) => blobs.putLines(...args),
      getLines: (...args) => blobs.getLines(...args),
      ...override(blobs),
    };
    const services = await createServices(tenant.settings);
    return createAuditRunner(services, { dispatch: 'in-process', pipeline: createAuditPipeline(services, { deltaState: new DeltaStateStore(through) }) });
  }

  it('finds after each of several nights of random changes what a full run of the same state finds', async () => {
    const random = seededRandom(15);
    const first = await incremental.audit.run('cli');
    expect(first.run.collection).toEqual({ mode: 'full', reason: 'no-token' });
    expect(openFindings(first)).toEqual(openFindings(await full.audit.run('cli', { full: true })));
    for (let night = 1; night <= NIGHTS; night++) {
      changeTenant(tenant.sim.state, random, night);
      const byChanges = await incremental.audit.run('cli');
      const byFullRead = await full.audit.run('cli', { full: true });
      expect(byChanges.run.collection).toMatchObject({ mode: 'incremental', checksKeptOpen: [...UNTRACKED] });
      expect(byChanges.run.targets.filter((t) => t.kind === 'environment').map((t) => t.collection?.mode)).toEqual(['incremental', 'incremental']);
      expect(byFullRead.run.collection).toEqual({ mode: 'full', reason: 'requested' });
      expect(openFindings(byChanges), `night ${night}`).toEqual(openFindings(byFullRead));
    }
  });

  it('keeps the state of the last night with changes through quiet nights, and its links still read what changes next', async () => {
    await incremental.audit.run('cli');
    for (const quiet of [1, 2]) {
      const report = await incremental.audit.run('cli');
      expect(report.run.collection, `quiet night ${quiet}`).toMatchObject({ mode: 'incremental', stateRenewed: false });
      expect(report.run.targets.filter((t) => t.kind === 'environment').map((t) => t.collection)).toEqual([
        { mode: 'incremental', reason: 'changes-since-last-run', stateRenewed: false },
        { mode: 'incremental', reason: 'changes-since-last-run', stateRenewed: false },
      ]);
    }
    changeTenant(tenant.sim.state, seededRandom(17), 50);
    const byChanges = await incremental.audit.run('cli');
    expect(byChanges.run.collection).toMatchObject({ mode: 'incremental' });
    expect(byChanges.run.collection?.stateRenewed).toBeUndefined();
    expect(openFindings(byChanges)).toEqual(openFindings(await full.audit.run('cli', { full: true })));
  });

  it("keeps the tenant's findings on a quiet night without reading its users back, and checks them again when one row changes", async () => {
    // Each read of a kept state, and whether it was read to its end.
    const reads: { target: string; whole: boolean }[] = [];
    const runner = await runnerOverDeltaState((blobs) => ({
      getLines: async (target, name) => {
        const lines = await blobs.getLines(target, name);
        if (!lines) return null;
        const read = { target, whole: false };
        reads.push(read);
        return (async function* () {
          yield* lines;
          read.whole = true;
        })();
      },
    }));
    const usersReadBack = () => reads.filter((r) => r.target === 'tenant' && r.whole).length;

    await runner.run('cli', { full: true });
    reads.length = 0;
    const quiet = await runner.run('cli');
    expect(quiet.run.collection).toMatchObject({ mode: 'incremental', stateRenewed: false });
    expect(usersReadBack()).toBe(0);
    expect(openFindings(quiet)).toEqual(openFindings(await full.audit.run('cli', { full: true })));

    // One row disabled, its user's only one: the cross-environment check (E2) must decide again.
    const [first, second] = tenant.sim.state.environments;
    const elsewhere = new Set(second!.systemusers.map((r) => r.azureactivedirectoryobjectid));
    const licensed = new Set(tenant.sim.state.graph.users.filter((u) => u.accountEnabled && u.assignedLicenses.length > 0).map((u) => u.id));
    const row = first!.systemusers.find((r) => !r.isdisabled && !r.applicationid && licensed.has(String(r.azureactivedirectoryobjectid)) && !elsewhere.has(r.azureactivedirectoryobjectid))!;
    row.isdisabled = true;
    reads.length = 0;
    const changed = await runner.run('cli');
    expect(usersReadBack()).toBe(1);
    const expected = openFindings(await full.audit.run('cli', { full: true }));
    expect(expected).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^dataverse\\.disabled-user-licensed \\| tenant \\| ${row.azureactivedirectoryobjectid}`))]));
    expect(openFindings(changed)).toEqual(expected);
  });

  it("audits on when the directory's state cannot be written, and the next night reads the changes of both", async () => {
    let refuse = false;
    const runner = await runnerOverDeltaState((blobs) => ({
      putLines: (target, name, values) => (refuse && target === 'tenant' ? Promise.reject(new Error('storage answered 503')) : blobs.putLines(target, name, values)),
    }));
    await runner.run('cli');
    changeTenant(tenant.sim.state, seededRandom(21), 70);
    refuse = true;
    const unkept = await runner.run('cli');
    refuse = false;
    expect(unkept.run.status).toBe('succeeded');
    expect(openFindings(unkept)).toEqual(openFindings(await full.audit.run('cli', { full: true })));
    changeTenant(tenant.sim.state, seededRandom(22), 71);
    const next = await runner.run('cli');
    expect(next.run.collection).toMatchObject({ mode: 'incremental' });
    expect(openFindings(next)).toEqual(openFindings(await full.audit.run('cli', { full: true })));
  });

  it('checks an environment whose data did not change again when a setting its checks read changed', async () => {
    await incremental.audit.run('cli');
    const quiet = await incremental.audit.run('cli');
    const before = openFindings(quiet);
    const stricter = { ...tenant.sim.settingsEnv(), STEWARD_NON_INTERACTIVE_WARN_AT: '1' };
    const withSetting = await createSteward(loadSettings({ ...stricter, STEWARD_STORAGE_CONNECTION: storages[0]!.connectionString }), { dispatch: 'in-process' });
    const fullWithSetting = await createSteward(loadSettings({ ...stricter, STEWARD_STORAGE_CONNECTION: storages[1]!.connectionString }), { dispatch: 'in-process' });
    const byChanges = await withSetting.audit.run('cli');
    expect(byChanges.run.targets.filter((t) => t.kind === 'environment').map((t) => t.collection?.stateRenewed)).toEqual([undefined, undefined]);
    const expected = openFindings(await fullWithSetting.audit.run('cli', { full: true }));
    expect(expected).not.toEqual(before);
    expect(openFindings(byChanges)).toEqual(expected);
  });

  it('reads in full when the services refuse the tokens, and says why', async () => {
    tenant.sim.setFault('graph', { deltaTokenExpired: true });
    tenant.sim.setFault('dataverse', { deltaTokenExpired: true });
    try {
      changeTenant(tenant.sim.state, seededRandom(16), 99);
      const report = await incremental.audit.run('cli');
      expect(report.run.collection).toEqual({ mode: 'full', reason: 'token-refused' });
      expect(report.run.targets.filter((t) => t.kind === 'environment').map((t) => t.collection)).toEqual([
        { mode: 'full', reason: 'token-refused' },
        { mode: 'full', reason: 'token-refused' },
      ]);
      expect(openFindings(report)).toEqual(openFindings(await full.audit.run('cli', { full: true })));
    } finally {
      tenant.sim.setFault('graph', undefined);
      tenant.sim.setFault('dataverse', undefined);
    }
    // The links of the full read are good for the next night.
    expect((await incremental.audit.run('cli')).run.collection).toMatchObject({ mode: 'incremental' });
  });

  it('reads in full, without following them, links kept from services at another address', async () => {
    // The same tenant served at other addresses (a moved endpoint; each `steward audit --fixture`
    // starts its simulator on new ports): the stored links point at the old ones.
    await incremental.audit.run('cli');
    const moved = await startTestTenant(tenant.sim.exportState(), { storageConnection: storages[0]!.connectionString });
    try {
      const steward = await createSteward(moved.settings, { dispatch: 'in-process' });
      const before = tenant.sim.requests.length;
      const report = await steward.audit.run('cli');
      expect(report.run.status).toBe('succeeded');
      expect(report.run.collection).toEqual({ mode: 'full', reason: 'token-refused' });
      expect(report.run.targets.filter((t) => t.kind === 'environment').map((t) => t.collection)).toEqual([
        { mode: 'full', reason: 'token-refused' },
        { mode: 'full', reason: 'token-refused' },
      ]);
      // No request (and so no bearer token) went to the old addresses.
      expect(tenant.sim.requests.length).toBe(before);
      // (Each simulator has its own certificate authority, and the process trusts the latest one.)
      const byFullRead = await steward.audit.run('cli', { full: true });
      expect(openFindings(report)).toEqual(openFindings(byFullRead));
      expect((await steward.audit.run('cli')).run.collection).toMatchObject({ mode: 'incremental' });
    } finally {
      await moved.stop();
    }
  });
});
