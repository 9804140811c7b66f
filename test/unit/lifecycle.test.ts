import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { buildAlertDocument } from '../../lib/audit/alert-document.js';
import { applyRun, decideAlerts, stateInRun, type AlertDecision, type EvaluatedScope, type RunOutcome } from '../../lib/audit/lifecycle.js';
import { findingKey, type Finding, type Severity, type StoredFinding } from '../../lib/domain/finding.js';

/**
 * The findings life cycle and the alert decision of SPEC §2, pure: a small in-memory "store" runs
 * them the way the pipeline's finalize step does (apply the run, write what changed, decide the
 * alerts, write the alert keys).
 */

const ENV = 'env-1';
const OTHER_ENV = 'env-2';

function finding(checkId: string, subjectId: string, severity: Severity = 'warning', targetId = ENV, extra: Partial<Finding> = {}): Finding {
  return {
    checkId,
    targetId,
    subjectId,
    severity,
    title: `${checkId} on ${subjectId}`,
    details: { subject: subjectId },
    remediation: 'Do the thing (T3).',
    ...extra,
  };
}

interface RunResult {
  runId: string;
  outcome: RunOutcome;
  decision: AlertDecision;
  /** Keys of the findings alerted in this run. */
  alerted: string[];
}

/** Runs over a map of stored findings as the pipeline does; `suppressed` keys raise no alert. */
function tenant(options: { minimum?: Severity; suppressed?: Set<string> } = {}) {
  const stored = new Map<string, StoredFinding>();
  let n = 0;
  const write = (list: readonly StoredFinding[]) => list.forEach((f) => stored.set(findingKey(f), f));
  return {
    stored,
    get: (checkId: string, subjectId: string, targetId = ENV) => stored.get(`${checkId}|${targetId}|${subjectId}`),
    run(scopes: EvaluatedScope[], runId = `run-${++n}`): RunResult {
      const now = new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
      const outcome = applyRun([...stored.values()], scopes, runId, now);
      write(outcome.changed);
      const open = [...stored.values()].filter((f) => f.status === 'open');
      const decision = decideAlerts(open, options.minimum ?? 'warning', (f) => options.suppressed?.has(findingKey(f)) ?? false);
      write([...decision.alert, ...decision.silentlyAcknowledged]);
      return { runId, outcome, decision, alerted: decision.alert.map(findingKey).sort() };
    },
  };
}

const all = (findings: Finding[], targetId = ENV): EvaluatedScope => ({ targetId, checkIds: 'all', findings });
const stateOf = (outcome: RunOutcome, f: Finding) => outcome.current.find((c) => findingKey(c.finding) === findingKey(f))?.state;

