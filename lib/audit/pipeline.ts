import { randomBytes } from 'node:crypto';
import { TARGET_FAILED_CHECK, type CheckId } from '../domain/check-catalogue.js';
import { findingKey, type AuditRun, type Finding, type RunStatus, type RunTarget, type StoredFinding } from '../domain/finding.js';
import type { Environment } from '../domain/model.js';
import { closedByStall, closingStatus, stallOf } from '../domain/run-progress.js';
import { isSuppressed } from '../domain/suppression.js';
import type { Settings } from '../config/settings.js';
import type { AlertSender } from '../gateways/alerts/port.js';
import type { AuditTargetMessage } from '../gateways/storage/audit-queue.js';
import type { AuditStore, RunFindingEntry } from '../gateways/storage/audit-store.js';
import { deliverPendingAlerts } from './alert-delivery.js';
import { buildAlertDocument } from './alert-document.js';
import { runEnvironmentChecks, summarizeEnvironmentUsers } from './checks/environment-checks.js';
import { runSalesforceChecks } from './checks/salesforce-checks.js';
import { INACTIVITY_CHECK, runTenantChecks } from './checks/tenant-checks.js';
import { discoverEnvironments, type AuditSources } from './collect.js';
import { collectDirectoryChanges, collectEnvironmentChanges, type FullReason } from './collect-changes.js';
import { fullRunDue, type DeltaStateStore } from './delta-state.js';
import { directoryInputsKey, tenantInputsKey } from './inputs-key.js';
import { applyRun, decideAlerts, openStateInRun, type EvaluatedScope, type OpenState } from './lifecycle.js';
import { RunData, type ClaimStorage } from './run-data.js';
import type { FinishedRun, RunReports } from './run-report.js';
import { logEvent } from '../telemetry/log.js';
import { tallyUpstreamRequests, type RequestTally } from '../telemetry/upstream.js';
import { NOT_AUDITED, RESULT_MISSING, RunDataMissing, describeError, failureOf, isLastingFailure, targetFailedFinding } from './target-failure.js';

/**
 * The audit in three steps, the same whether Azure Functions fans it out over a queue or the CLI
 * runs it in-process: start (discover targets, read the directory once, store it as a claim),
 * audit one target (collect, check, apply the life cycle to its findings), finalize (tenant-wide
 * checks, failed targets, alerts, close the run). Each step is idempotent for a given run.
 * `AuditRunner` (runner.ts) is the front door that strings them together.
 */

const TENANT_TARGET = 'tenant';
/** SPEC §9: `signInActivity` (L2) and `licenseAssignmentStates` (L3) are not tracked by `/users/delta`. */
const UNTRACKED_BY_DELTA: readonly CheckId[] = [INACTIVITY_CHECK, 'entra.license-assignment-error'];

/** The few settings the audit reads. */
export type AuditSettings = Pick<
  Settings,
  | 'tenantId'
  | 'environmentAllowList'
  | 'environmentLicenseSkus'
  | 'marketingTenantSkus'
  | 'freeDataversePlanSkus'
  | 'nonInteractiveWarnAt'
  | 'salesforceIntegrationLicenseWarnAt'
  | 'publicBaseUrl'
  | 'inactiveDays'
  | 'licenseHeadroomWarnAt'
  | 'licensePrices'
  | 'auditTime'
  | 'auditStallMinutes'
  | 'fullAuditEveryDays'
> & { alerts: Pick<Settings['alerts'], 'minimumSeverity'> };

/** An open finding after a run, with its state in that run. */
export type ReportedFinding = StoredFinding & { runState: OpenState; suppressed: boolean };

export interface AuditRunReport {
  run: AuditRun;
  /** Open findings after the run, with their state in this run. */
  findings: ReportedFinding[];
  resolved: StoredFinding[];
  alertDocument: unknown | null;
}

export interface PipelineDependencies {
  sources: AuditSources;
  settings: AuditSettings;
  store: AuditStore;
  claims: ClaimStorage;
  alerts: AlertSender | null;
  /** Renders and keeps each finished run's report (issue 13); null: no reports (unit tests). */
  reports: RunReports | null;
  /** SPEC §9: where each target's delta links and data are kept between runs; absent: every run is full. */
  deltaState?: DeltaStateStore | null;
  /** Injected so tests can move time. */
  now: () => Date;
}

