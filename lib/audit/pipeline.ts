import { randomBytes } from 'node:crypto';
import { findingKey, type AuditRun, type Finding, type RunStatus, type RunTarget, type StoredFinding, type TargetKind } from '../domain/finding.js';
import type { Environment } from '../domain/model.js';
import type { AlertSender } from '../gateways/alerts/port.js';
import type { ClaimStore } from '../gateways/storage/claims.js';
import { isSuppressed, type AuditStore, type RunFindingEntry } from '../gateways/storage/audit-store.js';
import type { AppServices } from '../services.js';
import { buildAlertDocument } from './alert-document.js';
import { runEnvironmentChecks, summarizeEnvironmentUsers } from './checks/environment-checks.js';
import { runSalesforceChecks } from './checks/salesforce-checks.js';
import { runCrossEnvironmentChecks, runDirectoryChecks } from './checks/tenant-checks.js';
import { collectDirectory, collectEnvironment, discoverEnvironments } from './collect.js';
import { applyRun, decideAlerts, type EvaluatedScope } from './lifecycle.js';
import { directoryFromJson, directoryToJson, type DirectorySnapshot, type DirectorySnapshotJson, type EnvironmentUserSummary } from './snapshot.js';

/**
 * The audit in three steps, the same whether Azure Functions fans it out over a queue or the CLI
 * runs it in-process: start (discover targets, read the directory once, store it as a claim),
 * audit one target (collect, check, apply the life cycle to its findings), finalize (tenant-wide
 * checks, failed targets, alerts, close the run). Each step is idempotent for a given run.
 */

export interface AuditTargetMessage {
  runId: string;
  targetId: string;
  kind: Exclude<TargetKind, 'tenant'>;
}

export const TENANT_TARGET = 'tenant';
export const TARGET_FAILED_CHECK = 'audit.target-failed';
const DIRECTORY_CHECKS = new Set(['entra.disabled-user-licensed']);
const CROSS_ENVIRONMENT_CHECKS = new Set(['dataverse.disabled-user-licensed']);

export interface AuditRunReport {
  run: AuditRun;
  /** Open findings after the run, with their state in this run. */
  findings: (StoredFinding & { runState: 'new' | 'open' | 'reopened'; suppressed: boolean })[];
  resolved: StoredFinding[];
  alertDocument: unknown | null;
}

export interface PipelineDependencies {
  services: AppServices;
  store: AuditStore;
  claims: ClaimStore;
  alerts: AlertSender | null;
}

