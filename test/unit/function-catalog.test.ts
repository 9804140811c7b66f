import { readFileSync } from 'node:fs';
import { CronExpressionParser } from 'cron-parser';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_FINALIZE_QUEUE, AUDIT_TARGET_QUEUE } from '../../lib/gateways/storage/audit-queue.js';
import { loadSettings, settingsSchema } from '../../lib/config/settings.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { functionCatalog, type FunctionDefinition } from '../../functions/catalog.js';

/**
 * The host's view of the app without the host: every function is declared once in
 * functions/catalog.ts, and functions/index.ts registers exactly that list with @azure/functions.
 */

const registered = vi.hoisted(() => ({
  setup: [] as unknown[],
  http: [] as [string, Record<string, unknown>][],
  timer: [] as [string, Record<string, unknown>][],
  storageQueue: [] as [string, Record<string, unknown>][],
}));

vi.mock('@azure/functions', () => ({
  app: {
    setup: (options: unknown) => registered.setup.push(options),
    http: (name: string, options: Record<string, unknown>) => registered.http.push([name, options]),
    timer: (name: string, options: Record<string, unknown>) => registered.timer.push([name, options]),
    storageQueue: (name: string, options: Record<string, unknown>) => registered.storageQueue.push([name, options]),
  },
}));

type Http = Extract<FunctionDefinition, { kind: 'http' }>;
type Timer = Extract<FunctionDefinition, { kind: 'timer' }>;
type Queue = Extract<FunctionDefinition, { kind: 'queue' }>;
const http = functionCatalog.filter((f): f is Http => f.kind === 'http');
const timers = functionCatalog.filter((f): f is Timer => f.kind === 'timer');
const queues = functionCatalog.filter((f): f is Queue => f.kind === 'queue');

