import { z } from 'zod';
import { createAuditPipeline } from '../../composition.js';
import { SEVERITY_RANK, type StoredFinding } from '../../domain/finding.js';
import { createAuditStore, isSuppressed } from '../../gateways/storage/audit-store.js';
import { NotFoundError } from '../../domain/errors.js';
import type { AppServices } from '../../services.js';
import { defineRoute, json } from '../pipeline.js';
import { validationProblem } from '../problem.js';

/** Audits, findings and suppressions over HTTP (SPEC §2, §4). */

const RUN_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected a run id');
const TARGET_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected tenant, an environment id or a Salesforce org id');
const CHECK_ID = z.string().regex(/^[a-z0-9.-]{3,80}$/, 'expected a check id such as dataverse.non-interactive-cap');
const SUBJECT_ID = z.string().min(1).max(200);

async function runView(services: AppServices, runId: string | null) {
  const store = createAuditStore(services.tables);
  const run = runId ? await store.getRun(runId) : await store.getLatestRun();
  if (!run) throw new NotFoundError('audit-run', runId ?? 'latest', runId ? `No audit run '${runId}'.` : 'No audit has run yet.');
  const targets = await store.listTargets(run.runId);
  return { ...run, targets: targets.length > 0 ? targets : run.targets };
}

function findingView(f: StoredFinding, suppressed: boolean) {
  return {
    checkId: f.checkId,
    targetId: f.targetId,
    subjectId: f.subjectId,
    severity: f.severity,
    previousSeverity: f.previousSeverity,
    status: f.status,
    suppressed,
    title: f.title,
    details: f.details,
    remediation: f.remediation,
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
    openedAt: f.openedAt,
    resolvedAt: f.resolvedAt,
    reopenCount: f.reopenCount,
  };
}

export const auditRoutes = [
  defineRoute({
    name: 'audits-start',
    methods: ['POST'],
    route: 'audits',
    role: 'Steward.Audit',
    mutation: true,
    async run({ services, link }) {
      const pipeline = createAuditPipeline(services);
      const { run, messages } = await pipeline.startRun('http', { inProcess: services.auditDispatcher.inProcess });
      await services.auditDispatcher.dispatch(pipeline, run.runId, messages);
      // The pattern Power Automate polls: 202, Location, Retry-After.
      return json(202, { runId: run.runId, status: run.status, targets: messages.length + 1 }, {
        location: link(`/api/audits/${run.runId}`),
        'retry-after': '10',
      });
    },
  }),
  defineRoute({
    name: 'audits-latest',
    methods: ['GET'],
    route: 'audits/latest',
    role: 'Steward.Read',
    mutation: false,
    async run({ services }) {
      return json(200, await runView(services, null));
    },
  }),
  defineRoute({
    name: 'audits-get',
    methods: ['GET'],
    route: 'audits/{runId}',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ runId: RUN_ID }),
    async run({ services, params }) {
      const run = await runView(services, params.runId);
      return run.status === 'running' ? json(202, run, { 'retry-after': '10' }) : json(200, run);
    },
  }),
  defineRoute({
    name: 'audits-findings',
    methods: ['GET'],
    route: 'audits/{runId}/findings',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ runId: RUN_ID }),
    query: z.strictObject({
      state: z.enum(['new', 'open', 'reopened', 'resolved']).optional(),
      targetId: TARGET_ID.optional(),
      checkId: CHECK_ID.optional(),
    }),
    // The run's report: what changed in it (opened, reopened, changed while open, resolved), from its history.
    async run({ services, params, query }) {
      const store = createAuditStore(services.tables);
      const run = await store.getRun(params.runId);
      if (!run) throw new NotFoundError('audit-run', params.runId, `No audit run '${params.runId}'.`);
      const history = await store.listRunFindings(run.runId);
      const byState = { new: 0, reopened: 0, open: 0, resolved: 0 };
      for (const entry of history) byState[entry.state]++;
      const findings = history.filter(
        (e) => (query.state === undefined || e.state === query.state) && (query.targetId === undefined || e.targetId === query.targetId) && (query.checkId === undefined || e.checkId === query.checkId),
      );
      return json(200, { runId: run.runId, status: run.status, byState, count: findings.length, findings });
    },
  }),
  defineRoute({
    name: 'findings-list',
    methods: ['GET'],
    route: 'findings',
    role: 'Steward.Read',
    mutation: false,
    query: z.strictObject({
      targetId: TARGET_ID.optional(),
      checkId: CHECK_ID.optional(),
      severity: z.enum(['critical', 'warning', 'info']).optional(),
      status: z.enum(['open', 'resolved']).optional(),
      suppressed: z.enum(['true', 'false']).optional(),
    }),
    async run({ services, query }) {
      const store = createAuditStore(services.tables);
      const now = services.now();
      const [findings, suppressions] = await Promise.all([
        store.listFindings({ targetId: query.targetId, checkId: query.checkId, severity: query.severity, status: query.status }),
        store.listSuppressions({ activeAt: now }),
      ]);
      const view = findings
        .map((f) => findingView(f, isSuppressed(f, suppressions, now)))
        .filter((f) => query.suppressed === undefined || String(f.suppressed) === query.suppressed)
        .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.targetId.localeCompare(b.targetId) || a.checkId.localeCompare(b.checkId));
      return json(200, { count: view.length, findings: view });
    },
  }),
  defineRoute({
    name: 'suppressions-create',
    methods: ['POST'],
    route: 'suppressions',
    role: 'Steward.Audit',
    mutation: true,
    body: z.strictObject({
      checkId: CHECK_ID,
      targetId: TARGET_ID,
      /** `*` suppresses the whole check for the target. */
      subjectId: SUBJECT_ID.default('*'),
      reason: z.string().trim().min(3).max(1000),
      expiresAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time' }),
    }),
    async run({ services, body, request }) {
      const now = services.now();
      if (Date.parse(body.expiresAt) <= now.getTime()) {
        return validationProblem([{ in: 'body', pointer: '#/expiresAt', detail: 'must be in the future' }]);
      }
      const suppression = { ...body, createdBy: request.principal.id, createdAt: now.toISOString() };
      await createAuditStore(services.tables).suppress(suppression);
      return json(201, suppression);
    },
  }),
  defineRoute({
    name: 'suppressions-delete',
    methods: ['DELETE'],
    route: 'suppressions/{targetId}/{checkId}/{subjectId}',
    role: 'Steward.Audit',
    mutation: true,
    params: z.object({ targetId: TARGET_ID, checkId: CHECK_ID, subjectId: SUBJECT_ID }),
    async run({ services, params }) {
      const removed = await createAuditStore(services.tables).unsuppress(params.checkId, params.targetId, params.subjectId);
      if (!removed) throw new NotFoundError('suppression', `${params.targetId}/${params.checkId}/${params.subjectId}`);
      return { status: 204 };
    },
  }),
];
