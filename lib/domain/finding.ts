export type Severity = 'critical' | 'warning' | 'info';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** What a check emits: the identity (`checkId`, `targetId`, `subjectId`) and what to tell an admin. */
export interface Finding {
  checkId: string;
  /** `tenant`, an environment id or a Salesforce org id. */
  targetId: string;
  subjectId: string;
  severity: Severity;
  title: string;
  /** Names, UPNs, SKUs, counts: enough to act without another lookup. */
  details: Record<string, unknown>;
  /** What to do, citing the seed fact (`E2`, `T3`, `S1`…). */
  remediation: string;
}

/** The one spelling of a finding's identity: `checkId|targetId|subjectId`. */
export const findingKey = (f: Pick<Finding, 'checkId' | 'targetId' | 'subjectId'>) => `${f.checkId}|${f.targetId}|${f.subjectId}`;

/** How a finding stands after a run (SPEC §2 life cycle, SPEC §6 `state`). */
export type FindingState = 'new' | 'open' | 'reopened' | 'resolved';

/** A finding as the store keeps it between runs. */
export interface StoredFinding extends Finding {
  status: 'open' | 'resolved';
  /** The state the last run that touched it gave it. */
  state: FindingState;
  firstSeenAt: string;
  lastSeenAt: string;
  /** When it last opened or reopened, and in which run. */
  openedAt: string;
  openedRunId: string;
  resolvedAt: string | null;
  /** How many times it came back after being resolved. */
  reopenCount: number;
  /** Severity before the last change, when it changed while open. */
  previousSeverity: Severity | null;
  lastRunId: string;
  /** `${openedAt}|${severity}` of the last state an alert went out for: never twice for one state. */
  alertedState: string | null;
}

export interface Suppression {
  checkId: string;
  targetId: string;
  /** A subject id, or `*` for the whole check on the target. */
  subjectId: string;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
}

export type TargetKind = 'tenant' | 'environment' | 'salesforce-org';
export type TargetStatus = 'pending' | 'succeeded' | 'failed' | 'skipped';

/**
 * Why a target could not be audited, as data: the service that failed, its HTTP status and its own
 * error code (from the `ServiceError`), or `service: null` with Steward's own code for a failure
 * that is not a service's (`directory-unavailable`, `unexpected`). The same failure gives the
 * same value from one run to the next, so the `audit.target-failed` finding built from it stays
 * unchanged while the target keeps failing the same way.
 */
export interface TargetFailure {
  service: string | null;
  status: number | null;
  code: string | null;
}

/**
 * SPEC §9: whether a run (or one of its targets) read everything or only the changes since the last
 * successful run, and why (`no-token`, `token-refused`, `requested`, `scheduled`, `not-supported`,
 * `changes-since-last-run`).
 */
export interface CollectionMode {
  mode: 'full' | 'incremental';
  reason: string;
  /** Incremental runs: the checks whose data delta does not track; their findings stay as the last full run left them. */
  checksKeptOpen?: string[];
  /**
   * Incremental runs: false when the services reported no change, so the state of the last run
   * that had changes stays in force with its links (they still answer every change since then).
   */
  stateRenewed?: boolean;
}

export interface RunTarget {
  id: string;
  kind: TargetKind;
  status: TargetStatus;
  name?: string;
  /** What went wrong, for people (the first line of the error). */
  error?: string;
  /** What went wrong, as data (failed targets). */
  failure?: TargetFailure;
  attempts?: number;
  collection?: CollectionMode;
  /** The upstream HTTP requests (attempts) its audit made, for the run's metrics. */
  upstreamRequests?: number;
  /** When the target's status was last written (storage sets it): a run's trace of progress. */
  updatedAt?: string;
}

/** Why a run was closed as failed without finishing: the step it stopped at, and since when (D3 of issue 12). */
export interface RunStall {
  step: 'start' | 'targets' | 'finalize';
  /** The newest trace the run left (its start, or a target's status). */
  lastProgressAt: string;
  /** The targets still pending when it stopped (names). */
  waitingOn: string[];
  closedAt: string;
  /** The run whose start closed this one. */
  supersededBy?: string;
}

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed';

export interface AuditRun {
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  trigger: 'schedule' | 'http' | 'cli';
  targets: RunTarget[];
  collection?: CollectionMode;
  summary?: { critical: number; warning: number; info: number; opened: number; resolved: number };
  /** Set when the run stopped making progress and was closed as failed. */
  stalled?: RunStall;
  /** Earlier runs this one found stalled and closed when it started. */
  supersedes?: string[];
}
