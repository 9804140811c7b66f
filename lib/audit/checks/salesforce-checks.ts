import type { Finding } from '../../domain/finding.js';
import type { SalesforceOrgSnapshot } from '../../domain/model.js';
import { conditionSeverity } from '../../domain/check-catalogue.js';
import { connectedAppMissing, integrationLicenseHeadroom, unusedIntegrationProfiles } from '../../domain/salesforce-readiness.js';
import { findingOf } from './finding-of.js';

export interface SalesforceCheckSettings {
  salesforceIntegrationLicenseWarnAt: number;
}

/** The checks of SPEC §2 whose target is one Salesforce org (seed 000). */
export function runSalesforceChecks(orgName: string, org: SalesforceOrgSnapshot, settings: SalesforceCheckSettings): Finding[] {
  const findings: Finding[] = [];
  const headroom = integrationLicenseHeadroom(org, settings.salesforceIntegrationLicenseWarnAt);
  if (headroom.level !== 'ok') {
    findings.push(findingOf('salesforce.integration-license-headroom', {
      targetId: org.orgId,
      subjectId: 'Salesforce Integration',
      severity: conditionSeverity('S2', headroom.level),
      title: headroom.license
        ? `${orgName}: ${headroom.remaining} Salesforce Integration license(s) left of ${headroom.license.total}`
        : `${orgName}: the org has no Salesforce Integration user license`,
      details: headroom.license
        ? { org: orgName, total: headroom.license.total, used: headroom.license.used, remaining: headroom.remaining, warnAt: settings.salesforceIntegrationLicenseWarnAt }
        : { org: orgName, license: 'missing' },
    }));
  }
  for (const user of org.integrationUsers) {
    if (user.isActive) continue;
    findings.push(findingOf('salesforce.integration-user-inactive', {
      targetId: org.orgId,
      subjectId: user.id,
      severity: conditionSeverity('S1'),
      title: `${orgName}: the Copilot for Sales integration user ${user.username} is inactive`,
      details: { org: orgName, username: user.username, userId: user.id },
    }));
  }
  for (const profile of unusedIntegrationProfiles(org)) {
    findings.push(findingOf('salesforce.integration-profile-conflict', {
      targetId: org.orgId,
      subjectId: profile.id,
      severity: conditionSeverity('S5'),
      title: `${orgName}: profile "${profile.name}" exists but no integration user uses it`,
      details: { org: orgName, profile: profile.name, profileId: profile.id },
    }));
  }
  if (connectedAppMissing(org)) {
    findings.push(findingOf('salesforce.connected-app-missing', {
      targetId: org.orgId,
      subjectId: 'connected-app',
      severity: conditionSeverity('connected-app'),
      title: `${orgName}: the Copilot for Sales integration user exists but its connected app is missing`,
      details: { org: orgName, integrationUsers: org.integrationUsers.map((u) => u.username) },
    }));
  }
  return findings;
}
