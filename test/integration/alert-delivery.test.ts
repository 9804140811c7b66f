import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_LEASE_MS, deliverPendingAlerts } from '../../lib/audit/alert-delivery.js';
import { buildAlertDocument, type AlertDocument } from '../../lib/audit/alert-document.js';
import type { StoredFinding } from '../../lib/domain/finding.js';
import { LogicAppAlertSender } from '../../lib/gateways/alerts/operations.js';
import type { AlertOutbox, AuditStore } from '../../lib/gateways/storage/audit-store.js';
import { createAuditStore } from '../../lib/gateways/storage/table-audit-store.js';
import { Tables } from '../../lib/gateways/storage/tables.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { fastRetry } from '../support/builders.js';

/**
 * Issue 12 D4: alert delivery is at least once. When the process dies between the POST and
 * recording the delivery, or the receiver answers after the outbox lease ran out, the document is
 * posted again: these tests make that happen on Azurite, count it, and check that every copy
 * carries the same deliveryId (field and Idempotency-Key header), which is what a receiver needs to
 * drop it.
 */

interface Received {
  idempotencyKey: string | undefined;
  body: AlertDocument;
}

/** A stand-in for the Logic App trigger: keeps every POST, answers with the queued statuses (202 when none). */
const receiver = { posts: [] as Received[], answers: [] as number[] };

/** A POST kept unanswered: `arrived` tells it came in, `gate` lets it answer. */
let held: { gate: Promise<void>; arrived: () => void } | null = null;

/** The next POST is held until `release()`; `arrived` resolves when it is in. */
function holdNextPost(): { arrived: Promise<void>; release: () => void } {
  let release!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  held = { gate, arrived };
  return { arrived: arrival, release };
}

