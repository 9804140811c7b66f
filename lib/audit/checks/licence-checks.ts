import type { Finding } from '../../domain/finding.js';
import { holdsAnyLicense, licenseNamesOf, type LicenseCatalog } from '../../domain/licenses.js';
import type { DirectoryUser, SubscribedSku } from '../../domain/model.js';
import { monthlyCostOf } from '../../domain/money.js';
import type { DirectorySnapshot } from '../snapshot.js';
import { findingOf } from './finding-of.js';

/**
 * The licence checks of SPEC §7 that the directory alone decides: inactive licensed users (L2),
 * the refusal of `signInActivity` (L2), licence assignment errors (L3) and SKU headroom (L4).
 */

export interface LicenceCheckSettings {
  inactiveDays: number;
  licenseHeadroomWarnAt: number;
  /** skuPartNumber → price: a priced SKU is watched for headroom like an environment licence. */
  licensePrices: Readonly<Record<string, unknown>>;
}

const DAY_MS = 24 * 3600 * 1000;

export function runLicenceChecks(directory: DirectorySnapshot, settings: LicenceCheckSettings, now: Date): Finding[] {
  const findings: Finding[] = [];
  if (directory.signInActivityAvailable === false) findings.push(signInActivityUnavailable());
  for (const user of directory.users.values()) {
    if (directory.signInActivityAvailable !== false) {
      const inactive = inactiveLicensedUser(user, directory.catalog, settings.inactiveDays, now);
      if (inactive) findings.push(inactive);
    }
    for (const error of user.licenseErrors ?? []) findings.push(licenseAssignmentError(user, error, directory.catalog));
  }
  for (const sku of directory.skus ?? []) {
    const headroom = licenseHeadroom(sku, directory.catalog, settings);
    if (headroom) findings.push(headroom);
  }
  return findings;
}

/** The instant of an ISO time, or null for none or an unreadable one. */
const instant = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * entra.inactive-licensed-user (L2): enabled, holds a licence (one in `Error` is not held, L3), and
 * the later of the interactive and non-interactive sign-ins is more than `inactiveDays` before the
 * audit time; a user who never signed in counts once the account is older than that.
 */
function inactiveLicensedUser(user: DirectoryUser, catalog: LicenseCatalog, inactiveDays: number, now: Date): Finding | null {
  if (!user.accountEnabled || !holdsAnyLicense(user)) return null;
  // Read but absent: Graph leaves it out for a user who never signed in (L2).
  const activity = user.signInActivity ?? null;
  const lastSignIn = Math.max(instant(activity?.lastSignInDateTime) ?? -Infinity, instant(activity?.lastNonInteractiveSignInDateTime) ?? -Infinity);
  const cutoff = now.getTime() - inactiveDays * DAY_MS;
  const neverSignedIn = lastSignIn === -Infinity;
  const created = instant(user.createdDateTime);
  if (neverSignedIn ? created === null || created >= cutoff : lastSignIn >= cutoff) return null;
  const since = neverSignedIn ? created! : lastSignIn;
  const days = Math.floor((now.getTime() - since) / DAY_MS);
  return findingOf('entra.inactive-licensed-user', {
    targetId: 'tenant',
    subjectId: user.id,
    severity: 'warning',
    title: neverSignedIn
      ? `${user.userPrincipalName} never signed in (account ${days} days old) but holds ${user.assignedSkuIds.length} licence(s)`
      : `${user.userPrincipalName} has not signed in for ${days} days but holds ${user.assignedSkuIds.length} licence(s)`,
    details: {
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      licenses: licenseNamesOf(user, catalog),
      lastSignInDateTime: activity?.lastSignInDateTime ?? null,
      lastNonInteractiveSignInDateTime: activity?.lastNonInteractiveSignInDateTime ?? null,
      createdDateTime: user.createdDateTime ?? null,
      neverSignedIn,
      inactiveDays: days,
      threshold: inactiveDays,
      monthlyCost: monthlyCostOf(user.assignedSkuIds, catalog.prices),
    },
  });
}

/** entra.sign-in-activity-unavailable (L2): Graph refused `signInActivity`; the inactivity check did not run. */
function signInActivityUnavailable(): Finding {
  return findingOf('entra.sign-in-activity-unavailable', {
    targetId: 'tenant',
    subjectId: 'signInActivity',
    severity: 'info',
    title: 'Sign-in activity is not available: inactive licensed users could not be looked for',
    details: { error: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', check: 'entra.inactive-licensed-user' },
  });
}

/** entra.license-assignment-error (L3): critical when the SKU is an environment licence (the user loses access, D4.2). */
function licenseAssignmentError(user: DirectoryUser, error: NonNullable<DirectoryUser['licenseErrors']>[number], catalog: LicenseCatalog): Finding {
  const sku = catalog.partNumbers.get(error.skuId) ?? error.skuId;
  const environmentLicence = catalog.environmentSkuIds.has(error.skuId);
  return findingOf('entra.license-assignment-error', {
    targetId: 'tenant',
    subjectId: `${user.id}:${sku}`,
    severity: environmentLicence ? 'critical' : 'warning',
    title: `${user.userPrincipalName}: licence ${sku} is not applied (${error.error})${environmentLicence ? ': no access to environments' : ''}`,
    details: {
      userPrincipalName: user.userPrincipalName,
      skuId: error.skuId,
      skuPartNumber: sku,
      error: error.error,
      assignedByGroup: error.assignedByGroup,
      environmentLicense: environmentLicence,
    },
  });
}

/**
 * entra.license-headroom (L4), for the environment licences and the priced SKUs: units left =
 * `prepaidUnits.enabled − consumedUnits`; below 0 (over-assigned) or suspended with units in use →
 * critical; at most `licenseHeadroomWarnAt` left, or in its grace period (`Warning`) → warning.
 */
function licenseHeadroom(sku: SubscribedSku, catalog: LicenseCatalog, settings: LicenceCheckSettings): Finding | null {
  const priced = Object.keys(settings.licensePrices).some((part) => part.toUpperCase() === sku.skuPartNumber.toUpperCase());
  if (!catalog.environmentSkuIds.has(sku.skuId) && !priced) return null;
  const left = sku.enabledUnits - sku.consumedUnits;
  const status = sku.capabilityStatus;
  const suspendedInUse = status === 'Suspended' && sku.consumedUnits > 0;
  const critical = left < 0 || suspendedInUse;
  const warning = left <= settings.licenseHeadroomWarnAt || status === 'Warning';
  if (!critical && !warning) return null;
  const why = suspendedInUse
    ? `the subscription is suspended with ${sku.consumedUnits} unit(s) in use`
    : left < 0
      ? `over-assigned by ${-left} unit(s)`
      : status === 'Warning' && left > settings.licenseHeadroomWarnAt
        ? 'the subscription expired and is in its grace period'
        : `${left} unit(s) left of ${sku.enabledUnits}`;
  return findingOf('entra.license-headroom', {
    targetId: 'tenant',
    subjectId: sku.skuPartNumber,
    severity: critical ? 'critical' : 'warning',
    title: `${sku.skuPartNumber}: ${why}`,
    details: {
      skuPartNumber: sku.skuPartNumber,
      skuId: sku.skuId,
      capabilityStatus: status,
      enabledUnits: sku.enabledUnits,
      consumedUnits: sku.consumedUnits,
      unitsLeft: left,
      warnAt: settings.licenseHeadroomWarnAt,
      environmentLicense: catalog.environmentSkuIds.has(sku.skuId),
    },
  });
}
