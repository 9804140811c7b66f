import type { Severity, TargetKind } from './finding.js';

/**
 * The audit's checks (SPEC §2), as data: one entry per check. The pipeline takes its check groups
 * from here (which step evaluates what, and may therefore resolve it), the checks their fixed
 * remediation texts; the report, docs pages and OpenAPI enums can read the same list. Adding a
 * check is adding an entry here and its rule in `lib/audit/checks/`.
 */

/**
 * Which step of a run evaluates a check:
 * - `environment`, `salesforce-org`: when that target is audited, from its own data;
 * - `directory`: at finalize, from the directory alone (the tenant target);
 * - `cross-environment`: at finalize, from every environment's summary (never in a run where an
 *   environment failed, so it never resolves anything then);
 * - `collection`: at finalize, for a target whose data could not be collected.
 */
export type CheckScope = 'environment' | 'salesforce-org' | 'directory' | 'cross-environment' | 'collection';

export interface CheckDefinition {
  id: string;
  /** Whose finding it is: the tenant, an environment, a Salesforce org, or whichever target failed. */
  target: TargetKind | 'any';
  scope: CheckScope;
  /** What the `subjectId` of its findings is. */
  subject: string;
  /** The severity rule, in words. */
  severityRule: string;
  /** Every severity its findings can have. */
  severities: readonly Severity[];
  /** The facts of SPEC §1 it rests on (its remediation cites them). */
  factIds: readonly string[];
  /** The title's pattern; `{name}` parts vary by finding. */
  title: string;
  /** The remediation every finding of the check carries; null when it is built from what failed. */
  remediation: string | null;
}

