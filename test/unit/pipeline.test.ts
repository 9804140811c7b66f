import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_TABLE, PASSWORD_SHOWN_ONCE_NOTICE } from '../../lib/http/idempotency.js';
import { OPERATIONS_TABLE } from '../../lib/http/operation-log.js';
import { apiLink, defineRoute, json } from '../../lib/http/pipeline.js';
import { ConcurrentChangeRefusal, RuleRefusal } from '../../lib/domain/errors.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { memoryApp, memoryServices } from './support/memory-tenant.js';
import { apiRequest } from './support/requests.js';

/** A mutation that counts its runs and answers a secret once, like users-create. */
function countingRoute(behaviour: (n: number) => Promise<unknown> | unknown = () => ({ ok: true })) {
  let runs = 0;
  const route = defineRoute({
    name: 'things-create',
    doc: { operationId: 'Things', summary: 'Things', description: 'Things.' },
    methods: ['POST'],
    route: 'things/{thing}',
    role: 'Steward.Manage',
    mutation: true,
    params: z.object({ thing: z.string().min(1) }).strict(),
    body: z.object({ name: z.string() }).strict(),
    secretFields: ['temporaryPassword'],
    async run() {
      runs++;
      const result = await behaviour(runs);
      return json(201, result);
    },
  });
  return { route, runs: () => runs };
}

const readRoute = defineRoute({
  name: 'things-read',
  doc: { operationId: 'Things', summary: 'Things', description: 'Things.' },
  methods: ['GET'],
  route: 'things/{thing}',
  role: 'Steward.Read',
  mutation: false,
  params: z.object({ thing: z.string() }).strict(),
  run: async ({ params }) => json(200, { thing: params.thing }),
});

const post = (headers: Record<string, string> = {}, body: unknown = { name: 'n' }) =>
  apiRequest({ params: { thing: 't1' }, headers, body });

