import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENV, SF_ORG, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { seededRandom } from '../../simulator/core/random.js';
import { FUNCTION_KEY, startHarness, type Harness } from './support/harness.js';

/**
 * Thousands of malformed requests across every user-operation route: each one breaks at least one
 * rule of the edge (a bad path parameter, a bad or unknown body field, a body that is not JSON, a
 * bad Idempotency-Key, a wrong method or route). Every answer must be a 4xx problem+json, never a
 * 5xx, and nothing may reach the tenant: the simulator's state and request log stay as they were.
 * The generator is seeded, so a failure can be replayed.
 */

const REQUESTS = 2000;
const CONCURRENCY = 24;
const SEED = 20250101;

let h: Harness;
beforeAll(async () => {
  h = await startHarness(operationsTenant());
});
afterAll(() => h?.stop());

// ── Seeded draws (the simulator's generator, so a failure replays) ──────────────────────────

const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number) => random() < p;
const junkText = (length: number) => Array.from({ length }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');

// ── What a malformed request may carry ──────────────────────────────────────────────────────

const BAD_ENV = ['bad env', "x'y", 'a'.repeat(101), '-leading', 'é', 'a/b', "' or 1 eq 1 or '", '%ZZ', '..', 'env?x', 'tab\there'];
const BAD_USER = ['nobody', "o'x@@fabrikam.onmicrosoft.com", `${'x'.repeat(120)}@fabrikam.com`, 'a@b', ' ', 'alice@', '@fabrikam.onmicrosoft.com', "alice' or '1'='1@x.com", '12345678-1234-1234-1234-12345678901', 'a b@c.com'];
const BAD_ORG = ['00D123', 'not-an-org', "00D5g000004FABR'A", '005g000004FABRAAAA', '00D5g000004FABRAAAAX'];
const NOT_JSON = ['{', '{"a":', 'nul', '<xml/>', "'single'", '{"a":1,}', '[1,2', 'undefined', '\u0000\u0001', '{"role": tru}'];
const NOT_OBJECT = [[], [1, 2], 'text', 42, true];
const BAD_KEYS = ['has space', 'x'.repeat(300), '', 'tab\tkey'];

interface Plan {
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers: Record<string, string>;
  why: string;
}

type Body = Record<string, unknown>;

/** Each route: its method, how to build its path from params, a valid body, and body defects that validation must refuse. */
interface RouteModel {
  method: string;
  params: Record<string, string>;
  path(params: Record<string, string>): string;
  valid(): Body | undefined;
  defects: ((body: Body) => Body)[];
  /** A body of null or nothing is itself a defect (false for routes whose body is optional). */
  bodyRequired: boolean;
}

const withField = (key: string, value: unknown) => (body: Body) => ({ ...body, [key]: value });
const without = (key: string) => (body: Body) => {
  const copy = { ...body };
  delete copy[key];
  return copy;
};
const unknownField = (body: Body) => ({ ...body, [pick(['extra', 'password', 'isAdmin', '__proto__x', 'accessmode'])]: pick([1, 'x', null, {}]) });

const envUser = (p: Record<string, string>, tail: string) => `environments/${encodeURIComponent(p.env!)}/users/${encodeURIComponent(p.user!)}/${tail}`;

const routes: RouteModel[] = [
  {
    method: 'POST',
    params: {},
    path: () => 'users',
    bodyRequired: true,
    valid: () => ({ userPrincipalName: upn(`fuzz${Math.floor(random() * 1e6)}`), displayName: 'Fuzz', usageLocation: 'IT', licenses: ['SPE_E3'], environments: [ENV.sales] }),
    defects: [
      without('displayName'),
      without('userPrincipalName'),
      without('usageLocation'),
      withField('displayName', ''),
      withField('displayName', '   '),
      withField('displayName', 'x'.repeat(300)),
      withField('userPrincipalName', pick(['no-at', 'a@b', 'x y@fabrikam.onmicrosoft.com', "o'neil@@x.com", 5])),
      withField('usageLocation', pick(['ITA', 'I1', 5, ''])),
      withField('licenses', pick(['SPE_E3', [1], ['bad sku!'], Array.from({ length: 21 }, () => 'SPE_E3'), {}])),
      withField('environments', pick(['x', ['bad env'], [1], [null]])),
      withField('returnTemporaryPassword', pick(['yes', 1, 'true', []])),
      withField('givenName', pick([5, 'x'.repeat(65), 'bad\u0001name', []])),
      withField('mailNickname', pick(['a b', 'x'.repeat(65), 'a@b', 3])),
      withField('jobTitle', 'x'.repeat(129)),
      withField('department', { name: 'Sales' }),
      unknownField,
    ],
  },
  {
    method: 'POST',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'enable'),
    bodyRequired: false,
    valid: () => ({ license: 'SPE_E3' }),
    defects: [withField('license', pick([5, 'bad sku!', '', ['SPE_E3'], true])), unknownField],
  },
  {
    method: 'POST',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'disable'),
    bodyRequired: false,
    valid: () => ({ removeLicenses: true }),
    defects: [withField('removeLicenses', pick(['true', 1, 'yes', {}, []])), unknownField],
  },
  {
    method: 'PUT',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'access-mode'),
    bodyRequired: true,
    valid: () => ({ accessMode: 'read-write' }),
    defects: [
      without('accessMode'),
      withField('accessMode', pick(['read', 'Read-Write', 4, 'support-user', '', null])),
      withField('removeLicenses', pick(['no', 0, []])),
      unknownField,
    ],
  },
  {
    method: 'POST',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'sync'),
    bodyRequired: false,
    valid: () => undefined,
    defects: [() => ({ force: true }), unknownField],
  },
  {
    method: 'POST',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'roles'),
    bodyRequired: true,
    valid: () => ({ role: 'Salesperson' }),
    defects: [without('role'), withField('role', pick(['', '   ', 5, 'x'.repeat(101), 'bad\u0002role', ['Salesperson'], null])), unknownField],
  },
  {
    method: 'POST',
    params: { env: ENV.sales },
    path: (p) => `environments/${encodeURIComponent(p.env!)}/application-users`,
    bodyRequired: true,
    valid: () => ({ applicationId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', roles: ['Basic User'] }),
    defects: [
      without('applicationId'),
      withField('applicationId', pick(['app', 123, '9a8b7c6d-5e4f-4a3b-8c2d', '', null])),
      withField('roles', pick(['Basic User', [5], [''], Array.from({ length: 21 }, () => 'Basic User'), {}])),
      unknownField,
    ],
  },
  {
    method: 'POST',
    params: { org: SF_ORG },
    path: (p) => `salesforce/${encodeURIComponent(p.org!)}/integration-user/activate`,
    bodyRequired: false,
    valid: () => undefined,
    defects: [() => ({ force: true }), unknownField],
  },
  {
    method: 'GET',
    params: { env: ENV.sales, user: upn('alice') },
    path: (p) => envUser(p, 'enable-status'),
    bodyRequired: false,
    valid: () => undefined,
    defects: [],
  },
];

function plan(): Plan {
  const route = pick(routes);
  const params = { ...route.params };
  let body: unknown = route.valid();
  let rawBody: string | undefined;
  let method = route.method;
  let path = '';
  const headers: Record<string, string> = { 'x-functions-key': FUNCTION_KEY };
  const why: string[] = [];

  const defects: (() => void)[] = [];
  if ('env' in params) defects.push(() => ((params.env = pick(BAD_ENV)), why.push('env')));
  if ('user' in params) defects.push(() => ((params.user = pick(BAD_USER)), why.push('user')));
  if ('org' in params) defects.push(() => ((params.org = pick(BAD_ORG)), why.push('org')));
  if (route.method === 'GET') {
    defects.push(() => ((path = `?until=${encodeURIComponent(pick(['soon', 'ENABLED', '', junkText(8)]))}`), why.push('query')));
  } else {
    for (const defect of route.defects) defects.push(() => ((body = defect({ ...((body as Body | undefined) ?? {}) })), why.push('body field')));
    defects.push(() => ((rawBody = pick(NOT_JSON)), why.push('not JSON')));
    defects.push(() => ((body = pick(NOT_OBJECT)), why.push('not an object')));
    defects.push(() => ((headers['idempotency-key'] = pick(BAD_KEYS)), why.push('idempotency key')));
    if (route.bodyRequired) defects.push(() => ((body = pick([undefined, null])), why.push('no body')));
  }
  defects.push(() => ((method = pick(['DELETE', 'PATCH', route.method === 'PUT' ? 'POST' : 'PUT'])), why.push('method')));

  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) pick(defects)();
  if (chance(0.05)) {
    why.push('route');
    return { method, path: `${route.path(params)}/${pick(['extra', 'x', '..'])}`, headers, body, rawBody, why: why.join(', ') };
  }
  return { method, path: route.path(params) + path, headers, body, rawBody, why: why.join(', ') };
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

it(`answers ${REQUESTS} malformed requests with 4xx problem+json and leaves the tenant untouched`, async () => {
  const before = JSON.stringify(h.sim.exportState());
  const upstreamBefore = h.sim.requests.length;
  const plans = Array.from({ length: REQUESTS }, plan);
  const statuses = new Map<number, number>();
  const wrong: string[] = [];

  await pool(plans, CONCURRENCY, async (p) => {
    const answer = await h.call(p.method, p.path, { body: p.body, rawBody: p.rawBody, headers: p.headers });
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const problem = answer.body as { type?: unknown; title?: unknown; status?: unknown; errors?: unknown[] } | undefined;
    const ok =
      answer.status >= 400 &&
      answer.status < 500 &&
      answer.contentType === 'application/problem+json' &&
      typeof problem?.type === 'string' &&
      typeof problem.title === 'string' &&
      problem.status === answer.status &&
      (answer.status !== 400 || (Array.isArray(problem.errors) && problem.errors.length > 0));
    if (!ok) wrong.push(`${p.method} ${p.path} [${p.why}] → ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  });

  expect(wrong.slice(0, 10)).toEqual([]);
  expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
  // Mostly validation refusals; some wrong methods and routes.
  expect(statuses.get(400)).toBeGreaterThan(REQUESTS / 2);
  expect(statuses.get(405)).toBeGreaterThan(0);
  expect(statuses.get(404)).toBeGreaterThan(0);
  // Nothing reached the tenant, nothing changed in it.
  expect(h.sim.requests.length).toBe(upstreamBefore);
  expect(JSON.stringify(h.sim.exportState())).toBe(before);
});
