import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialOptions } from '../../lib/composition.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import type { Fixture } from '../../simulator/core/fixture.js';
import { CONTOSO } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/**
 * The simulator against the recorded responses of the real services (shared/reference): for each
 * recording, the simulator is sent the same kind of request and must answer with the same envelope
 * (`@odata.context`, `value`, `@odata.etag`, `@odata.nextLink` when paged), every property name of
 * the recording, and the same JSON value types (a null in the recording matches anything; extra
 * properties are fine).
 */

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const sharedRoot = path.resolve(projectRoot, '../shared');
const referenceRoot = path.join(sharedRoot, 'reference');

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const reference = (name: string) => readJson(path.join(referenceRoot, name));

// ── Shape comparison ───────────────────────────────────────────────────────────────────────────

type Kind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';
const kindOf = (value: unknown): Kind =>
  value === null || value === undefined ? 'null' : Array.isArray(value) ? 'array' : (typeof value as 'object' | 'string' | 'number' | 'boolean');

/** What several recorded values have in common: the keys all of them carry, types where they agree. */
export function commonShape(values: unknown[]): unknown {
  if (values.length === 0) return null;
  const kinds = new Set(values.map(kindOf));
  if (kinds.size > 1) return null;
  const [kind] = [...kinds];
  if (kind === 'array') {
    const items = values.flatMap((v) => v as unknown[]);
    return items.length > 0 ? [commonShape(items)] : [];
  }
  if (kind === 'object') {
    const objects = values as Record<string, unknown>[];
    const keys = Object.keys(objects[0]!).filter((k) => objects.every((o) => k in o));
    return Object.fromEntries(keys.map((k) => [k, commonShape(objects.map((o) => o[k]))]));
  }
  return values[0];
}

/** Lists where `actual` departs from the recorded `expected`; `optional` paths may be absent. */
export function shapeProblems(expected: unknown, actual: unknown, where = '$', optional: ReadonlySet<string> = new Set()): string[] {
  const expectedKind = kindOf(expected);
  if (expectedKind === 'null') return [];
  const actualKind = kindOf(actual);
  if (expectedKind !== actualKind) return [`${where}: expected ${expectedKind}, got ${actualKind} (${JSON.stringify(actual)?.slice(0, 80)})`];
  if (expectedKind === 'array') {
    const shape = commonShape(expected as unknown[]);
    if (shape === null || (expected as unknown[]).length === 0) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeProblems(shape, item, `${where}[${i}]`, optional));
  }
  if (expectedKind === 'object') {
    const problems: string[] = [];
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      const path = `${where}.${key}`;
      if (!(key in a)) {
        if (!optional.has(path)) problems.push(`${path}: missing`);
        continue;
      }
      problems.push(...shapeProblems(e[key], a[key], path, optional));
    }
    return problems;
  }
  return [];
}

// ── The simulated tenant ───────────────────────────────────────────────────────────────────────

const { sales: SALES, dev: DEV } = CONTOSO.env;
const ALICE = CONTOSO.user.alice;
const ALICE_ROW = CONTOSO.salesProd.row.alice;
const ROOT_BU = CONTOSO.salesProd.rootBusinessUnit;
const ROLE_EXPAND = 'systemuserroles_association($select=roleid,name,ismanaged,_businessunitid_value)';
const ENVIRONMENTS = '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments';

let tenant: TestTenant;
let bearer: (scope: string) => Promise<string>;

beforeAll(async () => {
  const fixture = readJson(path.join(sharedRoot, 'fixtures', 'contoso.json')) as Fixture;
  tenant = await startTestTenant(fixture);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  bearer = async (scope) => (await credential.getToken(scope))!.token;
});