describe('finding life cycle (applyRun)', () => {
  it('opens a finding as new, keeps it open, resolves it when it is gone, and reopens it when it comes back', () => {
    const t = tenant();
    const a = finding('dataverse.application-user-disabled', 'app-1');

    const r1 = t.run([all([a])]);
    expect(stateOf(r1.outcome, a)).toBe('new');
    expect(t.get(a.checkId, a.subjectId)).toMatchObject({ status: 'open', state: 'new', openedRunId: r1.runId, reopenCount: 0, resolvedAt: null });
    const firstSeenAt = t.get(a.checkId, a.subjectId)!.firstSeenAt;

    const r2 = t.run([all([a])]);
    expect(stateOf(r2.outcome, a)).toBe('open');
    expect(r2.outcome.changed).toEqual([]); // nothing changed: nothing to write

    const r3 = t.run([all([])]);
    expect(r3.outcome.resolved.map(findingKey)).toEqual([findingKey(a)]);
    expect(t.get(a.checkId, a.subjectId)).toMatchObject({ status: 'resolved', state: 'resolved', lastRunId: r3.runId });
    expect(t.get(a.checkId, a.subjectId)!.resolvedAt).not.toBeNull();

    const r4 = t.run([all([])]);
    expect(r4.outcome.resolved).toEqual([]); // resolved once, not again
    expect(r4.outcome.changed).toEqual([]);

    const r5 = t.run([all([a])]);
    expect(stateOf(r5.outcome, a)).toBe('reopened');
    expect(t.get(a.checkId, a.subjectId)).toMatchObject({ status: 'open', state: 'reopened', openedRunId: r5.runId, reopenCount: 1, resolvedAt: null, firstSeenAt });

    const r6 = t.run([all([a])]);
    expect(stateOf(r6.outcome, a)).toBe('open');
    expect(t.get(a.checkId, a.subjectId)!.reopenCount).toBe(1);
  });

  it('a scope that ran only some checks never resolves the findings of the others', () => {
    const t = tenant();
    const x = finding('entra.disabled-user-licensed', 'u1', 'warning', 'tenant');
    const y = finding('dataverse.disabled-user-licensed', 'u2', 'warning', 'tenant');
    t.run([all([x, y], 'tenant')]);

    // A run in which an environment failed: the cross-environment check did not run.
    const r2 = t.run([{ targetId: 'tenant', checkIds: new Set(['entra.disabled-user-licensed', 'audit.target-failed']), findings: [] }]);
    expect(r2.outcome.resolved.map(findingKey)).toEqual([findingKey(x)]);
    expect(t.get(y.checkId, y.subjectId, 'tenant')!.status).toBe('open');
    expect(r2.outcome.changed.map(findingKey)).toEqual([findingKey(x)]);
  });

  it('a target that was not evaluated in a run (failed or not audited) never resolves', () => {
    const t = tenant();
    const a = finding('dataverse.nested-security-group', 'g1', 'warning', ENV);
    const b = finding('dataverse.nested-security-group', 'g2', 'warning', OTHER_ENV);
    t.run([all([a], ENV), all([b], OTHER_ENV)]);

    // OTHER_ENV failed: only its audit.target-failed check was evaluated.
    const failed = finding('audit.target-failed', 'collection', 'critical', OTHER_ENV);
    const r2 = t.run([all([], ENV), { targetId: OTHER_ENV, checkIds: new Set(['audit.target-failed']), findings: [failed] }]);
    expect(r2.outcome.resolved.map(findingKey)).toEqual([findingKey(a)]);
    expect(t.get(b.checkId, b.subjectId, OTHER_ENV)!.status).toBe('open');
    expect(r2.alerted).toEqual([findingKey(failed)]);

    // A run that leaves OTHER_ENV out entirely changes nothing there either.
    const r3 = t.run([all([], ENV)]);
    expect(r3.outcome.changed).toEqual([]);
    expect(t.get(b.checkId, b.subjectId, OTHER_ENV)!.status).toBe('open');

    // The next successful run of OTHER_ENV resolves what is gone, the failure included.
    const r4 = t.run([all([b], OTHER_ENV)]);
    expect(r4.outcome.resolved.map(findingKey)).toEqual([findingKey(failed)]);
    expect(t.get(b.checkId, b.subjectId, OTHER_ENV)!.status).toBe('open');
  });

  it('writes a finding whose text changed without a new state or an alert', () => {
    const t = tenant();
    const a = finding('dataverse.enabled-user-ineligible', 'u1');
    t.run([all([a])]);
    const changed = { ...a, title: 'now also without a license', details: { failed: ['D4.1', 'D4.2'] } };
    const r2 = t.run([all([changed])]);
    expect(stateOf(r2.outcome, a)).toBe('open');
    expect(r2.outcome.changed).toHaveLength(1);
    expect(t.get(a.checkId, a.subjectId)).toMatchObject({ title: 'now also without a license', details: { failed: ['D4.1', 'D4.2'] }, status: 'open' });
    expect(r2.alerted).toEqual([]);
  });

  it('a second pass over the same run (a finalize asked twice) keeps the states and writes nothing', () => {
    const t = tenant();
    const a = finding('dataverse.application-user-disabled', 'app-1');
    const first = t.run([all([a])], 'run-x');
    expect(first.alerted).toEqual([findingKey(a)]);
    const again = t.run([all([a])], 'run-x');
    expect(stateOf(again.outcome, a)).toBe('new');
    expect(again.outcome.changed).toEqual([]);
    expect(again.alerted).toEqual([]);
  });
});

