import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { WebApiDataverseGateway } from '../../lib/gateways/dataverse/operations.js';
import type { DataverseTarget } from '../../lib/gateways/dataverse/port.js';
import { allPages } from '../../lib/gateways/http/pages.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { fastRetry } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** SPEC §8: the behaviours of the real services that the simulator shows, met by the real gateways. */

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function start(fixture = demoTenant()) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const options = gatewayOptions(tenant.settings);
  const dataverse = new WebApiDataverseGateway({ ...options.dataverse, credential, retry: fastRetry() });
  const targetOf = (envId: string): DataverseTarget => ({ id: envId, instanceUrl: tenant.sim.urls.dataverse[envId] ?? null });
  return { tenant, fixture, sim: tenant.sim, dataverse, targetOf, credential };
}

/** A raw GET to a simulated host (the gateways would hide what the wire carries). */
function getJson(url: string, headers: Record<string, string>, ca: string): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { headers, ca }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      })
      .on('error', reject);
  });
}

describe('R1: Dataverse per-row next links of a single-level expand', () => {
  it('the simulator puts a link on every row, empty arrays too, and the link returns the same rows', async () => {
    const { sim, fixture, credential } = await start();
    const env = fixture.environments.find((e) => e.hasDataverse && e.systemusers.length > 0)!;
    const api = `${sim.urls.dataverse[env.id]}/api/data/v9.2/`;
    const token = (await credential.getToken(`${sim.urls.dataverse[env.id]}/.default`))!.token;
    const headers = { Authorization: `Bearer ${token}`, Prefer: 'odata.maxpagesize=5000', Accept: 'application/json' };
    const get = (url: string) => getJson(url, headers, sim.ca);
      const page = await get(`${api}systemusers?$select=systemuserid&$expand=systemuserroles_association($select=roleid)`);
      const rows = page.body.value as Record<string, unknown>[];
      expect(rows).toHaveLength(env.systemusers.length);
      for (const row of rows) {
        expect(row['systemuserroles_association@odata.nextLink']).toBe(
          `${api}systemusers(${String(row.systemuserid)})/systemuserroles_association?$select=roleid`,
        );
      }
      const empty = rows.find((r) => (r.systemuserroles_association as unknown[]).length === 0);
      expect(empty?.['systemuserroles_association@odata.nextLink']).toBeTruthy();
      const withRoles = rows.find((r) => (r.systemuserroles_association as unknown[]).length > 0)!;
      const again = await get(String(withRoles['systemuserroles_association@odata.nextLink']));
      expect((again.body.value as { roleid: string }[]).map((r) => r.roleid)).toEqual(
        (withRoles.systemuserroles_association as { roleid: string }[]).map((r) => r.roleid),
      );
  });

  it('the gateway lists systemusers and teams in one request each, with no id twice', async () => {
    const { sim, fixture, dataverse, targetOf } = await start();
    for (const env of fixture.environments.filter((e) => e.hasDataverse)) {
      const before = sim.requests.length;
      const rows = await allPages(dataverse.listSystemUsers(targetOf(env.id)));
      const teams = await allPages(dataverse.listTeams(targetOf(env.id)));
      const requests = sim.requests.slice(before).filter((r) => r.host === `dataverse:${env.id}`);
      expect(requests.map((r) => r.url.split('?')[0])).toEqual(['/api/data/v9.2/systemusers', '/api/data/v9.2/teams']);

      expect(rows).toHaveLength(env.systemusers.length);
      for (const source of env.systemusers) expect(rows.find((r) => r.id === source.systemuserid)?.roleIds).toEqual(source.roles);
      for (const source of env.teams) {
        const team = teams.find((t) => t.id === source.teamid)!;
        expect(team.roleIds).toEqual(source.roles);
        expect(team.memberIds).toEqual(source.members);
      }
    }
  });
});