function newRunId(now: Date): string {
  // Sortable and key-safe: time first, then randomness.
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(4).toString('hex')}`;
}

/** `dataverse listTeams for <env> failed (HTTP 503 …)` → `dataverse HTTP 503`: the part that does not vary by call. */
function stableCause(error: string | undefined): string | null {
  if (!error) return null;
  const match = /^(\w+) .*?failed(?: \((HTTP \d+)[^)]*\))?/.exec(error);
  return match ? [match[1], match[2]].filter(Boolean).join(' ') : error.slice(0, 200);
}

/** Waits for every write to settle (none may still be under way when a retry starts), then throws the first failure. */
async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  for (const outcome of await Promise.allSettled(writes)) if (outcome.status === 'rejected') throw outcome.reason;
}

function describe(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 500);
}

export interface StartRunOptions {
  /**
   * Every step of the run happens in this process and this pipeline (the CLI, `steward serve`,
   * tests): the data the steps share stays in memory and no claim-check is written. Without it
   * (Azure Functions) each step may run in another worker, so the directory, the environment list
   * and each environment's summary go to claim-check blobs, and finalize reads findings back.
   */
  inProcess?: boolean;
}

/** What an in-process run's steps hand each other in memory instead of through storage. */
interface InProcessRun {
  summaries: Map<string, EnvironmentUserSummary>;
  /** Per target recorded here: its stored findings after this run's life cycle. */
  findings: Map<string, StoredFinding[]>;
}

export class AuditPipeline {
  // Claim-check reads are cached per run in this process: on Azure each worker reads a claim once
  // per run, however many targets it audits.
  private directoryCache = new Map<string, DirectorySnapshot>();
  private environmentsCache = new Map<string, Promise<Environment[]>>();
  private inProcessRuns = new Map<string, InProcessRun>();

  constructor(private readonly deps: PipelineDependencies) {}

  private get now(): Date {
    return this.deps.services.now();
  }

  private async directoryOf(runId: string): Promise<DirectorySnapshot | null> {
    const cached = this.directoryCache.get(runId);
    if (cached) return cached;
    const json = await this.deps.claims.get<DirectorySnapshotJson>(runId, 'directory');
    if (!json) return null;
    const snapshot = directoryFromJson(json);
    this.directoryCache.set(runId, snapshot);
    return snapshot;
  }

  private environmentsOf(runId: string): Promise<Environment[]> {
    let environments = this.environmentsCache.get(runId);
    if (!environments) {
      environments = this.deps.claims.get<Environment[]>(runId, 'environments').then((list) => list ?? []);
      environments.catch(() => this.environmentsCache.delete(runId));
      this.environmentsCache.set(runId, environments);
    }
    return environments;
  }

  /** Step 1: the run record, its targets, the directory snapshot; returns one message per target to audit. */
  async startRun(trigger: AuditRun['trigger'], options: StartRunOptions = {}): Promise<{ run: AuditRun; messages: AuditTargetMessage[] }> {
    const { services, store, claims } = this.deps;
    const startedAt = this.now;
    const runId = newRunId(startedAt);
    const run: AuditRun = { runId, status: 'running', startedAt: startedAt.toISOString(), finishedAt: null, trigger, targets: [] };
    await store.createRun(run);

    const targets: RunTarget[] = [];
    const messages: AuditTargetMessage[] = [];
    let environments: Environment[] = [];
    let tenantError: string | null = null;
    try {
      environments = await discoverEnvironments(services);
      const directory = await collectDirectory(services, environments);
      this.directoryCache.set(runId, directory);
      this.environmentsCache.set(runId, Promise.resolve(environments));
      if (options.inProcess) this.inProcessRuns.set(runId, { summaries: new Map(), findings: new Map() });
      else await Promise.all([claims.put(runId, 'directory', directoryToJson(directory)), claims.put(runId, 'environments', environments)]);
    } catch (error) {
      tenantError = describe(error);
    }
    targets.push({ id: TENANT_TARGET, kind: 'tenant', status: tenantError ? 'failed' : 'pending', name: 'Entra ID directory', error: tenantError ?? undefined });
    for (const environment of environments) {
      if (!environment.hasDataverse) {
        targets.push({ id: environment.id, kind: 'environment', status: 'skipped', name: environment.displayName, error: 'no Dataverse database (D3)' });
      } else {
        targets.push({ id: environment.id, kind: 'environment', status: 'pending', name: environment.displayName });
        messages.push({ runId, targetId: environment.id, kind: 'environment' });
      }
    }
    for (const orgId of services.salesforce.orgIds()) {
      targets.push({ id: orgId, kind: 'salesforce-org', status: 'pending', name: services.salesforce.orgName(orgId) ?? orgId });
      messages.push({ runId, targetId: orgId, kind: 'salesforce-org' });
    }
    await store.setTargetStatuses(runId, targets);
    run.targets = targets;
    await store.updateRun(run);
    return { run, messages };
  }

  /**
   * Step 2: one environment or org. Throws when collection failed and another attempt may follow;
   * on the final attempt records the target as failed instead.
   */
  async auditTarget(message: AuditTargetMessage, options: { finalAttempt: boolean; attempt?: number }): Promise<RunTarget> {
    const { services, store, claims } = this.deps;
    const { runId, targetId } = message;
    const base: RunTarget = { id: targetId, kind: message.kind, status: 'pending', attempts: options.attempt };
    try {
      // The target's stored findings are read while its data is collected: nothing else writes
      // them meanwhile (one worker audits a target at a time; finalize runs after every target).
      const previous = store.listFindingsOfTargets([targetId]);
      previous.catch(() => undefined); // awaited in record(); a failed collection abandons it
      let findings: Finding[];
      let summaryStored: Promise<void> = Promise.resolve();
      if (message.kind === 'environment') {
        const environments = await this.environmentsOf(runId);
        const environment = environments.find((e) => e.id === targetId);
        if (!environment) throw new Error(`environment ${targetId} is not part of run ${runId}`);
        base.name = environment.displayName;
        const directory = await this.directoryOf(runId);
        if (!directory) throw new Error('the directory snapshot of the run is missing (the tenant target failed)');
        const data = await collectEnvironment(services, environment);
        findings = runEnvironmentChecks(directory, data, services.settings);
        const summary = summarizeEnvironmentUsers(targetId, data.systemUsers, directory);
        const inProcess = this.inProcessRuns.get(runId);
        if (inProcess) inProcess.summaries.set(targetId, summary);
        // Stored alongside the findings (awaited with them below, before the target is marked done).
        else summaryStored = claims.put(runId, `summaries/${targetId}`, summary);
      } else {
        const name = services.salesforce.orgName(targetId) ?? targetId;
        base.name = name;
        const snapshot = await services.salesforce.getOrgSnapshot(targetId);
        findings = runSalesforceChecks(name, snapshot, services.settings);
      }
      await settleAll([summaryStored, this.record(runId, [{ targetId, checkIds: 'all', findings }], previous)]);
      const done: RunTarget = { ...base, status: 'succeeded' };
      await store.setTargetStatus(runId, done);
      return done;
    } catch (error) {
      if (!options.finalAttempt) throw error;
      const failed: RunTarget = { ...base, status: 'failed', error: describe(error) };
      await store.setTargetStatus(runId, failed);
      return failed;
    }
  }

  /** Applies the life cycle to evaluated scopes and writes what changed (findings and the run's history). */
  private async record(runId: string, scopes: EvaluatedScope[], previousFindings?: Promise<StoredFinding[]>): Promise<void> {
    const { store } = this.deps;
    const previous = await (previousFindings ?? store.listFindingsOfTargets(scopes.map((s) => s.targetId)));
    const outcome = applyRun(previous, scopes, runId, this.now);
    // History of the run: what changed in it (proportional to change, like the findings).
    const entries: RunFindingEntry[] = outcome.changed.map((f) => ({
      checkId: f.checkId,
      targetId: f.targetId,
      subjectId: f.subjectId,
      severity: f.severity,
      state: f.status === 'resolved' ? 'resolved' : f.openedRunId === runId ? (f.reopenCount > 0 ? 'reopened' : 'new') : 'open',
    }));
    // Independent writes (a retry writes both again: the history keeps the union, findings are upserts).
    await settleAll([store.saveFindings(outcome.changed), store.saveRunFindings(runId, entries)]);
    const inProcess = this.inProcessRuns.get(runId);
    if (inProcess) {
      // What the store now holds for these targets: the previous findings with the changed ones written over them.
      const after = new Map<string, Map<string, StoredFinding>>(scopes.map((scope) => [scope.targetId, new Map()]));
      for (const f of [...previous, ...outcome.changed]) after.get(f.targetId)?.set(findingKey(f), f);
      for (const [targetId, findings] of after) inProcess.findings.set(targetId, [...findings.values()]);
    }
  }

  /** True when no target of the run is still pending (the last worker then finalizes). */
  async allTargetsDone(runId: string): Promise<boolean> {
    const targets = await this.deps.store.listTargets(runId);
    return targets.every((t) => t.status !== 'pending' || t.id === TENANT_TARGET);
  }

  /** Step 3: tenant-wide checks, failed targets, alerts, and the run's closing status. */
  async finalize(runId: string): Promise<AuditRunReport> {
    const { services, store, claims } = this.deps;
    const run = await store.getRun(runId);
    if (!run) throw new Error(`no audit run ${runId}`);
    const inProcess = this.inProcessRuns.get(runId);
    const targets = await store.listTargets(runId);
    const tenant = targets.find((t) => t.id === TENANT_TARGET);
    const scopes: EvaluatedScope[] = [];

    const directory = tenant && tenant.status !== 'failed' ? await this.directoryOf(runId) : null;
    if (directory && tenant) {
      const environmentsOk = targets.filter((t) => t.kind === 'environment').every((t) => t.status === 'succeeded' || t.status === 'skipped');
      const findings = runDirectoryChecks(directory);
      const checkIds = new Set([...DIRECTORY_CHECKS, TARGET_FAILED_CHECK]);
      if (environmentsOk) {
        // A cross-environment check never resolves anything in a run where an environment failed.
        const summaries = inProcess ? [...inProcess.summaries.values()] : await claims.list<EnvironmentUserSummary>(runId, 'summaries/');
        findings.push(...runCrossEnvironmentChecks(directory, summaries));
        for (const id of CROSS_ENVIRONMENT_CHECKS) checkIds.add(id);
      }
      scopes.push({ targetId: TENANT_TARGET, checkIds, findings });
      tenant.status = 'succeeded';
      await store.setTargetStatus(runId, tenant);
    }
    for (const target of targets) {
      if (target.status === 'pending' && target.id !== TENANT_TARGET) {
        target.status = 'failed';
        target.error = target.error ?? 'not audited: the directory snapshot was unavailable';
        await store.setTargetStatus(runId, target);
      }
      if (target.status !== 'failed') continue;
      // A failed target keeps its earlier findings open: only the failure itself is evaluated.
      scopes.push({
        targetId: target.id,
        checkIds: new Set([TARGET_FAILED_CHECK]),
        findings: [
          {
            checkId: TARGET_FAILED_CHECK,
            targetId: target.id,
            subjectId: 'collection',
            severity: 'critical',
            title: `${target.name ?? target.id}: the audit could not collect its data`,
            // No run id here: a target that keeps failing the same way changes nothing (and writes nothing); `lastRunId` says when.
            // The run keeps the full error (GET /api/audits/{runId}); the finding keeps what stays the
            // same from one failing run to the next, so a target that keeps failing writes nothing.
            details: { target: target.name ?? target.id, kind: target.kind, cause: stableCause(target.error) },
            remediation:
              'Check that the service is reachable and that Steward still has its permissions there; earlier findings of this target stay open until a successful run.',
          },
        ],
      });
    }
    await this.record(runId, scopes);

    const finalTargets = await store.listTargets(runId);
    const failed = finalTargets.filter((t) => t.status === 'failed').length;
    const audited = finalTargets.filter((t) => t.status !== 'skipped').length;
    const status: RunStatus = failed === 0 ? 'succeeded' : failed >= audited ? 'failed' : 'partial';

    // In-process, the findings of the targets recorded here are already known; the rest (skipped targets) are read.
    const unknown = finalTargets.filter((t) => !inProcess?.findings.has(t.id)).map((t) => t.id);
    const read = unknown.length > 0 ? await store.listFindingsOfTargets(unknown) : [];
    const all = finalTargets.flatMap((t) => inProcess?.findings.get(t.id) ?? read.filter((f) => f.targetId === t.id));
    const open = all.filter((f) => f.status === 'open');
    const resolved = all.filter((f) => f.status === 'resolved' && f.lastRunId === runId);
    const now = this.now;
    const suppressions = await store.listSuppressions({ activeAt: now });
    const suppressed = (f: StoredFinding) => isSuppressed(f, suppressions, now);

    let alertDocument: unknown | null = null;
    const decision = decideAlerts(open, services.settings.alerts.minimumSeverity, suppressed);
    if (decision.alert.length > 0) {
      alertDocument = buildAlertDocument({
        runId,
        tenantId: services.settings.tenantId,
        runStatus: status,
        now,
        alerted: decision.alert,
        open: open.filter((f) => !suppressed(f)),
        suppressedCount: open.filter(suppressed).length,
        resolvedCount: resolved.length,
        publicBaseUrl: services.settings.publicBaseUrl,
      });
      // The outbox entry first, then the findings' alert keys: a crash between the two re-sends
      // nothing (the outbox is keyed by run) and loses nothing.
      await store.enqueueAlert(runId, alertDocument);
    }
    await store.saveAlertStates([...decision.alert, ...decision.silentlyAcknowledged]);
    await this.deliverPendingAlerts();

    const byId = new Map([...decision.alert, ...decision.silentlyAcknowledged].map((f) => [`${f.checkId}|${f.targetId}|${f.subjectId}`, f]));
    const finished: AuditRun = {
      ...run,
      status,
      finishedAt: now.toISOString(),
      targets: finalTargets,
      summary: {
        critical: open.filter((f) => f.severity === 'critical').length,
        warning: open.filter((f) => f.severity === 'warning').length,
        info: open.filter((f) => f.severity === 'info').length,
        opened: open.filter((f) => f.openedRunId === runId).length,
        resolved: resolved.length,
      },
    };
    await store.updateRun(finished);
    this.directoryCache.delete(runId);
    this.environmentsCache.delete(runId);
    this.inProcessRuns.delete(runId);
    return {
      run: finished,
      findings: open.map((f) => {
        const latest = byId.get(`${f.checkId}|${f.targetId}|${f.subjectId}`) ?? f;
        return {
          ...latest,
          runState: f.openedRunId === runId ? (f.reopenCount > 0 ? 'reopened' : 'new') : 'open',
          suppressed: suppressed(f),
        } as const;
      }),
      resolved,
      alertDocument,
    };
  }

  /** Sends every alert document not yet delivered (this run's and earlier failed ones). */
  async deliverPendingAlerts(): Promise<{ delivered: number; failed: number }> {
    const { store, alerts } = this.deps;
    if (!alerts) return { delivered: 0, failed: 0 };
    let delivered = 0;
    let failed = 0;
    for (const pending of await store.listPendingAlerts()) {
      // Two finalizers at once (two workers finishing together, a timer run and an HTTP run) must
      // not both send it: only the one that claims it does.
      if (!(await store.claimAlert(pending.runId, 5 * 60_000))) continue;
      try {
        await alerts.send(pending.payload);
        await store.markAlertDelivered(pending.runId);
        delivered++;
      } catch (error) {
        await store.markAlertAttempt(pending.runId, describe(error));
        failed++;
      }
    }
    return { delivered, failed };
  }
}
