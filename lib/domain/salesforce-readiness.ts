import {
  API_INTEGRATION_PSL_DEVELOPER_NAME,
  SALESFORCE_INTEGRATION_LICENSE_NAME,
} from './copilot-for-sales-names.js';
import { conditionSeverity, type SalesforceCondition } from './check-catalogue.js';
import type { SalesforceOrgSnapshot, SalesforcePermissionSetLicense, SalesforceProfile, SalesforceUserLicense } from './model.js';

/**
 * Rules of seed 000 (Copilot for Sales S2S enablement) over one org's snapshot, shared by the
 * audit checks and the readiness report.
 */

export type ReadinessStatus = 'ok' | 'warning' | 'problem' | 'unknown';

export interface ReadinessCheck {
  id: SalesforceCondition;
  status: ReadinessStatus;
  message: string;
  resolution: string;
}

export interface Headroom {
  level: 'ok' | 'warning' | 'problem';
  license: SalesforceUserLicense | null;
  remaining: number | null;
}

/** S2: Remaining = Total − Used of the `Salesforce Integration` user license. */
export function integrationLicenseHeadroom(org: SalesforceOrgSnapshot, warnAt: number): Headroom {
  const license =
    org.userLicenses.find((l) => l.name.toLowerCase() === SALESFORCE_INTEGRATION_LICENSE_NAME.toLowerCase()) ??
    org.userLicenses.find((l) => l.masterLabel.toLowerCase() === SALESFORCE_INTEGRATION_LICENSE_NAME.toLowerCase()) ??
    null;
  if (!license) return { level: 'problem', license: null, remaining: null };
  const remaining = license.total - license.used;
  return { level: remaining <= 0 ? 'problem' : remaining <= warnAt ? 'warning' : 'ok', license, remaining };
}

/** S5: integration-profile names that no integration user uses (a leftover, or made by hand). */
export function unusedIntegrationProfiles(org: SalesforceOrgSnapshot): SalesforceProfile[] {
  const userIds = integrationUserIds(org);
  return org.integrationProfiles.filter((p) => !p.userIds.some((id) => userIds.has(id)));
}

const integrationUserIds = (org: SalesforceOrgSnapshot) => new Set(org.integrationUsers.map((u) => u.id));

const NONE_NEEDED = 'None needed.';

/**
 * The status of a condition that is not met, from its one severity (the check catalogue's, which
 * the audit's finding has too): critical is a problem, anything less a warning.
 */
export const statusOf = (condition: SalesforceCondition, level: 'problem' | 'warning' = 'problem'): ReadinessStatus =>
  conditionSeverity(condition, level) === 'critical' ? 'problem' : 'warning';

/** An integration user exists, and so should its connected app (S3). */
export const connectedAppMissing = (org: SalesforceOrgSnapshot) => org.integrationUsers.length > 0 && org.copilotConnectedApps.length === 0;

/** S1: the permission set cannot be assigned to an inactive integration user. */
function integrationUserCheck(org: SalesforceOrgSnapshot): ReadinessCheck {
  const users = org.integrationUsers;
  const inactive = users.filter((u) => !u.isActive);
  if (inactive.length === 0) {
    return {
      id: 'S1',
      status: 'ok',
      message: users.length > 0 ? 'The integration user is active.' : 'No integration user yet: enabling S2S will create one.',
      resolution: NONE_NEEDED,
    };
  }
  return {
    id: 'S1',
    status: statusOf('S1'),
    message: `The integration user ${inactive.map((u) => u.username).join(', ')} is inactive: the permission set cannot be assigned to it.`,
    resolution: 'Find the user whose username starts with "copilotforsalesintegrationuser" and activate it; if that is impossible, contact Microsoft support (S1).',
  };
}

/** S2: a Salesforce Integration license must be left for the integration user. */
function integrationLicenseCheck(org: SalesforceOrgSnapshot, warnAt: number): ReadinessCheck {
  const headroom = integrationLicenseHeadroom(org, warnAt);
  return {
    id: 'S2',
    status: headroom.level === 'ok' ? 'ok' : statusOf('S2', headroom.level),
    message: !headroom.license
      ? 'The org has no "Salesforce Integration" user license: the integration user cannot be created.'
      : headroom.level === 'problem'
        ? `No Salesforce Integration license left (${headroom.license.used} of ${headroom.license.total} used).`
        : headroom.level === 'warning'
          ? `Only ${headroom.remaining} Salesforce Integration license(s) left (${headroom.license.used} of ${headroom.license.total} used).`
          : `${headroom.remaining} Salesforce Integration license(s) left.`,
    resolution:
      headroom.level === 'ok'
        ? NONE_NEEDED
        : 'Check Setup › Company Information › User Licenses (Remaining = Total − Used); deactivate integration users, move them to other license types, or buy more licenses (S2).',
  };
}

