import { z } from 'zod';
import type { AuditRunner } from '../../audit/runner.js';
import { CHECK_CATALOGUE } from '../../domain/check-catalogue.js';
import type { StoredFinding } from '../../domain/finding.js';
import { count, field, list, maybeText, oneOf, record, text, texts, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { validationProblem } from '../problem.js';
import { optionalBody, subjectId } from '../validation.js';

/** Audits, findings and suppressions over HTTP (SPEC §2, §4). */

const RUN_ID = z
  .string()
  .regex(/^[0-9A-Za-z-]{1,64}$/, 'expected a run id')
  .meta({ title: 'Run ID', description: 'The id of the audit run, or latest for the newest run.' });
const TARGET_ID = z
  .string()
  .regex(/^[0-9A-Za-z-]{1,64}$/, 'expected tenant, an environment id or a Salesforce org id')
  .meta({ title: 'Target ID', description: 'tenant, an environment id or a Salesforce org id.' });
const CHECK_ID = z
  .string()
  .regex(/^[a-z0-9.-]{3,80}$/, 'expected a check id such as dataverse.non-interactive-cap')
  .meta({ title: 'Check ID', description: 'The id of a check, such as dataverse.non-interactive-cap.' });
const CHECK_IDS = new Set<string>(CHECK_CATALOGUE.map((c) => c.id));
/** A check that exists: a suppression of any other would never match a finding (issue 14). */
const EXISTING_CHECK_ID = CHECK_ID.refine((id) => CHECK_IDS.has(id), {
  message: `expected the id of one of the audit's checks: ${[...CHECK_IDS].join(', ')}`,
});

/** `latest` names the newest run: GET /audits/latest is the same answer as GET /audits/{runId} with it. */
const LATEST = 'latest';

// ── Answers ──────────────────────────────────────────────────────────────────────────────────

const severity = (title: string, description: string) => oneOf(['critical', 'warning', 'info'], title, description);

const collectionAnswer = field(
  record({
    mode: oneOf(['full', 'incremental'], 'Mode', 'full when everything was read, incremental when only the changes were.'),
    reason: text('Reason', 'Why this mode was used.'),
    checksKeptOpen: texts('Checks Kept Open', 'Checks whose findings stay as the last full run left them.').optional(),
    stateRenewed: yesNo('State Renewed', 'False when nothing had changed, so the kept state of the last run with changes stays in force.').optional(),
  }),
  'Collection',
  'Whether the run read everything or only the changes since the last run.',
).optional();

const runTargetAnswer = record({
  id: text('Target ID', 'tenant, an environment id or a Salesforce org id.'),
  kind: oneOf(['tenant', 'environment', 'salesforce-org'], 'Kind', 'tenant, environment or salesforce-org.'),
  status: oneOf(['pending', 'succeeded', 'failed', 'skipped'], 'Status', 'pending, succeeded, failed or skipped.'),
  name: text('Name', 'The name of the target.').optional(),
  error: text('Error', 'What went wrong, for people.').optional(),
  failure: field(
    record({
      service: maybeText('Service', 'The service that failed, or null for a failure of Steward.'),
      status: field(z.number().int().nullable(), 'HTTP Status', 'The HTTP status of the failure, or null.'),
      code: maybeText('Code', 'The error code of the service, or null.'),
    }),
    'Failure',
    'What went wrong, as data.',
  ).optional(),
  attempts: count('Attempts', 'How many times the target was tried.').optional(),
  upstreamRequests: count('Upstream Requests', 'How many requests auditing the target made to Microsoft and Salesforce services.').optional(),
  collection: collectionAnswer,
  updatedAt: text('Updated At', 'When the status of the target was last written.').optional(),
});

/** lib/domain/finding.ts `AuditRun`. */
export const auditRunAnswer = record({
  runId: text('Run ID', 'The id of the audit run.'),
  status: oneOf(['running', 'succeeded', 'partial', 'failed'], 'Status', 'running, succeeded, partial or failed.'),
  startedAt: text('Started At', 'When the run started (ISO time).'),
  finishedAt: maybeText('Finished At', 'When the run finished (ISO time), or null while running.'),
  trigger: oneOf(['schedule', 'http', 'cli'], 'Trigger', 'What started the run: schedule, http or cli.'),
  targets: list(runTargetAnswer, 'Targets', 'The tenant, environments and orgs the run audits.'),
  collection: collectionAnswer,
  summary: field(
    record({
      critical: count('Critical', 'Open critical findings.'),
      warning: count('Warning', 'Open warnings.'),
      info: count('Info', 'Open informational findings.'),
      opened: count('Opened', 'Findings this run opened or reopened.'),
      resolved: count('Resolved', 'Findings this run resolved.'),
    }),
    'Summary',
    'The counts of the finished run.',
  ).optional(),
  stalled: field(
    record({
      step: oneOf(['start', 'targets', 'finalize'], 'Step', 'The step the run stopped at.'),
      lastProgressAt: text('Last Progress At', 'The newest trace the run left.'),
      waitingOn: texts('Waiting On', 'The targets still pending when it stopped.'),
      closedAt: text('Closed At', 'When the run was closed as failed.'),
      supersededBy: text('Superseded By', 'The run whose start closed this one.').optional(),
    }),
    'Stalled',
    'Set when the run stopped making progress and was closed as failed.',
  ).optional(),
  supersedes: texts('Supersedes', 'Earlier stalled runs this one closed.').optional(),
});

export const auditStartedAnswer = record({
  runId: text('Run ID', 'The id of the audit run.'),
  status: text('Status', 'running.'),
  targets: count('Targets', 'How many targets the run audits.'),
});

const byStateCount = (state: string) => count(state.replace(/^./, (c) => c.toUpperCase()), `Findings that are ${state} after the run.`);

export const runFindingsAnswer = record({
  runId: text('Run ID', 'The id of the audit run.'),
  status: text('Status', 'The status of the run.'),
  byState: field(
    record({ new: byStateCount('new'), open: byStateCount('open'), reopened: byStateCount('reopened'), resolved: byStateCount('resolved') }),
    'By State',
    'How many findings the run left in each state.',
  ),
  count: count('Count', 'How many findings match the filter.'),
  findings: list(
    record({
      checkId: text('Check ID', 'The check that found it.'),
      targetId: text('Target ID', 'The tenant, environment or org.'),
      subjectId: text('Subject ID', 'What it is about (a user, a licence, a row).'),
      severity: severity('Severity', 'critical, warning or info.'),
      state: oneOf(['new', 'open', 'reopened', 'resolved'], 'State', 'new, open, reopened or resolved.'),
    }),
    'Findings',
    'What the run changed.',
  ),
});

const findingAnswer = record({
  checkId: text('Check ID', 'The check that found it.'),
  targetId: text('Target ID', 'The tenant, environment or org.'),
  subjectId: text('Subject ID', 'What it is about (a user, a licence, a row).'),
  severity: severity('Severity', 'critical, warning or info.'),
  previousSeverity: field(z.enum(['critical', 'warning', 'info']).nullable(), 'Previous Severity', 'The severity before the last change while open, or null.'),
  status: oneOf(['open', 'resolved'], 'Status', 'open or resolved.'),
  suppressed: yesNo('Suppressed', 'True when a suppression hides it.'),
  title: text('Title', 'What is wrong, in one line.'),
  details: field(z.record(z.string(), z.unknown()), 'Details', 'Names, UPNs, SKUs and counts: enough to act without another lookup.'),
  remediation: text('Remediation', 'What to do, citing the fact.'),
  firstSeenAt: text('First Seen At', 'When it was first found.'),
  lastSeenAt: text('Last Seen At', 'When it was last found.'),
  openedAt: text('Opened At', 'When it last opened or reopened.'),
  resolvedAt: maybeText('Resolved At', 'When it was resolved, or null.'),
  reopenCount: count('Reopen Count', 'How many times it came back after being resolved.'),
});

export const findingsAnswer = record({
  count: count('Count', 'How many findings match the filter.'),
  findings: list(findingAnswer, 'Findings', 'The findings that match the filter.'),
});

export const suppressionAnswer = record({
  checkId: text('Check ID', 'The check suppressed.'),
  targetId: text('Target ID', 'The tenant, environment or org.'),
  subjectId: text('Subject ID', 'The subject, or * for the whole check.'),
  reason: text('Reason', 'Why it is suppressed.'),
  expiresAt: text('Expires At', 'When the suppression ends.'),
  createdBy: text('Created By', 'Who suppressed it.'),
  createdAt: text('Created At', 'When it was suppressed.'),
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

/** A run, or the newest for `latest`: 200 once finished; while running 202, polling the run by its id (`latest` could move on). */
async function runAnswer(audit: AuditRunner, runId: string, link: (path: string) => string) {
  const run = runId === LATEST ? await audit.latestRun() : await audit.getRun(runId);
  if (run.status === 'running') return json(202, run, { 'retry-after': '10', location: link(`/api/audits/${encodeURIComponent(run.runId)}`) });
  return json(200, run);
}

export const auditRoutes = [
  defineRoute({
    name: 'audits-start',
    doc: {
      operationId: 'StartAudit',
      summary: 'Start an audit',
      description: 'Starts an audit of every environment and org; the action waits (202 and Location) and returns the finished run.',
      answer: auditRunAnswer,
      accepted: auditStartedAnswer,
      polls: true,
    },
    methods: ['POST'],
    route: 'audits',
    role: 'Steward.Audit',
    mutation: true,
    // SPEC §9: `{"full": true}` reads everything, not only the changes since the last run.
    body: optionalBody(
      z.strictObject({
        full: z.boolean().default(false).meta({ title: 'Full', description: 'True to read everything, not only the changes since the last run.', 'x-ms-visibility': 'advanced' }),
      }),
    ),
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
    doc: {
      operationId: 'GetLatestAuditRun',
      summary: 'Get the latest audit run',
      description: 'Returns the newest audit run, as Get an audit run does with the run id latest, which the connector uses instead.',
      answer: auditRunAnswer,
      polls: true,
      connector: false,
    },
    methods: ['GET'],
    route: 'audits/latest',
    role: 'Steward.Read',
    mutation: false,
    async run({ audit, link }) {
      return runAnswer(audit, LATEST, link);
    },
  }),
  defineRoute({
    name: 'audits-get',
    doc: {
      operationId: 'GetAuditRun',
      summary: 'Get an audit run',
      description: 'Returns an audit run, or with the run id latest the newest one; answers 202 while it is running.',
      answer: auditRunAnswer,
      polls: true,
    },
    methods: ['GET'],
    route: 'audits/{runId}',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ runId: RUN_ID }),
    async run({ audit, params, link }) {
      return runAnswer(audit, params.runId, link);
    },
  }),
  defineRoute({
    name: 'audits-findings',
    doc: {
      operationId: 'ListRunFindings',
      summary: 'List what an audit run changed',
      description: 'Lists the findings an audit run opened, reopened, changed or resolved, by state, target and check.',
      answer: runFindingsAnswer,
    },
    methods: ['GET'],
    route: 'audits/{runId}/findings',
    role: 'Steward.Read',
    mutation: false,
    params: z.object({ runId: RUN_ID }),
    query: z.strictObject({
      state: z.enum(['new', 'open', 'reopened', 'resolved']).optional().meta({ title: 'State', description: 'Keep only findings in this state.' }),
      targetId: TARGET_ID.optional(),
      checkId: CHECK_ID.optional(),
    }),
    // The run's report: what changed in it (opened, reopened, changed while open, resolved), from its history.
    async run({ audit, params, query }) {
      const runId = params.runId === LATEST ? (await audit.latestRun()).runId : params.runId;
      const { run, byState, findings } = await audit.runChanges(runId, query);
      return json(200, { runId: run.runId, status: run.status, byState, count: findings.length, findings });
    },
  }),
  defineRoute({
    name: 'findings-list',
    doc: {
      operationId: 'ListFindings',
      summary: 'List findings',
      description: 'Lists the findings of the audits, filtered by target, check, severity, status and suppression.',
      answer: findingsAnswer,
    },
    methods: ['GET'],
    route: 'findings',
    role: 'Steward.Read',
    mutation: false,
    query: z.strictObject({
      targetId: TARGET_ID.optional(),
      checkId: CHECK_ID.optional(),
      severity: z.enum(['critical', 'warning', 'info']).optional().meta({ title: 'Severity', description: 'Keep only findings of this severity.' }),
      status: z.enum(['open', 'resolved']).optional().meta({ title: 'Status', description: 'Keep only open or only resolved findings.' }),
      suppressed: z.enum(['true', 'false']).optional().meta({ title: 'Suppressed', description: 'true for suppressed findings only, false for the others.' }),
    }),
    async run({ audit, query }) {
      const findings = await audit.listFindings({ ...query, suppressed: query.suppressed === undefined ? undefined : query.suppressed === 'true' });
      return json(200, { count: findings.length, findings: findings.map(findingView) });
    },
  }),
  defineRoute({
    name: 'suppressions-create',
    doc: {
      operationId: 'SuppressFinding',
      summary: 'Suppress a finding',
      description: 'Suppresses a finding, or a whole check with the subject *, with a reason until an expiry date.',
      answer: suppressionAnswer,
      success: [201],
    },
    methods: ['POST'],
    route: 'suppressions',
    role: 'Steward.Audit',
    mutation: true,
    body: z.strictObject({
      checkId: EXISTING_CHECK_ID,
      targetId: TARGET_ID,
      /** `*` suppresses the whole check for the target. */
      subjectId: subjectId.default('*'),
      reason: z.string().trim().min(3).max(1000).meta({ title: 'Reason', description: 'Why the finding is suppressed.' }),
      expiresAt: z.iso
        .datetime({ offset: true, message: 'expected an ISO 8601 date-time' })
        .meta({ title: 'Expires At', description: 'When the suppression ends (ISO 8601 date-time).' }),
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
    doc: {
      operationId: 'DeleteSuppression',
      summary: 'Remove a suppression',
      description: 'Removes the suppression of a finding, so it shows again from the next audit.',
      success: [204],
    },
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