export const CHECK_CATALOGUE = [
  {
    id: 'entra.disabled-user-licensed',
    target: 'tenant',
    scope: 'directory',
    subject: 'Entra user id',
    severityRule: 'warning: accountEnabled is false and the account holds a license',
    severities: ['warning'],
    factIds: ['E2', 'E7'],
    title: '{userPrincipalName} is disabled in Entra ID but still holds {count} license(s)',
    remediation:
      'Blocking sign-in does not free licenses: remove them from the disabled account to reuse them (E2); deleting the account frees them at once, but remove only the license if the person still needs other Microsoft 365 apps (E7).',
  },
  {
    id: 'dataverse.disabled-user-licensed',
    target: 'tenant',
    scope: 'cross-environment',
    subject: 'Entra user id',
    severityRule: 'warning: enabled in Entra ID, holds an environment license, a regular systemuser in at least one audited environment and disabled in all of them',
    severities: ['warning'],
    factIds: ['E2'],
    title: '{userPrincipalName} is disabled in every environment but still holds an environment license',
    remediation:
      "Removing a user from the environment's security group does not free the license (E2): remove the license from the account to reuse it, or re-enable the user if access is still needed.",
  },
  {
    id: 'dataverse.non-interactive-cap',
    target: 'environment',
    scope: 'environment',
    subject: '`cap`',
    severityRule: 'n = enabled non-interactive users (accessmode 4, not application users): critical when n ≥ 7; warning when warnAt (default 6) ≤ n < 7',
    severities: ['critical', 'warning'],
    factIds: ['T3', 'T2'],
    title: '{environment}: {n} of 7 non-interactive users in use (warning) · {environment}: {n} enabled non-interactive users, the cap of 7 is reached (critical)',
    remediation:
      'An environment allows at most 7 non-interactive users (T3). Disable the ones no longer used, or move integrations to application users, which have no limit (T2).',
  },
  {
    id: 'dataverse.non-interactive-licensed',
    target: 'environment',
    scope: 'environment',
    subject: 'Entra user id',
    severityRule: "warning: a non-interactive (not application) user whose Entra account holds a license",
    severities: ['warning'],
    factIds: ['T3'],
    title: '{environment}: non-interactive user {userPrincipalName} still holds a license',
    remediation: 'Non-interactive users need no license: remove it from the Entra account to reuse it (T3).',
  },
  {
    id: 'dataverse.administrative-licensed',
    target: 'environment',
    scope: 'environment',
    subject: 'Entra user id',
    severityRule: 'warning: an administrative (accessmode 1) user who holds an environment license',
    severities: ['warning'],
    factIds: ['A2'],
    title: '{environment}: administrative user {userPrincipalName} holds an environment license',
    remediation: 'Administrative access mode needs no license after setup: remove the license once the access mode is set (A2).',
  },
  {
    id: 'dataverse.application-user-disabled',
    target: 'environment',
    scope: 'environment',
    subject: 'applicationid',
    severityRule: 'warning: an application user with isdisabled true',
    severities: ['warning'],
    factIds: ['T2'],
    title: '{environment}: application user {name} is disabled',
    remediation:
      'A disabled application user breaks every integration that uses it (T2). Re-enable it if an integration still needs it, or delete it together with its app registration.',
  },
  {
    id: 'dataverse.nested-security-group',
    target: 'environment',
    scope: 'environment',
    subject: 'nested group id',
    severityRule: "warning: the environment's security group has a group as a direct member",
    severities: ['warning'],
    factIds: ['E4'],
    title: '{environment}: group "{group}" is nested in the security group "{securityGroup}"',
    remediation: "Nested groups in an environment's security group are not supported and are ignored (E4): add their members directly to the security group.",
  },
  {
    id: 'dataverse.enabled-user-ineligible',
    target: 'environment',
    scope: 'environment',
    subject: "the row's azureactivedirectoryobjectid",
    severityRule: 'warning: an enabled regular systemuser that fails D4 (Entra account missing or disabled; no environment license and no exception; not a direct member or owner of the security group and not an administrator)',
    severities: ['warning'],
    factIds: ['D4.1', 'D4.2', 'D4.3'],
    title: '{environment}: {userPrincipalName} is enabled but no longer meets the requirements ({factIds})',
    // The remediation of each D4 condition the user fails (lib/domain/eligibility.ts).
    remediation: null,
  },
  {
    id: 'dataverse.eligible-user-missing',
    target: 'environment',
    scope: 'environment',
    subject: 'Entra user id',
    severityRule: 'info: in a Production, Sandbox or Default environment with a security group, a direct member who is enabled and holds an environment license or is an administrator has no systemuser row',
    severities: ['info'],
    factIds: ['D1', 'D5'],
    title: '{environment}: {userPrincipalName} is entitled but has no systemuser yet',
    remediation: 'The background sync adds entitled users periodically (D1); to add the user now, force a sync (POST …/users/{user}/sync, the admin center, or the user signs in).',
  },
  {
    id: 'dataverse.enabled-user-without-role',
    target: 'environment',
    scope: 'environment',
    subject: 'Entra user id',
    severityRule: 'info: an enabled regular read-write systemuser with no security role, directly or through a team',
    severities: ['info'],
    factIds: ['U3'],
    title: '{environment}: {userPrincipalName} has no security role',
    remediation: 'A user without a security role, direct or through a team, cannot use the apps (U3): assign a role or add the user to a team that has one.',
  },
  {
    id: 'dataverse.profile-drift',
    target: 'environment',
    scope: 'environment',
    subject: 'Entra user id',
    severityRule: 'info: a profile field synced from Entra ID differs for a regular systemuser (null, "" and absent are equal; trimmed)',
    severities: ['info'],
    factIds: ['P1', 'D1'],
    title: '{environment}: profile of {userPrincipalName} differs from Entra ID ({fields})',
    remediation: 'These fields are synced from Entra ID (P1): force a sync of the user (D1) to refresh them; edit them in Entra ID, not in Dataverse.',
  },
  {
    id: 'salesforce.integration-license-headroom',
    target: 'salesforce-org',
    scope: 'salesforce-org',
    subject: '`Salesforce Integration`',
    severityRule: 'critical when no Salesforce Integration license is left or the license is missing; warning when at most warnAt (default 1) are left',
    severities: ['critical', 'warning'],
    factIds: ['S2'],
    title: '{org}: {remaining} Salesforce Integration license(s) left of {total} · {org}: the org has no Salesforce Integration user license',
    remediation:
      'Copilot for Sales creates its integration user with a Salesforce Integration license (S2): check Setup › Company Information › User Licenses; free one by deactivating unused integration users or moving them to another license type, or buy more.',
  },
  {
    id: 'salesforce.integration-user-inactive',
    target: 'salesforce-org',
    scope: 'salesforce-org',
    subject: 'Salesforce User Id',
    severityRule: 'critical: the Copilot for Sales integration user (prefix match) is inactive',
    severities: ['critical'],
    factIds: ['S1'],
    title: '{org}: the Copilot for Sales integration user {username} is inactive',
    remediation:
      'The permission set cannot be assigned to an inactive integration user (S1): activate the user (POST /api/salesforce/{org}/integration-user/activate or Setup › Users); if that is impossible, contact Microsoft support.',
  },
  {
    id: 'salesforce.integration-profile-conflict',
    target: 'salesforce-org',
    scope: 'salesforce-org',
    subject: 'Salesforce Profile Id',
    severityRule: 'warning: a profile with an integration-profile name exists and no integration user uses it',
    severities: ['warning'],
    factIds: ['S5'],
    title: '{org}: profile "{profile}" exists but no integration user uses it',
    remediation:
      'Enabling the S2S flow will fail with "The profile name is already in use" (S5): if the profile was created before enabling S2S, rename it and retry; if it was not, contact Microsoft support.',
  },
  {
    id: 'salesforce.connected-app-missing',
    target: 'salesforce-org',
    scope: 'salesforce-org',
    subject: '`connected-app`',
    severityRule: 'critical: an integration user exists but no Copilot for Sales connected app or External Client App does',
    severities: ['critical'],
    factIds: ['S3'],
    title: '{org}: the Copilot for Sales integration user exists but its connected app is missing',
    remediation:
      'Without its connected app the S2S connection cannot authenticate (S3, connected app not found): retry the S2S enablement from Copilot for Sales; if it persists, collect the details and contact Microsoft support.',
  },
  {
    id: 'entra.inactive-licensed-user',
    target: 'tenant',
    scope: 'directory',
    subject: 'Entra user id',
    severityRule:
      'warning: enabled, holds a licence, and the later of the last interactive and non-interactive sign-ins is more than inactiveDays (default 90) before the audit time; a user who never signed in counts once the account is older than that',
    severities: ['warning'],
    factIds: ['L2', 'E2', 'E7'],
    title: '{userPrincipalName} has not signed in for {days} days but holds {count} licence(s) · {userPrincipalName} never signed in (account {days} days old) but holds {count} licence(s)',
    remediation:
      'Nobody has used this account for longer than the inactivity threshold (L2): confirm with its owner, then remove its licences to reuse them (E2), or block and delete the account if the person left (E7).',
  },
  {
    id: 'entra.sign-in-activity-unavailable',
    target: 'tenant',
    scope: 'directory',
    subject: '`signInActivity`',
    severityRule: 'info: Graph refused signInActivity (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant): the inactivity check could not run',
    severities: ['info'],
    factIds: ['L2'],
    title: 'Sign-in activity is not available: inactive licensed users could not be looked for',
    remediation:
      "signInActivity needs Microsoft Entra ID P1 (or P2) in the tenant and the AuditLog.Read.All application permission (L2): add the licence or grant the permission to Steward's app registration; the rest of the audit ran without it.",
  },
  {
    id: 'entra.license-assignment-error',
    target: 'tenant',
    scope: 'directory',
    subject: '`<Entra user id>:<skuPartNumber>`',
    severityRule: 'a licenseAssignmentStates entry in state Error: critical when the SKU is an environment licence (the user loses access, D4.2), else warning',
    severities: ['critical', 'warning'],
    factIds: ['L3', 'D4.2'],
    title: '{userPrincipalName}: licence {sku} is not applied ({error})',
    remediation:
      'A licence in error is not applied (L3), so it does not entitle to environments (D4.2). Resolve the error named in the details: CountViolation — free or buy units; MutuallyExclusiveViolation — remove the conflicting licence; DependencyViolation — keep the licence others depend on; ProhibitedInUsageLocationViolation — set an allowed usage location; UniquenessViolation — fix the duplicate proxy address; then reprocess the group licence assignment.',
  },
  {
    id: 'entra.license-headroom',
    target: 'tenant',
    scope: 'directory',
    subject: 'skuPartNumber',
    severityRule:
      'for SKUs in the environment-licence list or in licensePrices: units left (prepaidUnits.enabled − consumedUnits) < 0, or Suspended with units in use → critical; units left ≤ licenseHeadroomWarnAt (default 1), or capabilityStatus Warning → warning',
    severities: ['critical', 'warning'],
    factIds: ['L4', 'D4.2'],
    title: '{sku}: {unitsLeft} unit(s) left of {enabled} · {sku}: over-assigned by {n} unit(s) · {sku}: the subscription is suspended with {n} unit(s) in use',
    remediation:
      'Units left are the enabled units minus those assigned (L4): buy more units or remove licences from accounts that do not need them (inactive, disabled, non-interactive or administrative users); renew a subscription in its grace period (Warning) before it is suspended, when its units stop working and users lose access (D4.2).',
  },
  {
    id: 'audit.target-failed',
    target: 'any',
    scope: 'collection',
    subject: '`collection`',
    severityRule: 'critical: the data of the target could not be collected in this run',
    severities: ['critical'],
    factIds: [],
    title: '{target}: the audit could not collect its data',
    remediation:
      'Check that the service is reachable and that Steward still has its permissions there; earlier findings of this target stay open until a successful run.',
  },
] as const satisfies readonly CheckDefinition[];