/** S4: a permission set already assigned makes enabling again answer "No changes were made". */
function permissionSetCheck(org: SalesforceOrgSnapshot): ReadinessCheck {
  const userIds = integrationUserIds(org);
  const assigned = org.permissionSetAssignments.filter((a) => userIds.has(a.assigneeId));
  if (assigned.length === 0) return { id: 'S4', status: 'ok', message: 'No Copilot for Sales permission set is assigned yet.', resolution: NONE_NEEDED };
  const assignedNames = assigned.map((a) => org.copilotPermissionSets.find((p) => p.id === a.grantedId)?.name ?? a.grantedId);
  return {
    id: 'S4',
    status: statusOf('S4'),
    message: `The Copilot for Sales permission set (${assignedNames.join(', ')}) is already assigned to the integration user: enabling again will say "No changes were made".`,
    resolution:
      'If the connection does not work, look for manual changes to the connected app or to profiles with the "CopilotForSales" prefix; revert them if they were not intended, otherwise retry; if the problem persists, contact Microsoft support (S4).',
  };
}

/** S5: an integration profile no integration user uses takes the name enabling wants. */
function profileNameCheck(org: SalesforceOrgSnapshot): ReadinessCheck {
  const unused = unusedIntegrationProfiles(org);
  if (unused.length === 0) return { id: 'S5', status: 'ok', message: 'No conflicting integration profile.', resolution: NONE_NEEDED };
  return {
    id: 'S5',
    status: statusOf('S5'),
    message: `A profile named "${unused.map((p) => p.name).join('", "')}" already exists and no integration user uses it: enabling will fail with "The profile name is already in use".`,
    resolution: 'If the profile was created before enabling S2S, rename it and retry; if it was not created before, contact Microsoft support (S5).',
  };
}

/** S3 (connected app not found): an integration user exists, so the connected app should too. */
function connectedAppCheck(org: SalesforceOrgSnapshot): ReadinessCheck {
  const apps = org.copilotConnectedApps;
  if (connectedAppMissing(org)) {
    return {
      id: 'connected-app',
      status: statusOf('connected-app'),
      message: 'An integration user exists but no Copilot for Sales connected app or External Client App was found.',
      resolution: 'Retry the S2S enablement; if it persists, collect the details and contact Microsoft support (S3: connected app not found).',
    };
  }
  return {
    id: 'connected-app',
    status: 'ok',
    message:
      apps.length > 0
        ? `Connected app found: ${apps.map((a) => a.name).join(', ')}.`
        : 'No integration user yet: the connected app is deployed when S2S is enabled.',
    resolution: NONE_NEEDED,
  };
}

/**
 * The integration user needs the `Salesforce API Integration` permission set license: assigned
 * when the user exists, a free seat of it when the user is yet to be created.
 */
function apiIntegrationPslCheck(org: SalesforceOrgSnapshot): ReadinessCheck {
  const psl = org.permissionSetLicenses.find((l) => l.developerName.toLowerCase() === API_INTEGRATION_PSL_DEVELOPER_NAME.toLowerCase());
  return org.integrationUsers.length > 0 ? pslAssignedCheck(org, psl) : pslAvailableCheck(psl);
}

function pslAssignedCheck(org: SalesforceOrgSnapshot, psl: SalesforcePermissionSetLicense | undefined): ReadinessCheck {
  const userIds = integrationUserIds(org);
  const hasPsl = !!psl && org.permissionSetLicenseAssignments.some((a) => a.grantedId === psl.id && userIds.has(a.assigneeId));
  if (hasPsl) return { id: 'api-integration-psl', status: 'ok', message: 'The integration user has the Salesforce API Integration permission set license.', resolution: NONE_NEEDED };
  return {
    id: 'api-integration-psl',
    status: statusOf('api-integration-psl'),
    message: 'The integration user has no assignment of the "Salesforce API Integration" permission set license.',
    resolution: 'Assign the Salesforce API Integration permission set license to the integration user, then retry the enablement.',
  };
}

function pslAvailableCheck(psl: SalesforcePermissionSetLicense | undefined): ReadinessCheck {
  const free = psl ? psl.total - psl.used : 0;
  if (psl && free > 0) {
    return { id: 'api-integration-psl', status: 'ok', message: `Salesforce API Integration permission set license available (${free} free).`, resolution: NONE_NEEDED };
  }
  return {
    id: 'api-integration-psl',
    status: statusOf('api-integration-psl'),
    message: psl
      ? `No seat left on the "Salesforce API Integration" permission set license (${psl.used} of ${psl.total} used).`
      : 'The org has no "Salesforce API Integration" permission set license.',
    resolution: 'The integration user needs the Salesforce API Integration permission set license: free a seat or obtain the license before enabling S2S.',
  };
}

/** SPEC §3: one check per condition, in this order. */
export function evaluateReadiness(org: SalesforceOrgSnapshot, warnAt: number): ReadinessCheck[] {
  return [
    integrationUserCheck(org),
    integrationLicenseCheck(org, warnAt),
    permissionSetCheck(org),
    profileNameCheck(org),
    connectedAppCheck(org),
    apiIntegrationPslCheck(org),
  ];
}

/** Every readiness check, when the org could not be read: `unknown`, with the reason. */
export function unknownReadiness(message: string, resolution: string): ReadinessCheck[] {
  const ids: ReadinessCheck['id'][] = ['S1', 'S2', 'S4', 'S5', 'connected-app', 'api-integration-psl'];
  return ids.map((id) => ({ id, status: 'unknown', message, resolution }));
}
