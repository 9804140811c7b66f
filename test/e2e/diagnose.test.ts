import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose, type Diagnosis } from '../../lib/diagnose/diagnose.js';
import { salesforceReadiness } from '../../lib/diagnose/readiness.js';
import type { ApiRequest, ApiResponse } from '../../lib/http/api.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { NotFoundError } from '../../lib/domain/errors.js';
import {
  APPLICATION_OBJECT_ID,
  DELETED_USER_ID,
  ENV,
  ORG,
  diagnoseTenant,
  enableMarketingTenantLicense,
  ids,
  upn,
} from '../fixtures/diagnose-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * Diagnose (SPEC §3) end to end: the real gateways over loopback HTTP against the simulated Adatum
 * tenant (test/fixtures/diagnose-tenant.ts), one case per rule branch, each also counting what it
 * asked upstream. One simulator and one Azurite for the whole file.
 */

let t: TestServices;
beforeAll(async () => {
  t = await startTestServices(diagnoseTenant());
});
afterAll(() => t?.stop());

/**
 * The hosts of the services diagnose questions: Graph, the Power Platform admin API, each
 * environment's Dataverse and each Salesforce org. Requests to `login` (the OAuth token endpoint)
 * are not counted: they fetch the credentials to ask with, not facts about the tenant, and are
 * cached across calls.
 */
const SERVICE_HOST = /^(graph|powerplatform|dataverse:.+|salesforce:.+)$/;

async function diagnosed(user: string, env: string): Promise<{ result: Diagnosis; upstream: string[] }> {
  const from = t.sim.requests.length;
  const result = await diagnose(t.services, user, env);
  const upstream = t.sim.requests
    .slice(from)
    .filter((r) => SERVICE_HOST.test(r.host))
    .map((r) => `${r.host} ${r.method} ${r.url}`);
  return { result, upstream };
}

interface Case {
  name: string;
  user: string;
  env: string;
  verdict: Diagnosis['verdict'];
  addedBy: Diagnosis['addedBy'];
  mode: Diagnosis['expectedAccessMode'];
  reasons: string[];
  notes: string[];
  /** The current row: disabled?, access mode, role names (`name via team` for team roles); null: none. */
  row: { isdisabled: boolean; accessMode: number; roles: string[] } | null;
  /** Must match one of the reasons' (or notes') messages. */
  says?: RegExp;
  /** Changes the live tenant for this case; returns the undo. */
  setup?: () => () => void;
}

const R = (accessMode: number, roles: string[], isdisabled = false) => ({ isdisabled, accessMode, roles });
const SALES = ['Salesperson'];

