import { checkIdsOf, type CheckId } from '../../domain/check-catalogue.js';
import type { Finding } from '../../domain/finding.js';
import { environmentLicensesOf, holdsAnyLicense, holdsEnvironmentLicense, licenseNamesOf } from '../../domain/licenses.js';
import { monthlyCostOf } from '../../domain/money.js';
import type { DirectorySnapshot, EnvironmentUserSummary } from '../snapshot.js';
import { findingOf } from './finding-of.js';
import { runLicenceChecks, type LicenceCheckSettings } from './licence-checks.js';

export type DirectoryCheckSettings = LicenceCheckSettings;

const DIRECTORY_CHECKS = checkIdsOf('directory');
const CROSS_ENVIRONMENT_CHECKS = checkIdsOf('cross-environment');
/** L2: the check that needs `signInActivity`. */
export const INACTIVITY_CHECK = 'entra.inactive-licensed-user' satisfies CheckId;

/**
 * The tenant target's checks and the ids they decide: the directory checks, less those whose data
 * this run did not read (`keptOpen`, SPEC §9) and, without signInActivity, the inactivity check
 * (L2); the cross-environment check when every environment's summary is here (null: one was not
 * collected, and it resolves nothing this run).
 */
export function runTenantChecks(
  directory: DirectorySnapshot,
  summaries: readonly EnvironmentUserSummary[] | null,
  keptOpen: readonly string[],
  settings: DirectoryCheckSettings,
  now: Date,
): { checkIds: Set<string>; findings: Finding[] } {
  const checkIds = new Set<string>(DIRECTORY_CHECKS);
  if (directory.signInActivityAvailable === false) checkIds.delete(INACTIVITY_CHECK);
  for (const id of keptOpen) checkIds.delete(id);
  const findings = runDirectoryChecks(directory, settings, now).filter((f) => !keptOpen.includes(f.checkId));
  if (summaries) {
    findings.push(...runCrossEnvironmentChecks(directory, summaries));
    for (const id of CROSS_ENVIRONMENT_CHECKS) checkIds.add(id);
  }
  return { checkIds, findings };
}

/** The checks the directory alone decides: `entra.disabled-user-licensed` (E2, E7) and the licence checks of SPEC §7. */
export function runDirectoryChecks(directory: DirectorySnapshot, settings: DirectoryCheckSettings, now: Date): Finding[] {
  return [...disabledUsersLicensed(directory), ...runLicenceChecks(directory, settings, now)];
}

/** `entra.disabled-user-licensed` (E2, E7); its cost is every licence the account holds (SPEC §7 Money). */
function disabledUsersLicensed(directory: DirectorySnapshot): Finding[] {
  const findings: Finding[] = [];
  for (const user of directory.users.values()) {
    if (user.accountEnabled || !holdsAnyLicense(user)) continue;
    findings.push(findingOf('entra.disabled-user-licensed', {
      targetId: 'tenant',
      subjectId: user.id,
      severity: 'warning',
      title: `${user.userPrincipalName} is disabled in Entra ID but still holds ${user.assignedSkuIds.length} license(s)`,
      details: {
        userPrincipalName: user.userPrincipalName,
        displayName: user.displayName,
        licenses: licenseNamesOf(user, directory.catalog),
        monthlyCost: monthlyCostOf(user.assignedSkuIds, directory.catalog.prices),
      },
    }));
  }
  return findings;
}

/**
 * `dataverse.disabled-user-licensed` (E2): enabled in Entra, holds an environment license, has a
 * regular row in at least one audited environment and is disabled in all of them. Needs every
 * environment's summary: run it only when every environment was collected.
 */
export function runCrossEnvironmentChecks(directory: DirectorySnapshot, summaries: readonly EnvironmentUserSummary[]): Finding[] {
  const rows = new Map<string, { environments: string[]; enabledSomewhere: boolean }>();
  for (const summary of summaries) {
    for (const [ids, enabled] of [
      [summary.enabled, true],
      [summary.disabled, false],
    ] as const) {
      for (const id of ids) {
        const entry = rows.get(id) ?? { environments: [], enabledSomewhere: false };
        entry.environments.push(summary.environmentId);
        if (enabled) entry.enabledSomewhere = true;
        rows.set(id, entry);
      }
    }
  }
  const findings: Finding[] = [];
  for (const [userId, entry] of rows) {
    if (entry.enabledSomewhere) continue;
    const user = directory.users.get(userId);
    if (!user || !user.accountEnabled || !holdsEnvironmentLicense(user, directory.catalog)) continue;
    findings.push(findingOf('dataverse.disabled-user-licensed', {
      targetId: 'tenant',
      subjectId: user.id,
      severity: 'warning',
      title: `${user.userPrincipalName} is disabled in every environment but still holds an environment license`,
      details: {
        userPrincipalName: user.userPrincipalName,
        licenses: environmentLicensesOf(user, directory.catalog),
        disabledIn: [...new Set(entry.environments)],
        // SPEC §7 Money: the environment licences only, the ones this finding is about.
        monthlyCost: monthlyCostOf(user.assignedSkuIds.filter((id) => directory.catalog.environmentSkuIds.has(id)), directory.catalog.prices),
      },
    }));
  }
  return findings;
}
