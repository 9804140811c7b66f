import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_LEASE_MS, deliverPendingAlerts } from '../../lib/audit/alert-delivery.js';
import type { AlertDocument } from '../../lib/audit/alert-document.js';
import { LogicAppAlertSender } from '../../lib/gateways/alerts/operations.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { Tables } from '../../lib/gateways/storage/tables.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { fastRetry } from '../support/builders.js';

/**
 * Issue 12 D4 with a real kill: `steward audit` runs in a child process, and the Logic App stand-in
 * kills it with SIGKILL the moment its POST arrives, before answering, so the process dies between
 * the POST and recording the delivery. The alert stays in the outbox under the dead process's lease;
 * once the lease ran out the next finalizer posts it again. Sent twice, both with one deliveryId.
 */

const root = join(import.meta.dirname, '..', '..');

interface Post {
  idempotencyKey: string | undefined;
  body: AlertDocument;
}

const posts: Post[] = [];
let killOnPost: ChildProcess | null = null;
let server: Server;
let storage: EmbeddedStorage;
let alertUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posts.push({ idempotencyKey: request.headers['idempotency-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertDocument });
      const victim = killOnPost;
      if (victim) {
        killOnPost = null;
        victim.kill('SIGKILL'); // no answer: the sender is gone
        response.destroy();
        return;
      }
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  alertUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/workflows/steward/triggers/manual/paths/invoke?sig=not-a-secret`;
  storage = await startAzurite();
});

afterAll(async () => {
  await storage?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

/** `steward audit` in its own Node process (no wrapper that would outlive a SIGKILL). */
function auditInChild(): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'lib/cli/main.ts', 'audit', '--fixture', 'fixtures/licence-waste.json', '--storage', storage.connectionString, '--json'],
    { cwd: root, env: { ...process.env, STEWARD_ALERT_URL: alertUrl, STEWARD_PUBLIC_BASE_URL: 'https://steward.example.net' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('an audit process killed between the alert POST and recording it (issue 12 D4)', () => {
  it('leaves the alert pending; after the lease it is sent again with the same deliveryId and Idempotency-Key', { timeout: 120_000 }, async () => {
    const child = auditInChild();
    killOnPost = child;
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    expect(exit.signal).toBe('SIGKILL');
    expect(posts).toHaveLength(1);
    const [first] = posts;
    expect(first!.idempotencyKey).toBe(first!.body.deliveryId);

    const tables = new Tables(storage.connectionString);
    const sender = new LogicAppAlertSender({ url: alertUrl, retry: fastRetry({ retries: 0 }) });
    const now = createAuditStore(tables);
    const pending = await now.listPendingAlerts();
    expect(pending.map((p) => p.runId)).toEqual([first!.body.runId]);

    // While the dead process's claim holds, another finalizer does not send it.
    expect(await deliverPendingAlerts(now, sender)).toEqual({ delivered: 0, failed: 0 });
    expect(posts).toHaveLength(1);

    // After the lease: sent again, the same document under the same id; then delivered for good.
    const later = createAuditStore(tables, { now: () => new Date(Date.now() + ALERT_LEASE_MS + 60_000) });
    expect(await deliverPendingAlerts(later, sender)).toEqual({ delivered: 1, failed: 0 });
    expect(posts).toHaveLength(2); // sent twice
    expect(posts.map((p) => [p.idempotencyKey, p.body.deliveryId])).toEqual([
      [first!.body.deliveryId, first!.body.deliveryId],
      [first!.body.deliveryId, first!.body.deliveryId],
    ]);
    expect(posts[1]!.body).toEqual(first!.body);
    expect(await later.listPendingAlerts()).toEqual([]);
  });
});
