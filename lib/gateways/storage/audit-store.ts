import type { AuditRun, FindingState, RunTarget, Severity, StoredFinding, Suppression } from '../../domain/finding.js';

/**
 * The audit's memory (SPEC §2), the port the audit uses: findings with their life cycle, runs and
 * their per-target status, each run's findings for reports, suppressions, and the alert outbox.
 * Implemented on Azure Table Storage (`table-audit-store.ts`, `alert-outbox.ts`; tables and keys
 * in `dto.ts`). Every failure is a `ServiceError` with service `storage` and the method's name as
 * operation.
 */
export interface AuditStore extends FindingStore, RunStore, SuppressionStore, AlertOutbox {}

export interface FindingStore {
  listFindings(filter?: FindingFilter): Promise<StoredFinding[]>;
  listFindingsOfTargets(targetIds: readonly string[]): Promise<StoredFinding[]>;
  getFinding(checkId: string, targetId: string, subjectId: string): Promise<StoredFinding | null>;
  /** Writes exactly the findings given (upsert, replace), in transactions of ≤ 100 per partition; returns how many. */
  saveFindings(changed: readonly StoredFinding[]): Promise<number>;
  /** Sets only the alert key of existing findings (a merge, in transactions of ≤ 100 per partition); returns how many. */
  saveAlertStates(findings: readonly AlertState[]): Promise<number>;
}

export interface RunStore {
  /** Fails with status 409 when the run id exists. */
  createRun(run: AuditRun): Promise<void>;
  getRun(runId: string): Promise<AuditRun | null>;
  /** The run with the latest `startedAt`. */
  getLatestRun(): Promise<AuditRun | null>;
  /** The `limit` runs with the latest `startedAt`, newest first (the report's trend). */
  listRecentRuns(limit: number): Promise<AuditRun[]>;
  /** Replaces the run; fails with status 404 when it does not exist. `startedAt` cannot change. */
  updateRun(run: AuditRun): Promise<void>;
  setTargetStatus(runId: string, target: RunTarget): Promise<void>;
  /** The status of several targets at once (one transaction per 100). */
  setTargetStatuses(runId: string, targets: readonly RunTarget[]): Promise<void>;
  listTargets(runId: string): Promise<RunTarget[]>;

  // The run's history: what changed in it, per finding.
  saveRunFindings(runId: string, entries: readonly RunFindingEntry[]): Promise<number>;
  listRunFindings(runId: string): Promise<RunFindingEntry[]>;
}

export interface SuppressionStore {
  suppress(s: Suppression): Promise<void>;
  /** True when a suppression was removed, false when there was none. */
  unsuppress(checkId: string, targetId: string, subjectId: string): Promise<boolean>;
  /** All suppressions, or only those still in force at `activeAt`. */
  listSuppressions(options?: { activeAt?: Date; targetId?: string }): Promise<Suppression[]>;
}

/** Alert documents until they are delivered: one per run, never sent twice. */
export interface AlertOutbox {
  /**
   * Records the alert of a run until it is delivered. Returns false (and changes nothing) when
   * the run's alert was already delivered: it is never sent twice. Replaces a pending payload.
   */
  enqueueAlert(runId: string, payload: unknown): Promise<boolean>;
  /** Alerts not delivered yet, oldest first, with their payloads. */
  listPendingAlerts(): Promise<PendingAlert[]>;
  /** Fails with status 404 when the run has no alert. */
  markAlertDelivered(runId: string): Promise<void>;
  /**
   * Claims a pending alert for one delivery attempt (an optimistic lease on its head entity), so two
   * finalizers running at once cannot both send it. False when delivered, or claimed by another
   * whose lease has not run out.
   */
  claimAlert(runId: string, leaseMs: number): Promise<boolean>;
  /** Counts a failed delivery (it stays pending and is retried next run). */
  markAlertAttempt(runId: string, error: unknown): Promise<void>;
}

export interface FindingFilter {
  targetId?: string;
  checkId?: string;
  subjectId?: string;
  severity?: Severity;
  status?: StoredFinding['status'];
  state?: FindingState;
}

export type AlertState = Pick<StoredFinding, 'checkId' | 'targetId' | 'subjectId'> & { alertedState: string };

export interface RunFindingEntry {
  checkId: string;
  targetId: string;
  subjectId: string;
  severity: Severity;
  state: FindingState;
}

export interface PendingAlert {
  runId: string;
  payload: unknown;
  enqueuedAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  lastError: string | null;
}

export interface AuditStoreOptions {
  /** Clock for the outbox's timestamps and the targets' `updatedAt`; injected so tests move time. */
  now?: () => Date;
}
