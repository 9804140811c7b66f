import { z } from 'zod';
import { CHECK_CATALOGUE } from '../../domain/check-catalogue.js';
import type { StoredFinding } from '../../domain/finding.js';
import { defineRoute, json } from '../pipeline.js';
import { validationProblem } from '../problem.js';
import { optionalBody, subjectId } from '../validation.js';

/** Audits, findings and suppressions over HTTP (SPEC §2, §4). */

const RUN_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected a run id');
const TARGET_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected tenant, an environment id or a Salesforce org id');
const CHECK_ID = z.string().regex(/^[a-z0-9.-]{3,80}$/, 'expected a check id such as dataverse.non-interactive-cap');
const CHECK_IDS = new Set<string>(CHECK_CATALOGUE.map((c) => c.id));
/** A check that exists: a suppression of any other would never match a finding (issue 14). */
const EXISTING_CHECK_ID = CHECK_ID.refine((id) => CHECK_IDS.has(id), {
  message: `expected the id of one of the audit's checks: ${[...CHECK_IDS].join(', ')}`,
});

function findingView(f: StoredFinding & { suppressed: boolean }) {
  return {
    checkId: f.checkId,
    targetId: f.targetId,
    subjectId: f.subjectId,
    severity: f.severity,
    previousSeverity: f.previousSeverity,
    status: f.status,
    suppressed: f.suppressed,
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
    // SPEC §9: `{"full": true}` reads everything, not only the changes since the last run.
    body: optionalBody(z.strictObject({ full: z.boolean().default(false) })),
    async run({ audit, link, body }) {
      const { run, targetCount } = await audit.start('http', { full: body.full });
      // The pattern Power Automate polls: 202, Location, Retry-After.
      return json(202, { runId: run.runId, status: run.status, targets: targetCount }, {
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
    async run({ audit }) {
      return json(200, await audit.latestRun());
    },
  }),
  defineRoute({
    name: 'audits-get',
    methods: ['GET'],
    route: 'audits/{runId}',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ runId: RUN_ID }),
    async run({ audit, params }) {
      const run = await audit.getRun(params.runId);
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
    async run({ audit, params, query }) {
      const { run, byState, findings } = await audit.runChanges(params.runId, query);
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
    async run({ audit, query }) {
      const findings = await audit.listFindings({ ...query, suppressed: query.suppressed === undefined ? undefined : query.suppressed === 'true' });
      return json(200, { count: findings.length, findings: findings.map(findingView) });
    },
  }),
  defineRoute({
    name: 'suppressions-create',
    methods: ['POST'],
    route: 'suppressions',
    role: 'Steward.Audit',
    mutation: true,
    body: z.strictObject({
      checkId: EXISTING_CHECK_ID,
      targetId: TARGET_ID,
      /** `*` suppresses the whole check for the target. */
      subjectId: subjectId.default('*'),
      reason: z.string().trim().min(3).max(1000),
      expiresAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time' }),
    }),
    async run({ audit, services, body, request }) {
      const expiresAt = Date.parse(body.expiresAt);
      const now = services.now().getTime();
      if (expiresAt <= now) return validationProblem([{ in: 'body', pointer: '#/expiresAt', detail: 'must be in the future' }]);
      const maxDays = services.settings.suppressionMaxDays;
      if (expiresAt > now + maxDays * 86_400_000) {
        // A suppression is a decision to look again, not a way to hide a finding for good.
        return validationProblem([{ in: 'body', pointer: '#/expiresAt', detail: `at most ${maxDays} days ahead (STEWARD_SUPPRESSION_MAX_DAYS)` }]);
      }
      return json(201, await audit.suppress(body, request.principal.id));
    },
  }),
  defineRoute({
    name: 'suppressions-delete',
    methods: ['DELETE'],
    route: 'suppressions/{targetId}/{checkId}/{subjectId}',
    role: 'Steward.Audit',
    mutation: true,
    params: z.object({ targetId: TARGET_ID, checkId: CHECK_ID, subjectId }),
    async run({ audit, params }) {
      await audit.unsuppress(params.checkId, params.targetId, params.subjectId);
      return { status: 204 };
    },
  }),
];