const cases: Case[] = [
  // Entitled, through the background sync (D1).
  { name: 'licensed direct member with a role (Production)', user: upn('rosa'), env: ENV.prod, verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: [], row: R(0, SALES) },
  { name: 'the same user named by object id', user: ids.user('rosa'), env: ENV.prod, verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: [], row: R(0, SALES) },
  {
    name: 'entitled but no row yet: the sync adds it (D1)', user: upn('noah'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: ['D1'], row: null, says: /no row yet; the background sync adds it/,
  },
  // D4.1
  {
    name: 'Entra account disabled (D4.1)', user: upn('dina'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.1'], notes: [], row: R(0, SALES), says: /disabled in Microsoft Entra ID/,
  },
  {
    name: 'Entra account deleted, its row left behind (D4.1)', user: DELETED_USER_ID, env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.1'], notes: [], row: R(0, SALES), says: /does not exist in Microsoft Entra ID/,
  },
  // D4.2 and its exceptions
  {
    name: 'no license, no exception (D4.2)', user: upn('lars'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.2'], notes: [], row: R(0, SALES), says: /holds no license/,
  },
  {
    name: 'guest without a license of this tenant (D4.2)', user: upn('gwen'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.2'], notes: [], row: R(0, SALES), says: /guest.*home tenant does not count/,
  },
  {
    name: 'exception i: unlicensed Global administrator, not a member → setup user, Administrative (A2)', user: upn('abe'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'administrative', reasons: [], notes: [], row: R(1, ['System Administrator']),
  },
  {
    name: 'exception i: unlicensed Power Platform administrator, not a member, no row (A2)', user: upn('paula'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'administrative', reasons: [], notes: ['D1'], row: null,
  },
  {
    name: 'Dynamics 365 administrator who is not a member (D4.3)', user: upn('dmitri'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'administrative', reasons: ['D4.3'], notes: [], row: R(1, ['System Administrator']), says: /Dynamics 365 administrator.*must be a member/,
  },
  {
    name: 'Dynamics 365 administrator who is a member → Administrative (A2)', user: upn('dora'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'administrative', reasons: [], notes: ['D1'], row: null,
  },
  {
    name: 'exception ii: environment with pass per app, on demand (D2)', user: upn('pete'), env: ENV.apps,
    verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: ['D2'], row: null, says: /background sync will not add one/,
  },
  {
    name: 'pass per app is per environment: none in Production', user: upn('pete'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.2', 'D4.3'], notes: [], row: null,
  },
  {
    name: 'exception iii: tenant-level marketing license, on demand (D2)', user: upn('mara'), env: ENV.prod, setup: () => enableMarketingTenantLicense(t.sim.state),
    verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: ['D2'], row: null,
  },
  {
    name: 'a suspended marketing license entitles nobody (D4.2)', user: upn('mara'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.2'], notes: [], row: null,
  },
  {
    name: 'exception iv: non-interactive row, no license (T3)', user: upn('svc'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'non-interactive', reasons: [], notes: [], row: R(4, ['Basic User']),
  },
  {
    name: 'exception v: free Dataverse plan of Microsoft 365, on demand (D2)', user: upn('fran'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: ['D2'], row: null,
  },
  // D4.3, E4
  {
    name: 'not a member of the security group (D4.3)', user: upn('nils'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.3'], notes: [], row: R(0, SALES), says: /not a direct member of the environment's security group "ENV-Adatum-Prod"/,
  },
  {
    name: 'member only through a nested group, named (D4.3, E4)', user: upn('nell'), env: ENV.prod,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.3'], notes: [], row: R(0, SALES), says: /through the nested group "Adatum Contractors"/,
  },
  {
    name: 'owner of the security group, not a member: on demand (D4.3)', user: upn('otto'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: ['D2'], row: null,
  },
  { name: 'every failed requirement is a reason', user: upn('zed'), env: ENV.prod, verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D4.1', 'D4.2', 'D4.3'], notes: [], row: null },
  // Rows
  {
    name: 'row disabled although eligible (D1)', user: upn('carl'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: ['D1'], row: R(0, SALES, true), says: /row is disabled although the user meets every requirement/,
  },
  {
    name: 'no security role, directly or through a team (U3)', user: upn('ursula'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: ['U3'], row: R(0, []), says: /no security role/,
  },
  {
    name: 'a role through a team is a role (U3)', user: upn('tina'), env: ENV.prod,
    verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: [], row: R(0, ['Salesperson via Adatum Sales']),
  },
  // Environment types (D3, D5)
  { name: 'Developer: its creator (D5)', user: upn('rosa'), env: ENV.dev, verdict: 'eligible', addedBy: 'background-sync', mode: 'read-write', reasons: [], notes: [], row: R(0, ['Salesperson']) },
  {
    name: 'Developer: anyone else (D5)', user: upn('noah'), env: ENV.dev,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D5'], notes: [], row: null, says: /only its creator/,
  },
  { name: 'Trial: on demand only (D5)', user: upn('noah'), env: ENV.trial, verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: ['D2'], row: null },
  { name: 'Dataverse for Teams: first access only (D2, D5)', user: upn('rosa'), env: ENV.teams, verdict: 'eligible', addedBy: 'on-demand', mode: 'read-write', reasons: [], notes: [], row: R(0, ['Salesperson']) },
  {
    name: 'no Dataverse database (D3, E1)', user: upn('rosa'), env: ENV.noDataverse,
    verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D3'], notes: [], row: null, says: /no Dataverse database/,
  },
  { name: 'no Dataverse database, and no license', user: upn('lars'), env: ENV.noDataverse, verdict: 'not-eligible', addedBy: 'none', mode: 'read-write', reasons: ['D3', 'D4.2'], notes: [], row: null },
];

const rowView = (row: Diagnosis['currentRow']) =>
  row && { isdisabled: row.isdisabled, accessMode: row.accessMode, roles: row.roles.map((r) => (r.via === 'team' ? `${r.name} via ${r.team}` : r.name)) };

describe('diagnose (SPEC §3) through the real gateways', () => {
  it.each(cases)('$name', async (c) => {
    const undo = c.setup?.();
    let outcome: Awaited<ReturnType<typeof diagnosed>>;
    try {
      outcome = await diagnosed(c.user, c.env);
    } finally {
      undo?.();
    }
    const { result, upstream } = outcome;
    expect({
      verdict: result.verdict,
      addedBy: result.addedBy,
      mode: result.expectedAccessMode,
      reasons: result.reasons.map((r) => r.factId).sort(),
      notes: result.notes.map((n) => n.factId).sort(),
      row: rowView(result.currentRow),
    }).toEqual({ verdict: c.verdict, addedBy: c.addedBy, mode: c.mode, reasons: [...c.reasons].sort(), notes: [...c.notes].sort(), row: c.row });
    expect(result.environment.id).toBe(c.env);
    for (const r of [...result.reasons, ...result.notes]) expect(r.remediation.length).toBeGreaterThan(10);
    if (c.says) expect([...result.reasons, ...result.notes].map((r) => r.message).join('\n')).toMatch(c.says);
    // A handful of requests, never a tenant scan.
    expect(upstream.length, upstream.join('\n')).toBeGreaterThanOrEqual(2);
    expect(upstream.length, upstream.join('\n')).toBeLessThanOrEqual(6);
  });

  it('asks each service only about this user and environment', async () => {
    const { upstream } = await diagnosed(upn('tina'), ENV.prod);
    // One environment read, one Graph $batch, and the user's row, teams and role names.
    expect(upstream.filter((r) => r.startsWith('powerplatform '))).toEqual([expect.stringContaining(`/environments/${ENV.prod}?`)]);
    expect(upstream.filter((r) => r.startsWith('graph '))).toEqual([expect.stringContaining('POST /v1.0/$batch')]);
    const dataverse = upstream.filter((r) => r.startsWith('dataverse:'));
    expect(dataverse.every((r) => r.startsWith(`dataverse:${ENV.prod} GET `)), dataverse.join('\n')).toBe(true);
    const rowQueries = dataverse.filter((r) => /\/systemusers\?/.test(r));
    expect(rowQueries).toEqual([expect.stringContaining(`$filter=azureactivedirectoryobjectid%20eq%20${ids.user('tina')}`)]);
    expect(dataverse.filter((r) => r.includes(`/systemusers(${ids.row('Prod', 'tina')})/teammembership_association`))).toHaveLength(1);
  });

  it('does not ask Dataverse about an environment that has none (D3)', async () => {
    const { upstream } = await diagnosed(upn('rosa'), ENV.noDataverse);
    expect(upstream.some((r) => r.startsWith('dataverse:'))).toBe(false);
  });

  it('does not take a support, delegated admin or stub row for a user (T4–T6)', async () => {
    for (const name of ['crmoln@microsoft.com', 'crmoln2@microsoft.com', 'imported.owner@adatum.example']) {
      await expect(diagnose(t.services, name, ENV.prod)).rejects.toMatchObject({ name: 'NotFoundError', kind: 'user', id: name });
    }
  });

  it('does not call an application user deleted, nor advise removing its row (T2)', async () => {
    const error = await diagnose(t.services, APPLICATION_OBJECT_ID, ENV.prod).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/application user \(T2\)/);
    expect((error as Error).message).toMatch(/breaks every integration/);
  });

  it('answers an unknown user or environment with the NotFoundError the API maps to 404', async () => {
    await expect(diagnose(t.services, `nobody@${'adatum.onmicrosoft.com'}`, ENV.prod)).rejects.toMatchObject({ name: 'NotFoundError', kind: 'user' });
    await expect(diagnose(t.services, ids.user('never-existed'), ENV.prod)).rejects.toBeInstanceOf(NotFoundError);
    await expect(diagnose(t.services, upn('rosa'), ids.env('Nowhere'))).rejects.toMatchObject({ name: 'NotFoundError', kind: 'environment' });
  });
});

// ── HTTP ──────────────────────────────────────────────────────────────────────────────────────

const route = (name: string) => {
  const found = apiRoutes.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
};

/** A GET as the Functions host or `steward serve` hands it to a route, built by hand. */
function get(path: string, params: Record<string, string>): ApiRequest {
  const url = `http://127.0.0.1:7071/api/${path}`;
  return {
    method: 'GET',
    url,
    params,
    query: new URL(url).searchParams,
    headers: {},
    body: undefined,
    principal: { id: 'e2e-test', roles: ['Steward.Read'], authenticated: false },
  };
}

type Body = Record<string, any>;
const answer = (response: ApiResponse) => ({ status: response.status, type: response.headers?.['content-type'] ?? '', body: response.body as Body });
const getDiagnosis = async (env: string, user: string) =>
  answer(await route('diagnosis-get').handle(get(`environments/${encodeURIComponent(env)}/users/${encodeURIComponent(user)}/diagnosis`, { env, user }), t));
const getReadiness = async (org: string) => answer(await route('salesforce-readiness').handle(get(`salesforce/${encodeURIComponent(org)}/s2s-readiness`, { org }), t));

describe('GET /api/environments/{env}/users/{user}/diagnosis', () => {
  it('answers 200 with the diagnosis', async () => {
    const response = await getDiagnosis(ENV.prod, upn('nell'));
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ verdict: 'not-eligible', addedBy: 'none', expectedAccessMode: 'read-write', user: { userPrincipalName: upn('nell') } });
    expect(response.body.reasons.map((r: Body) => r.factId)).toEqual(['D4.3']);
    expect(response.body.reasons[0].message).toContain('Adatum Contractors');
  });

  it('diagnoses a user deleted from Entra ID by UPN, from the row left behind, and answers its checklist (issue 14)', async () => {
    const response = await getDiagnosis(ENV.prod, upn('gone'));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ user: null, verdict: 'not-eligible', currentRow: { isdisabled: false } });
    expect(response.body.reasons.map((r: Body) => r.factId)).toEqual(['D4.1']);
    expect(response.body.checklist.requirements.find((r: Body) => r.check === 'account')).toMatchObject({ status: 'failed', factId: 'D4.1' });
    expect(response.body.checklist.signIn).toEqual({ now: false, why: 'No: the account no longer exists in Entra ID (D4.1).' });
    expect(response.body.checklist.next.by).toBe('never');
  });

  it('answers 404 problem+json for an unknown user or environment', async () => {
    for (const [env, user] of [[ENV.prod, `nobody@adatum.onmicrosoft.com`], [ids.env('Nowhere'), upn('rosa')]] as const) {
      const response = await getDiagnosis(env, user);
      expect(response.status).toBe(404);
      expect(response.type).toBe('application/problem+json');
    }
  });

  it('answers 400 for a malformed environment id or user, asking nothing upstream', async () => {
    const from = t.sim.requests.length;
    expect((await getDiagnosis('not an environment!', upn('rosa'))).status).toBe(400);
    expect((await getDiagnosis(ENV.prod, 'a/b')).status).toBe(400);
    expect(t.sim.requests.slice(from).filter((r) => SERVICE_HOST.test(r.host))).toEqual([]);
  });
});

describe('GET /api/salesforce/{org}/s2s-readiness', () => {
  const statuses = (body: Body) => Object.fromEntries(body.checks.map((c: Body) => [c.id, c.status]));

  it('finds the integration user, profile, permission set and External Client App by their M365 Copilot Sales names', async () => {
    const response = await getReadiness(ORG.m365);
    expect(response.status).toBe(200);
    expect(response.body.org).toEqual({ id: ORG.m365, name: 'Adatum Sales (Salesforce)' });
    expect(statuses(response.body)).toEqual({ S1: 'ok', S2: 'ok', S4: 'warning', S5: 'ok', 'connected-app': 'ok', 'api-integration-psl': 'ok' });
    expect(response.body.checks.find((c: Body) => c.id === 'S4').message).toContain('M365CopilotSalesPermissionSet');
  });

  it('sees a profile name in use whatever its case, and no integration license left (S2, S5)', async () => {
    const result = await salesforceReadiness(t.services, ORG.legacy);
    expect(Object.fromEntries(result.checks.map((c) => [c.id, c.status]))).toEqual({
      S1: 'ok', S2: 'problem', S4: 'ok', S5: 'warning', 'connected-app': 'ok', 'api-integration-psl': 'ok',
    });
    expect(result.checks.find((c) => c.id === 'S5')!.message).toContain('COPILOTFORSALESINTEGRATIONPROFILE');
  });

  it('answers 404 for an unknown org and 400 for a malformed id', async () => {
    const unknown = await getReadiness('00D5g00000NONEXAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('application/problem+json');
    expect((await getReadiness('not-an-org')).status).toBe(400);
  });
});