export interface StartRunOptions {
  /**
   * Every step of the run happens in this process and this pipeline (the CLI, `steward serve`,
   * tests): the data the steps share stays in memory and no claim-check is written (run-data.ts).
   */
  inProcess?: boolean;
  /** SPEC §9: read everything, not only the changes (`steward audit --full`, `POST /api/audits {"full": true}`). */
  full?: boolean;
}

/** A target's findings, and the writes that go with them. */
interface CheckedTarget {
  findings: Finding[];
  checkIds?: ReadonlySet<string>; // none when nothing they read changed (its findings stand); default all
  summaryStored: Promise<void>;
  stateKept?: () => Promise<void>;
}

/** A delivery of a target's message: which attempt, and whether it is the last one. */
export interface TargetAttempt {
  finalAttempt: boolean;
  attempt?: number;
}

function newRunId(now: Date): string {
  // Sortable and key-safe: time first, then randomness.
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(4).toString('hex')}`;
}

/** Waits for every write to settle (none may still be under way when a retry starts), then throws the first failure. */
async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  for (const outcome of await Promise.allSettled(writes)) if (outcome.status === 'rejected') throw outcome.reason;
}

export class AuditPipeline {
  private readonly runs: RunData;

  constructor(private readonly deps: PipelineDependencies) {
    this.runs = new RunData(deps.claims);
  }

  /** Step 1: the run record, its targets, the directory snapshot; returns one message per target to audit. */
  async startRun(trigger: AuditRun['trigger'], options: StartRunOptions = {}): Promise<{ run: AuditRun; messages: AuditTargetMessage[] }> {
    const { sources, settings, store } = this.deps;
    const startedAt = this.deps.now();
    const runId = newRunId(startedAt);
    const superseded = await this.closeStalledBefore(runId);
    const run: AuditRun = {
      runId,
      status: 'running',
      startedAt: startedAt.toISOString(),
      finishedAt: null,
      trigger,
      targets: [],
      ...(superseded.length > 0 ? { supersedes: superseded } : {}),
    };
    await store.createRun(run);

    let environments: Environment[] = [];
    let tenant: RunTarget = { id: TENANT_TARGET, kind: 'tenant', status: 'pending', name: 'Entra ID directory' };
    let fullReason: FullReason = options.full ? 'requested' : null;
    const tally: RequestTally = { requests: 0 };
    let directoryKey: string | undefined;
    try {
      environments = await tallyUpstreamRequests(tally, () => discoverEnvironments(sources.environments, settings.environmentAllowList));
      const { deltaState } = this.deps;
      const previous = deltaState && !options.full ? await deltaState.keptDirectory() : null;
      if (previous && fullRunDue(previous.header.fullAt, startedAt, settings.fullAuditEveryDays)) fullReason = 'scheduled';
      const { directory, state, links, collection } = await tallyUpstreamRequests(tally, () => collectDirectoryChanges(sources.directory, environments, settings, deltaState ? previous : null, fullReason, startedAt));
      // In-process, the targets need not wait for the directory's state to be written (finalize commits it once it is).
      const staging = state && deltaState ? deltaState.stage(TENANT_TARGET, runId, state) : undefined;
      if (!options.inProcess) await staging;
      directoryKey = directoryInputsKey(links, directory.head, settings);
      run.collection = collection.mode === 'incremental' ? { ...collection, checksKeptOpen: [...UNTRACKED_BY_DELTA] } : collection;
      tenant.collection = collection;
      await this.runs.begin(runId, { ...directory, head: { ...directory.head, ...(directoryKey ? { inputsKey: directoryKey } : {}) } }, environments, options.inProcess ? { staging } : false);
    } catch (error) {
      tenant = { ...tenant, status: 'failed', error: describeError(error), failure: failureOf(error) };
    }
    const targets: RunTarget[] = [{ ...tenant, upstreamRequests: tally.requests }];
    const messages: AuditTargetMessage[] = [];
    for (const environment of environments) {
      if (!environment.hasDataverse) {
        targets.push({ id: environment.id, kind: 'environment', status: 'skipped', name: environment.displayName, error: 'no Dataverse database (D3)' });
      } else {
        targets.push({ id: environment.id, kind: 'environment', status: 'pending', name: environment.displayName });
        messages.push({ runId, targetId: environment.id, kind: 'environment', ...(fullReason ? { fullReason } : {}), ...(directoryKey ? { directoryKey } : {}) });
      }
    }
    for (const orgId of sources.salesforce.orgIds()) {
      targets.push({ id: orgId, kind: 'salesforce-org', status: 'pending', name: sources.salesforce.orgName(orgId) ?? orgId });
      messages.push({ runId, targetId: orgId, kind: 'salesforce-org' });
    }
    await store.setTargetStatuses(runId, targets);
    run.targets = targets;
    await store.updateRun(run);
    return { run, messages };
  }

  /**
   * A run that stopped making progress (D3: its worker was killed) is closed as `failed`, with the
   * step and the time it stopped; its findings are left as they were. Returns the run as it is now.
   */
  async closeIfStalled(run: AuditRun, supersededBy?: string): Promise<AuditRun> {
    if (run.status !== 'running') return run;
    const targets = await this.deps.store.listTargets(run.runId);
    const now = this.deps.now();
    const stall = stallOf(run, targets, now, this.deps.settings.auditStallMinutes * 60_000);
    if (!stall) return run;
    const closed = closedByStall(run, targets.length > 0 ? targets : run.targets, stall, now, supersededBy);
    for (const target of closed.targets.filter((t) => t.failure?.code === 'run-stalled')) await this.deps.store.setTargetStatus(run.runId, target);
    await this.deps.store.updateRun(closed);
    return closed;
  }

  /** The latest run, if it stalled, is closed by the run starting now, which names it (D3). */
  private async closeStalledBefore(runId: string): Promise<string[]> {
    const latest = await this.deps.store.getLatestRun();
    if (!latest || latest.status !== 'running') return [];
    const closed = await this.closeIfStalled(latest, runId);
    return closed.status === 'running' ? [] : [closed.runId];
  }

  /**
   * Step 2: one environment or org. Throws when collection failed and another attempt may follow;
   * on the final attempt records the target as failed instead.
   */
  async auditTarget(message: AuditTargetMessage, options: TargetAttempt): Promise<RunTarget> {
    const { store } = this.deps;
    const { runId, targetId } = message;
    const base: RunTarget = { id: targetId, kind: message.kind, status: 'pending', attempts: options.attempt };
    const tally: RequestTally = { requests: 0 }; // kept on the target, for the run's metrics (AuditRunner.finalize)
    try {
      // The target's stored findings are read while its data is collected: nothing else writes
      // them meanwhile (one worker audits a target at a time; finalize runs after every target).
      const previous = store.listFindingsOfTargets([targetId]);
      previous.catch(() => undefined); // awaited in record(); a failed collection abandons it
      const { findings, checkIds, summaryStored, stateKept } = await tallyUpstreamRequests(tally, () => (message.kind === 'environment' ? this.checkEnvironment(runId, base, message) : this.checkOrg(base)));
      await settleAll([summaryStored, this.record(runId, [{ targetId, checkIds: checkIds ?? 'all', findings }], previous)]);
      // SPEC §9: the target succeeded: the state its changes were applied to is the one in force.
      await stateKept?.();
      const done: RunTarget = { ...base, status: 'succeeded', upstreamRequests: tally.requests };
      await store.setTargetStatus(runId, done);
      return done;
    } catch (error) {
      if (!options.finalAttempt && !isLastingFailure(error)) throw error;
      const failed: RunTarget = { ...base, status: 'failed', error: describeError(error), failure: failureOf(error), upstreamRequests: tally.requests };
      await store.setTargetStatus(runId, failed);
      return failed;
    }
  }

  /**
   * Collects and checks an environment (naming `target` as soon as it is known); its summary is
   * stored alongside; `stateKept` stages and commits its delta state once its findings are recorded.
   */
  private async checkEnvironment(runId: string, target: RunTarget, message: AuditTargetMessage): Promise<CheckedTarget> {
    const { sources, settings, deltaState } = this.deps;
    const environment = (await this.runs.environmentList(runId)).find((e) => e.id === target.id);
    if (!environment) throw new RunDataMissing('environment-unknown', `environment ${target.id} is not part of run ${runId}`);
    target.name = environment.displayName;
    const head = await this.runs.directoryHead(runId);
    if (!head) throw new RunDataMissing('directory-unavailable', 'the directory snapshot of the run is missing (the tenant target failed)');
    const now = this.deps.now();
    const kept = deltaState && !message.fullReason ? await deltaState.keptEnvironment(environment.id) : null;
    const due = kept && fullRunDue(kept.header.fullAt, now, settings.fullAuditEveryDays) ? 'scheduled' : null;
    const { data, unchanged, state, collection } = await collectEnvironmentChanges(sources, environment, head.groups, kept, message.fullReason ?? due, now, message.directoryKey);
    target.collection = collection;
    if (unchanged) return { findings: [], checkIds: new Set(), summaryStored: this.runs.putSummary(runId, unchanged.summary) };
    const directory = await this.runs.directory(runId);
    if (!directory) throw new RunDataMissing('directory-unavailable', 'the directory snapshot of the run is missing (the tenant target failed)');
    const findings = runEnvironmentChecks(directory, data, settings);
    // Stored alongside the findings (awaited with them, before the target is marked done).
    const summary = summarizeEnvironmentUsers(target.id, data.systemUsers, directory);
    const summaryStored = this.runs.putSummary(runId, summary);
    const stateKept = state && deltaState ? async () => {
      const staged = { ...state, summary };
      await deltaState.stage(environment.id, runId, staged);
      await deltaState.commit(environment.id, runId, staged);
    } : undefined;
    return { findings, summaryStored, stateKept };
  }

  private async checkOrg(target: RunTarget): Promise<CheckedTarget> {
    const { sources, settings } = this.deps;
    const name = sources.salesforce.orgName(target.id) ?? target.id;
    target.name = name;
    const snapshot = await sources.salesforce.getOrgSnapshot(target.id);
    return { findings: runSalesforceChecks(name, snapshot, settings), summaryStored: Promise.resolve() };
  }

  /** Applies the life cycle to evaluated scopes and writes what changed (findings and the run's history). */
  private async record(runId: string, scopes: EvaluatedScope[], previousFindings?: Promise<StoredFinding[]>): Promise<void> {
    const { store } = this.deps;
    const targetIds = scopes.map((s) => s.targetId);
    const previous = await (previousFindings ?? store.listFindingsOfTargets(targetIds));
    const outcome = applyRun(previous, scopes, runId, this.deps.now());
    // History of the run: what changed in it, in the state the life cycle gave it (proportional to change, like the findings).
    const entries: RunFindingEntry[] = outcome.changed.map((f) => ({
      checkId: f.checkId,
      targetId: f.targetId,
      subjectId: f.subjectId,
      severity: f.severity,
      state: f.state,
    }));
    // Independent writes (a retry writes both again: the history keeps the union, findings are upserts).
    await settleAll([store.saveFindings(outcome.changed), store.saveRunFindings(runId, entries)]);
    this.runs.noteRecorded(runId, targetIds, previous, outcome.changed);
  }

  /** True when no target of the run is still pending (the last worker then finalizes). */
  async allTargetsDone(runId: string): Promise<boolean> {
    const targets = await this.deps.store.listTargets(runId);
    return targets.every((t) => t.status !== 'pending' || t.id === TENANT_TARGET);
  }

  /** Step 3: tenant-wide checks, failed targets, alerts, and the run's closing status. */
  async finalize(runId: string): Promise<AuditRunReport> {
    const { store } = this.deps;
    const run = await store.getRun(runId);
    if (!run) throw new Error(`no audit run ${runId}`);
    const targets = await this.everyTarget(run);
    // The tenant first: once it succeeded, only the other failed targets are left to record.
    const tenant = await this.tenantScopes(run, targets);
    await this.record(runId, [...tenant.scopes, ...(await this.failedTargetScopes(runId, targets))]);
    if (tenant.checkedOn) await this.deps.deltaState?.noteTenantChecked(tenant.checkedOn);

    const finalTargets = await this.everyTarget(run);
    const status = closingStatus(finalTargets);
    const { open, resolved } = await this.findingsAfter(runId, finalTargets);
    const now = this.deps.now();
    const finished: AuditRun = {
      ...run,
      status,
      finishedAt: now.toISOString(),
      targets: finalTargets,
      summary: {
        critical: open.filter((f) => f.severity === 'critical').length,
        warning: open.filter((f) => f.severity === 'warning').length,
        info: open.filter((f) => f.severity === 'info').length,
        opened: open.filter((f) => openStateInRun(f, runId) !== 'open').length,
        resolved: resolved.length,
      },
    };
    // The report before the alert, so the alert's link to it already answers.
    await this.publishReport({ run: finished, findings: open.map((f) => ({ ...f, runState: openStateInRun(f, runId) })), resolved }, now);
    const { alertDocument, suppressed, alerted } = await this.alert(runId, status, open, resolved, now);
    await store.updateRun(finished);
    this.runs.end(runId);
    return {
      run: finished,
      findings: open.map((f) => ({ ...(alerted.get(findingKey(f)) ?? f), runState: openStateInRun(f, runId), suppressed: suppressed(f) })),
      resolved,
      alertDocument,
    };
  }

  /** The run's report (issue 13); one that cannot be written is reported and does not fail the run. */
  private async publishReport(finished: FinishedRun, now: Date): Promise<void> {
    await this.deps.reports?.publish(finished, now).catch((error: unknown) => void logEvent('warn', 'audit.report-not-stored', { runId: finished.run.runId, message: describeError(error) }));
  }

  /**
   * The run's own target list (recorded when it started) with each target's latest status. A
   * target whose status row is missing has no result: it is failed, so the run cannot close as
   * `succeeded` over part of its targets (the tenant is evaluated here, so it keeps its place).
   */
  private async everyTarget(run: AuditRun): Promise<RunTarget[]> {
    const rows = await this.deps.store.listTargets(run.runId);
    const recorded = new Set(rows.map((t) => t.id));
    const missing = run.targets.filter((t) => !recorded.has(t.id));
    const failed = missing.map((t): RunTarget => (t.id === TENANT_TARGET || t.status === 'skipped' ? t : { ...t, status: 'failed', error: 'no result was recorded for this target', failure: RESULT_MISSING }));
    for (const target of failed) await this.deps.store.setTargetStatus(run.runId, target);
    return [...rows, ...failed];
  }

  /**
   * The tenant target's scope: the directory checks, and the cross-environment check when every
   * environment was collected (it never resolves anything in a run where an environment failed).
   * `checkedOn` is the key of what they were evaluated on, noted once they are recorded: an
   * incremental run on the same key keeps their findings without reading the users (SPEC §9).
   */
  private async tenantScopes(run: AuditRun, targets: RunTarget[]): Promise<{ scopes: EvaluatedScope[]; checkedOn?: string }> {
    const { runId } = run;
    const { deltaState } = this.deps;
    const tenant = targets.find((t) => t.id === TENANT_TARGET);
    const head = tenant && tenant.status !== 'failed' ? await this.runs.directoryHead(runId) : null;
    if (!tenant || !head) return { scopes: [] };
    const keptOpen = run.collection?.checksKeptOpen ?? [];
    const environmentsOk = targets.filter((t) => t.kind === 'environment').every((t) => t.status === 'succeeded' || t.status === 'skipped');
    const summaries = environmentsOk ? await this.runs.summaries(runId) : null;
    const checkedOn = deltaState && head.inputsKey && summaries ? tenantInputsKey(head.inputsKey, summaries) : undefined;
    const unchanged = run.collection?.mode === 'incremental' && checkedOn !== undefined && checkedOn === (await deltaState!.tenantCheckedOn());
    const checkIds = new Set<string>([TARGET_FAILED_CHECK]);
    const findings: Finding[] = [];
    const directory = unchanged ? null : await this.runs.directory(runId);
    if (directory) {
      // settings.auditTime (a fixture's clock, the CLI's --now) is "now" for ages (L2).
      const evaluated = runTenantChecks(directory, summaries, keptOpen, this.deps.settings, this.deps.settings.auditTime ? new Date(this.deps.settings.auditTime) : this.deps.now());
      for (const id of evaluated.checkIds) checkIds.add(id);
      findings.push(...evaluated.findings);
    }
    tenant.status = 'succeeded';
    // SPEC §9: the directory's delta state staged at the start of the run is now the one in force.
    if (deltaState && run.collection && run.collection.reason !== 'not-supported' && run.collection.stateRenewed !== false && (await this.runs.directoryStateWritten(runId))) await deltaState.commit(TENANT_TARGET, runId);
    await this.deps.store.setTargetStatus(runId, tenant);
    return { scopes: [{ targetId: TENANT_TARGET, checkIds, findings }], ...(directory && checkedOn ? { checkedOn } : {}) };
  }

  /** Targets still pending are not audited: failed. A failed target keeps its earlier findings open: only the failure itself is evaluated. */
  private async failedTargetScopes(runId: string, targets: RunTarget[]): Promise<EvaluatedScope[]> {
    const scopes: EvaluatedScope[] = [];
    for (const target of targets) {
      if (target.status === 'pending' && target.id !== TENANT_TARGET) {
        target.status = 'failed';
        target.error = target.error ?? 'not audited: the directory snapshot was unavailable';
        target.failure = target.failure ?? NOT_AUDITED;
        await this.deps.store.setTargetStatus(runId, target);
      }
      if (target.status !== 'failed') continue;
      scopes.push({ targetId: target.id, checkIds: new Set([TARGET_FAILED_CHECK]), findings: [targetFailedFinding(target)] });
    }
    return scopes;
  }

  /** Every target's findings after the run: open ones, and those this run resolved. */
  private async findingsAfter(runId: string, targets: readonly RunTarget[]): Promise<{ open: StoredFinding[]; resolved: StoredFinding[] }> {
    // In-process, the findings of the targets recorded here are already known; the rest (skipped targets) are read.
    const unknown = targets.filter((t) => !this.runs.recordedFindings(runId, t.id)).map((t) => t.id);
    const read = unknown.length > 0 ? await this.deps.store.listFindingsOfTargets(unknown) : [];
    const all = targets.flatMap((t) => this.runs.recordedFindings(runId, t.id) ?? read.filter((f) => f.targetId === t.id));
    return {
      open: all.filter((f) => f.status === 'open'),
      resolved: all.filter((f) => f.status === 'resolved' && f.lastRunId === runId),
    };
  }

  /** Decides the alerts, queues the run's document in the outbox, moves the alert keys, and delivers what is pending. */
  private async alert(runId: string, runStatus: RunStatus, open: StoredFinding[], resolved: StoredFinding[], now: Date) {
    const { store, settings } = this.deps;
    const suppressions = await store.listSuppressions({ activeAt: now });
    const suppressed = (f: StoredFinding) => isSuppressed(f, suppressions, now);
    let alertDocument: unknown | null = null;
    const decision = decideAlerts(open, settings.alerts.minimumSeverity, suppressed);
    if (decision.alert.length > 0) {
      alertDocument = buildAlertDocument({
        runId,
        tenantId: settings.tenantId,
        runStatus,
        now,
        alerted: decision.alert,
        open: open.filter((f) => !suppressed(f)),
        suppressedCount: open.filter(suppressed).length,
        resolvedCount: resolved.length,
        publicBaseUrl: settings.publicBaseUrl,
      });
      // The outbox entry first, then the findings' alert keys: a crash between the two re-sends
      // nothing (the outbox is keyed by run) and loses nothing.
      await store.enqueueAlert(runId, alertDocument);
    }
    const moved = [...decision.alert, ...decision.silentlyAcknowledged];
    await store.saveAlertStates(moved);
    if (this.deps.alerts) await deliverPendingAlerts(store, this.deps.alerts);
    return { alertDocument, suppressed, alerted: new Map(moved.map((f) => [findingKey(f), f])) };
  }
}
