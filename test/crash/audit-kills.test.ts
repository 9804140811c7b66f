import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TABLES, RUNS_PARTITION, RUN_BY_ID } from '../../lib/gateways/storage/dto.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { demoExpectedFindings, demoTenant } from '../../fixtures/demo-tenant.js';
import { seededRandom } from '../../simulator/core/random.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { startTestServices, type TestServices } from '../support/services.js';

/**
 * Issue 12's crash bar: the real CLI (`steward audit`) as a child process, SIGKILLed at random
 * moments (seeded) across the audit and the alert delivery, on an Azurite that keeps its data on
 * disk. Then an uninterrupted run, and what the API reports: no run left `running` past the stall
 * period, no finding lost or wrongly resolved, every alert document delivered with a `deliveryId`
 * that is the same on a redelivery.
 */

const KILLS = 20;
const ROOT = join(import.meta.dirname, '..', '..');

interface Received {
  headers: IncomingHttpHeaders;
  body: { runId?: string; deliveryId?: string };
}

let work: string;
let storage: EmbeddedStorage;
let receiver: Server;
let alertUrl: string;
const received: Received[] = [];
/** Set by a kill that waits for the receiver to be reached (between the POST and its recording). */
let onAlertPosted: (() => void) | null = null;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'steward-crash-'));
  storage = await startAzurite({ location: join(work, 'azurite') });
  writeFileSync(join(work, 'demo.json'), JSON.stringify(demoTenant()));
  receiver = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(text) as Received['body'] });
      onAlertPosted?.();
      // A Logic App takes a moment to accept: the window between the POST and its recording.
      setTimeout(() => response.writeHead(202).end(), 150);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  alertUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alert`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await storage?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** One `steward audit` child; killed after `killAfterMs`, or when an alert is posted, unless it ends first. */
function auditChild(kill: { afterMs?: number; onAlert?: boolean }): Promise<{ killed: boolean; code: number | null; ms: number; output: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'audit', '--fixture', join(work, 'demo.json'), '--storage', storage.connectionString, '--json'], {
    cwd: ROOT,
    env: { ...process.env, STEWARD_ALERT_URL: alertUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let killed = false;
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) killed = child.kill('SIGKILL');
  };
  const timer = kill.afterMs !== undefined ? setTimeout(killNow, kill.afterMs) : undefined;
  if (kill.onAlert) onAlertPosted = killNow;
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      onAlertPosted = null;
      resolve({ killed, code, ms: Date.now() - started, output });
    }),
  );
}

describe('steward audit killed at random moments', () => {
  let t: TestServices;
  const later = { offsetMs: 0 };

  beforeAll(async () => {
    const random = seededRandom(12);
    let runMs = 8000; // the length of an uninterrupted run, measured again by each one that ends
    let kills = 0;
    for (let i = 0; kills < KILLS && i < KILLS * 3; i++) {
      // Every fourth kill lands exactly between an alert's POST and its recording.
      const outcome = i % 4 === 3 ? await auditChild({ onAlert: true, afterMs: runMs * 2 }) : await auditChild({ afterMs: Math.floor(random() * runMs) });
      if (outcome.killed) kills++;
      else {
        expect(outcome.code, outcome.output).toBe(0);
        runMs = outcome.ms;
      }
    }
    expect(kills).toBe(KILLS);
    const last = await auditChild({});
    expect(last.code, last.output).toBe(0);
    t = await startTestServices(demoTenant(), { storage, env: { STEWARD_ALERT_URL: alertUrl }, now: () => new Date(Date.now() + later.offsetMs) });
  }, 900_000);

  afterAll(async () => {
    await t?.sim.stop();
  });

  const key = (f: { checkId: string; targetId: string; subjectId: string }) => `${f.checkId}|${f.targetId}|${f.subjectId}`;

  it('no run stays running past the stall period: each killed run is closed as failed, saying where it stopped', async () => {
    const runs = TableClient.fromConnectionString(storage.connectionString, AUDIT_TABLES.runs, { allowInsecureConnection: true });
    const ids: string[] = [];
    for await (const row of runs.listEntities<{ runId: string }>({ queryOptions: { filter: `PartitionKey eq '${RUNS_PARTITION}' and RowKey ge '${RUN_BY_ID}' and RowKey lt 'id\`'` } })) ids.push(row.runId);
    expect(ids.length).toBeGreaterThan(1);
    later.offsetMs = 31 * 60_000;
    const statuses = await Promise.all(ids.map((id) => t.audit.getRun(id)));
    expect(statuses.filter((run) => run.status === 'running')).toEqual([]);
    for (const run of statuses.filter((r) => r.stalled)) {
      expect(run.status).toBe('failed');
      expect(['start', 'targets', 'finalize']).toContain(run.stalled!.step);
    }
    later.offsetMs = 0;
  });

  it('no finding is lost or wrongly resolved: the open findings are the tenant\'s, none was ever resolved or reopened', async () => {
    const expected = demoExpectedFindings().map(key).sort();
    const stored = await t.audit.listFindings();
    expect(stored.filter((f) => f.status === 'open').map(key).sort()).toEqual(expected);
    expect(stored.filter((f) => f.status === 'resolved' || f.state === 'reopened').map(key)).toEqual([]);
  });

  it('every alert document is delivered, each with a deliveryId that is the same when it is sent again', async () => {
    // A document whose sender was killed mid-delivery stays claimed for the lease (5 minutes):
    // the first run after it delivers it again.
    later.offsetMs = 6 * 60_000;
    const report = await t.audit.run('cli');
    later.offsetMs = 0;
    expect(report.run.status).toBe('succeeded');
    const store = createAuditStore(t.services.tables);
    expect(await store.listPendingAlerts()).toEqual([]);
    expect(received.length).toBeGreaterThan(0);
    const byRun = new Map<string, Set<string>>();
    for (const { headers, body } of received) {
      expect(body.deliveryId, 'deliveryId field').toMatch(/\S/);
      expect(headers['idempotency-key']).toBe(body.deliveryId);
      byRun.set(body.runId!, (byRun.get(body.runId!) ?? new Set()).add(body.deliveryId!));
    }
    for (const ids of byRun.values()) expect(ids.size).toBe(1);
    const sentTwice = received.length - byRun.size;
    console.info(`[crash] ${received.length} alert POSTs for ${byRun.size} documents (${sentTwice} sent again after a kill)`);
  });
});