export type CheckId = (typeof CHECK_CATALOGUE)[number]['id'];

const byId = new Map<string, CheckDefinition>(CHECK_CATALOGUE.map((check) => [check.id, check]));

export function checkDefinition(id: CheckId): CheckDefinition {
  return byId.get(id)!;
}

/** The ids of the checks a step evaluates. */
export function checkIdsOf(scope: CheckScope): ReadonlySet<CheckId> {
  return new Set(CHECK_CATALOGUE.filter((check) => check.scope === scope).map((check) => check.id));
}

/** The fixed remediation of a check (a check whose remediation varies builds its own). */
export function remediationOf(id: CheckId): string {
  const remediation = checkDefinition(id).remediation;
  if (remediation === null) throw new Error(`${id} builds its remediation from what failed`);
  return remediation;
}

/** A title pattern with its `{name}` parts filled in. */
export function fillTitle(pattern: string, values: Record<string, string | number>): string {
  return pattern.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/**
 * Seed 000's conditions, as Salesforce readiness names them (SPEC §3), with the audit check that
 * reports each: one severity per condition, read by both (a `critical` finding is a readiness
 * `problem`, a `warning` one a `warning`). S2's level depends on the headroom left. S4 and
 * api-integration-psl have no audit check (README: one would add findings the acceptance tenant's
 * recorded answer does not have), so their severity is given here.
 */
export const SALESFORCE_CONDITIONS: Record<SalesforceCondition, { checkId: CheckId } | { checkId: null; severity: Severity }> = {
  S1: { checkId: 'salesforce.integration-user-inactive' },
  S2: { checkId: 'salesforce.integration-license-headroom' },
  S4: { checkId: null, severity: 'warning' },
  S5: { checkId: 'salesforce.integration-profile-conflict' },
  'connected-app': { checkId: 'salesforce.connected-app-missing' },
  'api-integration-psl': { checkId: null, severity: 'critical' },
};

export type SalesforceCondition = 'S1' | 'S2' | 'S4' | 'S5' | 'connected-app' | 'api-integration-psl';

/**
 * The severity of a finding about this condition: its check's (the first, the highest, of those it
 * can have); S2 is `warning` when only the warn-at headroom is left.
 */
export function conditionSeverity(condition: SalesforceCondition, level: 'problem' | 'warning' = 'problem'): Severity {
  if (level === 'warning') return 'warning';
  const entry = SALESFORCE_CONDITIONS[condition];
  return entry.checkId ? checkDefinition(entry.checkId).severities[0]! : entry.severity;
}

/** The one check recorded for a target whose data could not be collected. */
export const TARGET_FAILED_CHECK = 'audit.target-failed' satisfies CheckId;