describe('the function catalog', () => {
  it('names every function once', () => {
    const names = functionCatalog.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    // The host accepts letters, digits, `-` and `_`, starting with a letter.
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/);
  });

  it('declares one HTTP function per API route', () => {
    expect(http.map((f) => f.name).sort()).toEqual(apiRoutes.map((r) => r.name).sort());
    for (const route of apiRoutes) {
      expect(http.find((f) => f.name === route.name)).toMatchObject({ route: route.route, methods: route.methods, authLevel: route.authLevel });
    }
  });

  it('uses auth level function for every HTTP route except health, which is anonymous', () => {
    for (const f of http) {
      expect(f.authLevel, `${f.name} ${f.route}`).toBe(f.route === 'health' ? 'anonymous' : 'function');
    }
  });

  it('has no two functions answering the same method on the same route', () => {
    // `{param}` segments match anything, so `a/{x}` and `a/{y}` are the same route to the host.
    const shape = (route: string) => route.replace(/\{[^}]+\}/g, '{}').toLowerCase();
    const seen = new Map<string, string>();
    for (const f of http) {
      expect(f.methods.length, f.name).toBeGreaterThan(0);
      for (const method of f.methods) {
        const key = `${method} ${shape(f.route)}`;
        expect(seen.get(key), `${key} is declared by ${seen.get(key)} and ${f.name}`).toBeUndefined();
        seen.set(key, f.name);
      }
    }
  });

  it('keeps routes relative to the /api prefix, without a leading slash or the prefix itself', () => {
    for (const f of http) {
      expect(f.route, f.name).not.toMatch(/^\/|^api\//);
    }
  });

  it('serves the audit routes of SPEC §4', () => {
    const routes = http.flatMap((f) => f.methods.map((m) => `${m} ${f.route}`));
    expect(routes).toEqual(expect.arrayContaining(['POST audits', 'GET audits/{runId}', 'GET audits/latest', 'GET findings']));
  });

  it('serves the list routes behind the connector pickers, beside the routes on one user', () => {
    const routes = http.flatMap((f) => f.methods.map((m) => `${m} ${f.route}`));
    expect(routes).toEqual(expect.arrayContaining(['GET environments', 'GET environments/{env}/users', 'GET environments/{env}/roles', 'GET salesforce/orgs']));
    for (const name of ['environments-list', 'environment-users-list', 'environment-roles-list', 'salesforce-orgs-list']) {
      expect(apiRoutes.find((r) => r.name === name)?.role, name).toBe('Steward.Read');
    }
  });

  it('runs the nightly audit from the STEWARD_AUDIT_SCHEDULE app setting, not on start-up', () => {
    expect(timers).toHaveLength(1);
    expect(timers[0]).toMatchObject({ name: 'audit-nightly', schedule: '%STEWARD_AUDIT_SCHEDULE%', runOnStartup: false });
  });

  it('defaults the schedule to an NCRONTAB that fires every day at 02:00 UTC', () => {
    const schedule = loadSettings({ STEWARD_TENANT_ID: 't', STEWARD_STORAGE_CONNECTION: 'UseDevelopmentStorage=true' }).auditSchedule;
    expect(schedule).toBe(settingsSchema.shape.STEWARD_AUDIT_SCHEDULE.parse(undefined));
    // NCRONTAB has six fields, seconds first.
    expect(schedule.trim().split(/\s+/)).toHaveLength(6);
    const times = CronExpressionParser.parse(schedule, { currentDate: '2025-03-10T05:30:00Z', tz: 'UTC' })
      .take(3)
      .map((d) => d.toISOString());
    expect(times).toEqual(['2025-03-11T02:00:00.000Z', '2025-03-12T02:00:00.000Z', '2025-03-13T02:00:00.000Z']);
  });

  it('the sample app settings define the schedule the timer binds to (the host cannot resolve a missing %setting%)', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    const value = sample.Values.STEWARD_AUDIT_SCHEDULE;
    expect(value).toBeDefined();
    expect(() => settingsSchema.shape.STEWARD_AUDIT_SCHEDULE.parse(value)).not.toThrow();
    expect(CronExpressionParser.parse(value!, { currentDate: '2025-03-10T05:30:00Z', tz: 'UTC' }).next().toISOString()).toBe('2025-03-11T02:00:00.000Z');
  });

  it('binds the two queue functions to the audit queues', () => {
    expect(queues.map((q) => [q.name, q.queueName]).sort()).toEqual(
      [
        ['audit-finalize', AUDIT_FINALIZE_QUEUE],
        ['audit-target', AUDIT_TARGET_QUEUE],
      ].sort(),
    );
    for (const q of queues) expect(q.connection, q.name).toBe('AzureWebJobsStorage');
    expect(AUDIT_TARGET_QUEUE).not.toBe(AUDIT_FINALIZE_QUEUE);
    // Queue names: 3-63 lower-case letters, digits and single dashes.
    for (const name of [AUDIT_TARGET_QUEUE, AUDIT_FINALIZE_QUEUE]) expect(name).toMatch(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/);
  });

  it('has a handler for every function', () => {
    for (const f of functionCatalog) expect(typeof f.handler, f.name).toBe('function');
  });
});

describe('functions/index.ts', () => {
  beforeAll(async () => {
    await import('../../functions/index.js');
  });

  it('registers every HTTP function of the catalog, with its route, methods and auth level', () => {
    expect(registered.http.map(([name]) => name)).toEqual(http.map((f) => f.name));
    for (const [name, options] of registered.http) {
      const declared = http.find((f) => f.name === name)!;
      expect(options).toEqual({ route: declared.route, methods: declared.methods, authLevel: declared.authLevel, handler: declared.handler });
    }
  });

  it('registers the timer with its schedule', () => {
    expect(registered.timer).toEqual(timers.map((t) => [t.name, { schedule: t.schedule, runOnStartup: t.runOnStartup, handler: t.handler }]));
  });

  it('registers the queue functions with their queues and connection', () => {
    expect(registered.storageQueue).toEqual(queues.map((q) => [q.name, { queueName: q.queueName, connection: q.connection, handler: q.handler }]));
  });

  it('registers nothing that is not in the catalog', () => {
    expect(registered.http.length + registered.timer.length + registered.storageQueue.length).toBe(functionCatalog.length);
  });
});