let server: Server;
let azurite: EmbeddedStorage;
let store: AuditStore;
let sender: LogicAppAlertSender;
let clock = new Date('2031-05-01T02:00:00.000Z');

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void (async () => {
      const body = JSON.parse(await readBody(request)) as AlertDocument;
      receiver.posts.push({ idempotencyKey: request.headers['idempotency-key'] as string | undefined, body });
      const hold = held;
      if (hold) {
        held = null;
        hold.arrived();
        await hold.gate;
      }
      response.writeHead(receiver.answers.shift() ?? 202).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/workflows/steward/triggers/manual/paths/invoke?api-version=2016-10-01&sig=not-a-secret`;
  sender = new LogicAppAlertSender({ url, retry: fastRetry({ retries: 0 }) });
  azurite = await startAzurite();
  store = createAuditStore(new Tables(azurite.connectionString), { now: () => clock });
});

afterAll(async () => {
  await azurite?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

function storedFinding(subjectId: string): StoredFinding {
  return {
    checkId: 'entra.disabled-user-licensed',
    targetId: 'tenant',
    subjectId,
    severity: 'warning',
    title: `${subjectId}@tailspin.example is disabled in Entra ID but still holds 1 license(s)`,
    details: { userPrincipalName: `${subjectId}@tailspin.example`, monthlyCost: [] },
    remediation: 'Remove the licenses of the disabled account (E2).',
    status: 'open',
    state: 'new',
    firstSeenAt: clock.toISOString(),
    lastSeenAt: clock.toISOString(),
    openedAt: clock.toISOString(),
    openedRunId: 'run',
    resolvedAt: null,
    reopenCount: 0,
    previousSeverity: null,
    lastRunId: 'run',
    alertedState: null,
  };
}

function alertOf(runId: string, subjects: string[]): AlertDocument {
  const findings = subjects.map((s) => ({ ...storedFinding(s), openedRunId: runId, lastRunId: runId }));
  return buildAlertDocument({ runId, tenantId: 'tenant-1', runStatus: 'succeeded', now: clock, alerted: findings, open: findings, suppressedCount: 0, resolvedCount: 0, publicBaseUrl: 'https://steward.example.net' });
}

/** The outbox of a process that is killed right after its POST: the two writes that follow never happen. */
function killedAfterPost(outbox: AlertOutbox): AlertOutbox {
  const killed = () => Promise.reject(new Error('process killed'));
  return {
    enqueueAlert: (runId, payload) => outbox.enqueueAlert(runId, payload),
    listPendingAlerts: () => outbox.listPendingAlerts(),
    claimAlert: (runId, leaseMs) => outbox.claimAlert(runId, leaseMs),
    markAlertDelivered: killed,
    markAlertAttempt: killed,
  };
}

const postsOf = (runId: string) => receiver.posts.filter((p) => p.body.runId === runId);
const later = (ms: number) => (clock = new Date(clock.getTime() + ms));

describe('alert delivery, at least once (issue 12 D4)', () => {
  it('a process killed between the POST and recording it: sent twice after the lease, both with the same deliveryId', async () => {
    const runId = '20310501T020000Z-0000000a';
    const document = alertOf(runId, ['ben', 'cara']);
    await store.enqueueAlert(runId, document);

    await expect(deliverPendingAlerts(killedAfterPost(store), sender)).rejects.toThrow('process killed');
    expect(postsOf(runId)).toHaveLength(1);

    // Another finalizer while the dead one's claim holds: it does not send.
    expect(await deliverPendingAlerts(store, sender)).toEqual({ delivered: 0, failed: 0 });
    expect(postsOf(runId)).toHaveLength(1);

    // The claim runs out: the next finalizer sends it again, and records it.
    later(ALERT_LEASE_MS + 1000);
    expect(await deliverPendingAlerts(store, sender)).toEqual({ delivered: 1, failed: 0 });
    const posts = postsOf(runId);
    expect(posts).toHaveLength(2); // sent twice
    expect(new Set(posts.map((p) => p.body.deliveryId))).toEqual(new Set([document.deliveryId]));
    expect(posts.map((p) => p.idempotencyKey)).toEqual([document.deliveryId, document.deliveryId]);
    expect(posts[1]!.body).toEqual(posts[0]!.body);

    // Delivered: never again.
    later(ALERT_LEASE_MS + 1000);
    expect(await deliverPendingAlerts(store, sender)).toEqual({ delivered: 0, failed: 0 });
    expect(postsOf(runId)).toHaveLength(2);
    expect(await store.listPendingAlerts()).toEqual([]);
  });

  it('a receiver that answers after the lease ran out: a second finalizer sends it meanwhile, with the same deliveryId', async () => {
    const runId = '20310501T020000Z-0000000b';
    const document = alertOf(runId, ['dan']);
    await store.enqueueAlert(runId, document);

    const held = holdNextPost();
    const slow = deliverPendingAlerts(store, sender);
    await held.arrived;
    later(ALERT_LEASE_MS + 1000);
    const second = await deliverPendingAlerts(store, sender);
    held.release();
    const first = await slow;

    expect([first, second]).toEqual([
      { delivered: 1, failed: 0 },
      { delivered: 1, failed: 0 },
    ]);
    const posts = postsOf(runId);
    expect(posts).toHaveLength(2); // sent twice
    expect(posts.map((p) => [p.idempotencyKey, p.body.deliveryId])).toEqual([
      [document.deliveryId, document.deliveryId],
      [document.deliveryId, document.deliveryId],
    ]);
  });

  it('a receiver that drops an id it has seen takes each document once', () => {
    // What the shipped Logic App does (infra/alerts.bicep: insert the id, a conflict is a repeat).
    const seen = new Set<string>();
    const taken = receiver.posts.filter((p) => !seen.has(p.idempotencyKey!) && seen.add(p.idempotencyKey!));
    expect(receiver.posts).toHaveLength(4);
    expect(taken.map((p) => p.body.runId)).toEqual(['20310501T020000Z-0000000a', '20310501T020000Z-0000000b']);
  });

  it('another document has another deliveryId; a failed POST retried later keeps it', async () => {
    const runId = '20310501T020000Z-0000000c';
    const document = alertOf(runId, ['ben', 'cara']); // what run …a said, in another run
    await store.enqueueAlert(runId, document);
    receiver.answers.push(500);
    expect(await deliverPendingAlerts(store, sender)).toEqual({ delivered: 0, failed: 1 });
    expect(await deliverPendingAlerts(store, sender)).toEqual({ delivered: 1, failed: 0 });
    const keys = postsOf(runId).map((p) => p.idempotencyKey);
    expect(keys).toEqual([document.deliveryId, document.deliveryId]);
    expect(keys[0]).not.toBe(postsOf('20310501T020000Z-0000000a')[0]!.idempotencyKey);
  });

  it('a document queued before deliveryId existed (schema 1.0) gets one, the same on every attempt', async () => {
    const runId = '20310501T020000Z-0000000d';
    await store.enqueueAlert(runId, { schemaVersion: '1.0', source: 'steward', runId, findings: [{ checkId: 'entra.disabled-user-licensed' }] });
    receiver.answers.push(503);
    await deliverPendingAlerts(store, sender);
    await deliverPendingAlerts(store, sender);
    const posts = postsOf(runId);
    expect(posts).toHaveLength(2);
    expect(posts[0]!.idempotencyKey).toMatch(new RegExp(`^${runId}\\.[0-9a-f]{32}$`));
    expect(posts.map((p) => [p.idempotencyKey, p.body.deliveryId])).toEqual([
      [posts[0]!.idempotencyKey, posts[0]!.idempotencyKey],
      [posts[0]!.idempotencyKey, posts[0]!.idempotencyKey],
    ]);
  });
});