describe('the route pipeline', () => {
  it('with app roles required, answers 401 without a platform principal and 403 without the role', async () => {
    const services = memoryServices(undefined, { settings: { requireAppRoles: true } });
    const { route, runs } = countingRoute();
    const anonymous = await route.handle(post({}), memoryApp({ ...services }));
    expect(anonymous.status).toBe(401);
    const reader = await route.handle(
      { ...post(), principal: { id: 'u1', roles: ['Steward.Read'], authenticated: true } },
      memoryApp(services),
    );
    expect(reader.status).toBe(403);
    expect((reader.body as { requiredRole: string }).requiredRole).toBe('Steward.Manage');
    const manager = await route.handle({ ...post(), principal: { id: 'u1', roles: ['Steward.Manage'], authenticated: true } }, memoryApp(services));
    expect(manager.status).toBe(201);
    expect(runs()).toBe(1);
  });

  it('in read-only mode refuses every mutation with 409 and still answers reads', async () => {
    const services = memoryServices(undefined, { settings: { readOnly: true } });
    const { route, runs } = countingRoute();
    const refused = await route.handle(post(), memoryApp(services));
    expect(refused.status).toBe(409);
    expect((refused.body as { code: string }).code).toBe('read-only');
    expect(runs()).toBe(0);
    expect((await readRoute.handle(apiRequest({ method: 'GET', params: { thing: 'x' } }), memoryApp(services))).status).toBe(200);
  });

  it('replays the first answer for the same Idempotency-Key without running again', async () => {
    const services = memoryServices();
    const { route, runs } = countingRoute((n) => ({ run: n }));
    const first = await route.handle(post({ 'Idempotency-Key': 'k-1' }), memoryApp(services));
    const second = await route.handle(post({ 'Idempotency-Key': 'k-1' }), memoryApp(services));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual({ run: 1 });
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(runs()).toBe(1);
    const stored = services.memoryTables.get(IDEMPOTENCY_TABLE).entities();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.partitionKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('forgets a key after its expiry (STEWARD_IDEMPOTENCY_TTL_HOURS): the same key then runs again', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    const services = memoryServices(undefined, { settings: { idempotencyTtlHours: 24 }, now: () => clock });
    const { route, runs } = countingRoute((n) => ({ run: n }));
    await route.handle(post({ 'Idempotency-Key': 'daily' }), memoryApp(services));
    clock = new Date('2030-01-01T23:59:00Z');
    expect((await route.handle(post({ 'Idempotency-Key': 'daily' }), memoryApp(services))).body).toEqual({ run: 1 });
    clock = new Date('2030-01-02T00:01:00Z');
    expect((await route.handle(post({ 'Idempotency-Key': 'daily' }), memoryApp(services))).body).toEqual({ run: 2 });
    expect(runs()).toBe(2);
    const [stored] = services.memoryTables.get(IDEMPOTENCY_TABLE).entities();
    expect(stored!.expiresAt).toBe('2030-01-03T00:01:00.000Z');
  });

  it('refuses with 422 a key reused for a different request, and treats another key as new', async () => {
    const services = memoryServices();
    const { route, runs } = countingRoute();
    await route.handle(post({ 'Idempotency-Key': 'k-2' }, { name: 'a' }), memoryApp(services));
    const reused = await route.handle(post({ 'Idempotency-Key': 'k-2' }, { name: 'b' }), memoryApp(services));
    expect(reused.status).toBe(422);
    await route.handle(post({ 'Idempotency-Key': 'k-3' }, { name: 'b' }), memoryApp(services));
    expect(runs()).toBe(2);
  });

  it('never stores a temporary password; the replay says it was shown once', async () => {
    const services = memoryServices();
    const { route } = countingRoute(() => ({ id: 'u', temporaryPassword: 'Xy7!very-secret-pw' }));
    const first = await route.handle(post({ 'Idempotency-Key': 'pw' }), memoryApp(services));
    expect((first.body as { temporaryPassword: string }).temporaryPassword).toBe('Xy7!very-secret-pw');
    const replay = await route.handle(post({ 'Idempotency-Key': 'pw' }), memoryApp(services));
    expect(replay.body).toEqual({ id: 'u', temporaryPasswordNotice: PASSWORD_SHOWN_ONCE_NOTICE });
    const everything = JSON.stringify([...services.memoryTables.tables.values()].flatMap((t) => t.entities()));
    expect(everything).not.toContain('very-secret');
  });

  it('keeps a refusal (4xx) for replays but lets a key be retried after an upstream failure (5xx)', async () => {
    const services = memoryServices();
    const refusing = countingRoute(() => {
      throw new RuleRefusal('non-interactive-cap', 'full', 'T3');
    });
    expect((await refusing.route.handle(post({ 'Idempotency-Key': 'r' }), memoryApp(services))).status).toBe(409);
    expect((await refusing.route.handle(post({ 'Idempotency-Key': 'r' }), memoryApp(services))).status).toBe(409);
    expect(refusing.runs()).toBe(1);

    const flaky = countingRoute((n) => {
      if (n === 1) throw new ServiceError({ service: 'graph', operation: 'createUser', status: 503 });
      return { ok: n };
    });
    const failed = await flaky.route.handle(post({ 'Idempotency-Key': 'f' }), memoryApp(services));
    expect(failed.status).toBe(503);
    expect(failed.headers?.['retry-after']).toBeDefined();
    const retried = await flaky.route.handle(post({ 'Idempotency-Key': 'f' }), memoryApp(services));
    expect(retried.status).toBe(201);
    expect(flaky.runs()).toBe(2);
  });

  it('does not keep a refusal caused by a concurrent change, nor throttling: a retry with the same key runs again', async () => {
    const services = memoryServices();
    // sync-refused: the admin API refused after Steward's checks passed (a parallel disable took the user out of the group).
    const raced = countingRoute((n) => {
      if (n === 1) throw new ConcurrentChangeRefusal('sync-refused', 'refused (userNotInSecurityGroup)', 'D4.3');
      return { ok: n };
    });
    const refused = await raced.route.handle(post({ 'Idempotency-Key': 'c' }), memoryApp(services));
    expect(refused.status).toBe(409);
    expect((refused.body as { code: string }).code).toBe('sync-refused');
    const retried = await raced.route.handle(post({ 'Idempotency-Key': 'c' }), memoryApp(services));
    expect(retried.status).toBe(201);
    expect(retried.headers?.['idempotent-replayed']).toBeUndefined();
    expect(raced.runs()).toBe(2);

    let busyRuns = 0;
    const busy = defineRoute({
      name: 'things-busy',
      doc: { operationId: 'Things', summary: 'Things', description: 'Things.' },
      methods: ['POST'],
      route: 'busy/{thing}',
      role: 'Steward.Manage',
      mutation: true,
      params: z.object({ thing: z.string().min(1) }).strict(),
      body: z.object({ name: z.string() }).strict(),
      run: async () => (++busyRuns === 1 ? json(429, { title: 'busy' }, { 'retry-after': '2' }) : json(201, { ok: busyRuns })),
    });
    expect((await busy.handle(post({ 'Idempotency-Key': 't' }), memoryApp(services))).status).toBe(429);
    expect((await busy.handle(post({ 'Idempotency-Key': 't' }), memoryApp(services))).status).toBe(201);
    expect(busyRuns).toBe(2);
  });

  it('answers 409 while the first call with the same key is still running', async () => {
    const services = memoryServices();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { route } = countingRoute(async () => {
      await gate;
      return { ok: true };
    });
    const first = route.handle(post({ 'Idempotency-Key': 'slow' }), memoryApp(services));
    // The second call starts once the first has claimed the key (its claim is visible in the table).
    while (services.memoryTables.get(IDEMPOTENCY_TABLE).entities().length === 0) await Promise.resolve();
    const second = await route.handle(post({ 'Idempotency-Key': 'slow' }), memoryApp(services));
    expect(second.status).toBe(409);
    release();
    expect((await first).status).toBe(201);
  });

  it('refuses a malformed Idempotency-Key with 400 on the header', async () => {
    const services = memoryServices();
    const { route, runs } = countingRoute();
    const response = await route.handle(post({ 'Idempotency-Key': 'has space' }), memoryApp(services));
    expect(response.status).toBe(400);
    expect((response.body as { errors: { in: string }[] }).errors[0]!.in).toBe('header');
    expect(runs()).toBe(0);
  });

  it('names a bad body and a malformed Idempotency-Key in the same 400', async () => {
    const services = memoryServices();
    const { route, runs } = countingRoute();
    const response = await route.handle(post({ 'Idempotency-Key': 'has space' }, { nope: 1 }), memoryApp(services));
    expect(response.status).toBe(400);
    expect(new Set((response.body as { errors: { in: string }[] }).errors.map((e) => e.in))).toEqual(new Set(['body', 'header']));
    expect(runs()).toBe(0);
  });

  it("logs a replay as replayed, and the route's own target ids beside the path's", async () => {
    const services = memoryServices();
    const route = defineRoute({
      name: 'things-tag',
      doc: { operationId: 'Things', summary: 'Things', description: 'Things.' },
      methods: ['POST'],
      route: 'things/{thing}/tags',
      role: 'Steward.Manage',
      mutation: true,
      params: z.object({ thing: z.string() }).strict(),
      body: z.object({ tag: z.string() }).strict(),
      target: ({ body }) => ({ tag: body.tag }),
      run: async () => json(200, { ok: true }),
    });
    const request = apiRequest({ params: { thing: 't1' }, headers: { 'Idempotency-Key': 'k' }, body: { tag: 'blue' } });
    await route.handle(request, memoryApp(services));
    await route.handle(request, memoryApp(services));
    const rows = services.memoryTables.get(OPERATIONS_TABLE).entities();
    expect(rows.map((r) => r.outcome).sort()).toEqual(['replayed', 'succeeded']);
    for (const row of rows) expect(JSON.parse(String(row.target))).toEqual({ thing: 't1', tag: 'blue' });
  });

  it('writes one operation log row per call: who, what, target, outcome, duration — never the body', async () => {
    const services = memoryServices();
    const { route } = countingRoute(() => ({ temporaryPassword: 'Secret-123!abcdefg' }));
    await route.handle({ ...post({}, { name: 'private-name' }), principal: { id: 'admin-42', roles: [], authenticated: false } }, memoryApp(services));
    await route.handle(post({}, { nope: 1 }), memoryApp(services));
    const rows = services.memoryTables.get(OPERATIONS_TABLE).entities();
    expect(rows).toHaveLength(2);
    const [ok, bad] = rows.sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)));
    expect(ok).toMatchObject({ principal: 'admin-42', route: 'things-create', method: 'POST', status: 201, outcome: 'succeeded' });
    expect(JSON.parse(String(ok!.target))).toEqual({ thing: 't1' });
    expect(typeof ok!.durationMs).toBe('number');
    expect(bad).toMatchObject({ status: 400, outcome: 'refused', problemType: 'urn:steward:problem:validation' });
    const text = JSON.stringify(rows);
    expect(text).not.toContain('Secret-123');
    expect(text).not.toContain('private-name');
  });

  it('still answers when the operation log cannot be written', async () => {
    const services = memoryServices();
    services.memoryTables.get(OPERATIONS_TABLE).failWith = 503;
    const { route } = countingRoute();
    expect((await route.handle(post(), memoryApp(services))).status).toBe(201);
  });

  it('answers 503 problem+json when the idempotency store is unreachable, and runs nothing', async () => {
    const services = memoryServices();
    services.memoryTables.get(IDEMPOTENCY_TABLE).failWith = 503;
    const { route, runs } = countingRoute();
    const response = await route.handle(post({ 'Idempotency-Key': 'x' }), memoryApp(services));
    expect(response.status).toBe(503);
    expect(runs()).toBe(0);
  });

  it('turns an unexpected exception into a 500 problem+json, and logs it as failed', async () => {
    const services = memoryServices();
    const { route } = countingRoute(() => {
      throw new TypeError('boom');
    });
    const response = await route.handle(post(), memoryApp(services));
    expect(response.status).toBe(500);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(services.memoryTables.get(OPERATIONS_TABLE).entities()[0]).toMatchObject({ outcome: 'failed', status: 500 });
  });

  it('builds Location links under /api/, with or without the prefix given', () => {
    expect(apiLink('https://steward.example', 'audits/1')).toBe('https://steward.example/api/audits/1');
    expect(apiLink('https://steward.example', '/api/audits/1')).toBe('https://steward.example/api/audits/1');
  });
});