describe('alerts (decideAlerts)', () => {
  it('alerts on opening and on reopening, once each', () => {
    const t = tenant();
    const a = finding('dataverse.application-user-disabled', 'app-1');
    expect(t.run([all([a])]).alerted).toEqual([findingKey(a)]);
    expect(t.run([all([a])]).alerted).toEqual([]);
    expect(t.run([all([])]).alerted).toEqual([]); // resolving alerts nothing
    expect(t.run([all([a])]).alerted).toEqual([findingKey(a)]); // reopened
    expect(t.run([all([a])]).alerted).toEqual([]);
  });

  it('alerts when the severity rises, not when it falls, and again on a later rise', () => {
    const t = tenant();
    const cap = (severity: Severity) => finding('dataverse.non-interactive-cap', 'cap', severity);

    expect(t.run([all([cap('warning')])]).alerted).toEqual([findingKey(cap('warning'))]);

    const rise = t.run([all([cap('critical')])]);
    expect(rise.alerted).toEqual([findingKey(cap('critical'))]);
    expect(rise.decision.alert[0]).toMatchObject({ severity: 'critical', previousSeverity: 'warning' });
    expect(stateOf(rise.outcome, cap('critical'))).toBe('open');

    const fall = t.run([all([cap('warning')])]);
    expect(fall.alerted).toEqual([]);
    expect(fall.outcome.resolved).toEqual([]);
    expect(t.get('dataverse.non-interactive-cap', 'cap')).toMatchObject({ severity: 'warning', status: 'open' });

    expect(t.run([all([cap('warning')])]).alerted).toEqual([]);
    expect(t.run([all([cap('critical')])]).alerted).toEqual([findingKey(cap('critical'))]);
    expect(t.run([all([cap('critical')])]).alerted).toEqual([]);
  });

  it('never alerts twice for the same state', () => {
    const t = tenant();
    const findings = [finding('a.check', 's1', 'critical'), finding('b.check', 's2', 'warning')];
    t.run([all(findings)]);
    const open = [...t.stored.values()];
    expect(decideAlerts(open, 'warning', () => false).alert).toEqual([]);
    expect(decideAlerts(open, 'info', () => false).alert).toEqual([]);
  });

  it('alerts only at or above the minimum severity', () => {
    const severities: Severity[] = ['critical', 'warning', 'info'];
    const findings = severities.map((s) => finding(`check.${s}`, 'x', s));
    const alertedAt = (minimum: Severity) => {
      const t = tenant({ minimum });
      return t.run([all(findings)]).decision.alert.map((f) => f.severity).sort();
    };
    expect(alertedAt('critical')).toEqual(['critical']);
    expect(alertedAt('warning')).toEqual(['critical', 'warning']);
    expect(alertedAt('info')).toEqual(['critical', 'info', 'warning']);
  });

  it('a finding that rises from below the minimum to above it alerts then', () => {
    const t = tenant({ minimum: 'warning' });
    const low = finding('salesforce.integration-license-headroom', 'Salesforce Integration', 'info');
    expect(t.run([all([low])]).alerted).toEqual([]);
    const high = { ...low, severity: 'warning' as const };
    expect(t.run([all([high])]).alerted).toEqual([findingKey(high)]);
  });

  it('leaves suppressed findings out, still recorded as open', () => {
    const quiet = finding('dataverse.profile-drift', 'u1', 'warning');
    const loud = finding('dataverse.profile-drift', 'u2', 'warning');
    const t = tenant({ suppressed: new Set([findingKey(quiet)]) });
    const r1 = t.run([all([quiet, loud])]);
    expect(r1.alerted).toEqual([findingKey(loud)]);
    expect(r1.decision.silentlyAcknowledged).toEqual([]);
    expect(t.get(quiet.checkId, quiet.subjectId)).toMatchObject({ status: 'open', state: 'new', alertedState: null });
    expect(t.run([all([quiet, loud])]).alerted).toEqual([]);
  });
});