afterAll(async () => {
  await tenant?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function dataverse(envId: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
  const instance = tenant.sim.urls.dataverse[envId]!;
  const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${instance}/api/data/v9.2/${pathAndQuery}`;
  const response = await fetch(url, {
    headers: {
      Authorization: `Bearer ${await bearer(`${instance}/.default`)}`,
      Accept: 'application/json',
      'OData-MaxVersion': '4.0',
      'OData-Version': '4.0',
      ...headers,
    },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

async function bap(pathAndQuery: string): Promise<Answer> {
  const response = await fetch(`${tenant.sim.urls.powerPlatform}${pathAndQuery}`, {
    headers: { Authorization: `Bearer ${await bearer(tenant.settings.endpoints.powerPlatformScope)}`, Accept: 'application/json' },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** For every recording: the request of the same kind to send the simulator, and paths that may be absent. */
const requests: Record<string, () => Promise<{ answer: Answer; optional?: Set<string> }>> = {
  'dataverse/systemusers.query.json': async () => ({
    answer: await dataverse(SALES, `systemusers?$filter=${encodeURIComponent(`azureactivedirectoryobjectid eq ${ALICE}`)}&$expand=${ROLE_EXPAND}`),
  }),
  'dataverse/systemuser.get.json': async () => ({ answer: await dataverse(SALES, `systemusers(${ALICE_ROW})?$expand=${ROLE_EXPAND}`) }),
  'dataverse/organizations.query.json': async () => ({ answer: await dataverse(SALES, 'organizations') }),
  'dataverse/roles.query.json': async () => ({ answer: await dataverse(SALES, `roles?$filter=${encodeURIComponent(`_businessunitid_value eq ${ROOT_BU}`)}`) }),
  'dataverse/applicationusers.query.json': async () => ({
    answer: await dataverse(SALES, `systemusers?$filter=${encodeURIComponent('applicationid ne null')}&$select=applicationid,azureactivedirectoryobjectid,userpuid`),
  }),
  'bap/environments.list.json': async () => ({ answer: await bap(`${ENVIRONMENTS}?api-version=2020-10-01`) }),
  'bap/environment.get.json': async () => {
    // Properties only some environments carry (billing policy, environment group, copilot policies…):
    // those the recorded list does not show on every environment.
    const list = reference('bap/environments.list.json') as { value: { properties: Record<string, unknown> }[] };
    const all = new Set(list.value.flatMap((e) => Object.keys(e.properties)));
    const conditional = [...all].filter((k) => !list.value.every((e) => k in e.properties));
    return {
      answer: await bap(`${ENVIRONMENTS}/${DEV}?api-version=2020-10-01&$expand=permissions,properties.capacity,properties/billingPolicy,properties/copilotPolicies`),
      optional: new Set(conditional.map((k) => `$.properties.${k}`)),
    };
  },
};

const recordings = ['dataverse', 'bap'].flatMap((dir) =>
  readdirSync(path.join(referenceRoot, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${dir}/${f}`),
);

describe('simulator answers match the recorded responses', () => {
  it('has a request for every recording', () => {
    expect(recordings.length).toBeGreaterThan(0);
    expect(recordings.filter((r) => !requests[r])).toEqual([]);
  });

  it.each(recordings)('%s', async (recording) => {
    const expected = reference(recording) as Record<string, unknown>;
    const { answer, optional } = await requests[recording]!();
    expect(answer.status).toBe(200);
    expect(shapeProblems(expected, answer.body, '$', optional)).toEqual([]);
    // The envelope: a collection has `value` (and Dataverse its `@odata.context`), a record its etag.
    if (recording.startsWith('dataverse/')) {
      expect(typeof answer.body['@odata.context']).toBe('string');
      const records = Array.isArray(answer.body.value) ? (answer.body.value as Record<string, unknown>[]) : [answer.body];
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) expect(record['@odata.etag']).toMatch(/^W\/"\d+"$/);
    }
    if ('value' in expected) expect(Array.isArray(answer.body.value) && (answer.body.value as unknown[]).length > 0).toBe(true);
  });
});

describe('simulator envelopes beyond the recordings', () => {
  it('pages Dataverse collections with an absolute @odata.nextLink and Preference-Applied', async () => {
    const prefer = { Prefer: 'odata.maxpagesize=4' };
    const seen: string[] = [];
    let answer = await dataverse(SALES, 'systemusers?$select=systemuserid,domainname', prefer);
    let pages = 1;
    for (;;) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('preference-applied')).toBe('odata.maxpagesize=4');
      expect(answer.body['@odata.context']).toMatch(/\/api\/data\/v9\.2\/\$metadata#systemusers\(systemuserid,domainname\)$/);
      seen.push(...(answer.body.value as { systemuserid: string }[]).map((r) => r.systemuserid));
      const next = answer.body['@odata.nextLink'] as string | undefined;
      if (!next) break;
      expect(next.startsWith(`${tenant.sim.urls.dataverse[SALES]}/api/data/v9.2/systemusers?`)).toBe(true);
      expect(next).toContain('$skiptoken=');
      answer = await dataverse(SALES, next, prefer);
      pages++;
    }
    const total = tenant.sim.state.environments.find((e) => e.id === SALES)!.systemusers.length;
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 4));
  });

  it('answers WhoAmI with the organization and the root business unit', async () => {
    const answer = await dataverse(SALES, 'WhoAmI');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      '@odata.context': `${tenant.sim.urls.dataverse[SALES]}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: ROOT_BU,
      UserId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      OrganizationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const organization = await dataverse(SALES, 'organizations?$select=organizationid');
    expect((organization.body.value as { organizationid: string }[])[0]!.organizationid).toBe(answer.body.OrganizationId);
  });

  it('answers Dataverse and BAP errors in their own shapes', async () => {
    const missing = await dataverse(SALES, 'systemusers(11111111-2222-4333-8444-555555555555)');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: '0x80040217', message: expect.stringContaining('Does Not Exist') } });

    const unknownColumn = await dataverse(SALES, 'systemusers?$select=nosuchcolumn');
    expect(unknownColumn.status).toBe(400);
    expect(unknownColumn.body).toEqual({ error: { code: '0x80060888', message: expect.stringContaining("'nosuchcolumn'") } });

    const skip = await dataverse(SALES, 'systemusers?$skip=10');
    expect(skip.status).toBe(400);

    const noVersion = await bap(ENVIRONMENTS);
    expect(noVersion.status).toBe(400);
    expect(noVersion.body).toEqual({ error: { code: 'MissingApiVersionParameter', message: expect.any(String) } });

    const environment = await bap(`${ENVIRONMENTS}/0badc0de-0000-4000-8000-000000000000?api-version=2020-10-01`);
    expect(environment.status).toBe(404);
    expect(environment.body).toEqual({ error: { code: 'EnvironmentNotFound', message: expect.stringContaining('could not be found in the tenant') } });
  });
});