describe('the alert document', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/alert.schema.json', import.meta.url), 'utf8')) as object;
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);

  /** What the pipeline passes to buildAlertDocument after three runs. */
  function inputOf(publicBaseUrl?: string): Parameters<typeof buildAlertDocument>[0] {
    const t = tenant();
    const cap = (severity: Severity) => finding('dataverse.non-interactive-cap', 'cap', severity);
    t.run([all([cap('warning'), finding('dataverse.application-user-disabled', 'app-1')])]);
    t.run([all([finding('dataverse.application-user-disabled', 'app-1')])]); // cap resolved
    // Two licence-waste findings with prices in two currencies (SPEC §7 Money).
    const wasted = (subjectId: string, monthlyCost: { currency: string; amount: number }[]) =>
      finding('dataverse.non-interactive-licensed', subjectId, 'info', ENV, { details: { monthlyCost } });
    const r3 = t.run(
      [
        all([
          cap('critical'),
          finding('dataverse.application-user-disabled', 'app-1'),
          finding('dataverse.nested-security-group', 'g1'),
          finding('dataverse.profile-drift', 'u1', 'info'),
          wasted('u2', [{ currency: 'EUR', amount: 20.1 }, { currency: 'USD', amount: 12 }]),
          wasted('u3', [{ currency: 'EUR', amount: 10.2 }]),
        ]),
      ],
      'run-3',
    );
    const open = [...t.stored.values()].filter((f) => f.status === 'open');
    return { runId: r3.runId, tenantId: 'tenant-1', runStatus: 'succeeded', now: new Date('2025-02-01T02:00:00Z'), alerted: r3.decision.alert, open, suppressedCount: 0, resolvedCount: 0, publicBaseUrl };
  }
  const documentOf = (publicBaseUrl?: string) => buildAlertDocument(inputOf(publicBaseUrl));

  it('lists what changed, most severe first, with a summary and links, and validates against the shipped schema', () => {
    const doc = documentOf('https://steward.example.net/');
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.schemaVersion).toBe('1.1');
    expect(doc.findings.map((f) => [f.checkId, f.change, f.severity])).toEqual([
      ['dataverse.non-interactive-cap', 'reopened', 'critical'],
      ['dataverse.nested-security-group', 'opened', 'warning'],
    ]);
    expect(doc.summary).toEqual({
      critical: 1,
      warning: 2,
      info: 3,
      alerted: 2,
      resolved: 0,
      suppressed: 0,
      // Per currency, never summed across currencies.
      reclaimableMonthly: [
        { currency: 'EUR', amount: 30.3 },
        { currency: 'USD', amount: 12 },
      ],
    });
    expect(doc.links.findings).toBe('https://steward.example.net/api/findings?status=open');
    expect(doc.links.report).toBe('https://steward.example.net/api/audits/run-3/report');
    expect(doc.findings[0]!.link).toBe(`https://steward.example.net/api/findings?targetId=${ENV}&checkId=dataverse.non-interactive-cap`);
  });

  it('has null links without a public base URL, and still validates', () => {
    const doc = documentOf(undefined);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.links).toEqual({ run: null, report: null, findings: null });
    expect(doc.card.actions).toBeUndefined(); // no buttons to nowhere
    expect(doc.findings.every((f) => f.link === null)).toBe(true);
  });

  it('has a deliveryId that a rebuild of the same alert repeats and another alert does not (issue 12 D4)', () => {
    const input = inputOf('https://steward.example.net');
    const doc = buildAlertDocument(input);
    expect(doc.deliveryId).toMatch(/^run-3\.[0-9a-f]{32}$/);
    // The same alert built again later (a finalize that ran again after a crash): the same delivery.
    const rebuilt = buildAlertDocument({ ...input, now: new Date('2025-02-01T03:00:00Z') });
    expect(rebuilt.generatedAt).not.toBe(doc.generatedAt);
    expect(rebuilt.deliveryId).toBe(doc.deliveryId);
    // Anything it says changed, or another run: another delivery.
    expect(buildAlertDocument({ ...input, resolvedCount: 1 }).deliveryId).not.toBe(doc.deliveryId);
    expect(buildAlertDocument({ ...input, runId: 'run-4' }).deliveryId).not.toBe(doc.deliveryId);
    expect(validate({ ...doc, deliveryId: 'a/b' })).toBe(false); // must fit a Table Storage RowKey
  });

  it('the schema refuses another version, unknown fields and an unknown change', () => {
    const doc = documentOf('https://steward.example.net');
    expect(validate({ ...doc, schemaVersion: '2.0' })).toBe(false);
    expect(validate({ ...doc, extra: true })).toBe(false);
    expect(validate({ ...doc, findings: [{ ...doc.findings[0], change: 'lowered' }] })).toBe(false);
    const { runId: _dropped, ...withoutRunId } = doc;
    expect(validate(withoutRunId)).toBe(false);
  });
});

describe("a finding's state in a run, as the life cycle decides it", () => {
  it('is what the changed findings carry, and follows from the record of the others: new, open, resolved, reopened, open', () => {
    const t = tenant();
    const f = finding('dataverse.profile-drift', 'u1', 'info');
    const r1 = t.run([all([f])]);
    const stored = () => t.get(f.checkId, f.subjectId)!;
    expect(stored().state).toBe('new');
    expect(stateInRun(stored(), r1.runId)).toBe('new');

    const r2 = t.run([all([f])]);
    expect(r2.outcome.changed).toEqual([]); // nothing written: the stored `state` still says `new`
    expect(stateOf(r2.outcome, f)).toBe('open');
    expect(stateInRun(stored(), r2.runId)).toBe('open');

    const r3 = t.run([all([])]);
    expect(stateInRun(stored(), r3.runId)).toBe('resolved');
    expect(stored().state).toBe('resolved');

    const r4 = t.run([all([f])]);
    expect(stored().state).toBe('reopened');
    expect(stateInRun(stored(), r4.runId)).toBe('reopened');
    expect(stateInRun(stored(), 'a-later-run')).toBe('open');
  });
});
