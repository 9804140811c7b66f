import type { Finding } from '../../domain/finding.js';
import type { SalesforceOrgSnapshot } from '../../domain/model.js';
import { integrationLicenseHeadroom, unusedIntegrationProfiles } from '../../domain/salesforce-readiness.js';

export interface SalesforceCheckSettings {
  salesforceIntegrationLicenseWarnAt: number;
}

/** The checks of SPEC §2 whose target is one Salesforce org (seed 000). */
export function runSalesforceChecks(orgName: string, org: SalesforceOrgSnapshot, settings: SalesforceCheckSettings): Finding[] {
  const findings: Finding[] = [];
  const headroom = integrationLicenseHeadroom(org, settings.salesforceIntegrationLicenseWarnAt);
  if (headroom.level !== 'ok') {
    findings.push({
      checkId: 'salesforce.integration-license-headroom',
      targetId: org.orgId,
      subjectId: 'Salesforce Integration',
      severity: headroom.level === 'problem' ? 'critical' : 'warning',
      title: headroom.license
        ? `${orgName}: ${headroom.remaining} Salesforce Integration license(s) left of ${headroom.license.total}`
        : `${orgName}: the org has no Salesforce Integration user license`,
      details: headroom.license
        ? { org: orgName, total: headroom.license.total, used: headroom.license.used, remaining: headroom.remaining, warnAt: settings.salesforceIntegrationLicenseWarnAt }
        : { org: orgName, license: 'missing' },
      remediation:
        'Copilot for Sales creates its integration user with a Salesforce Integration license (S2): check Setup › Company Information › User Licenses; free one by deactivating unused integration users or moving them to another license type, or buy more.',
    });
  }
  for (const user of org.integrationUsers) {
    if (user.isActive) continue;
    findings.push({
      checkId: 'salesforce.integration-user-inactive',
      targetId: org.orgId,
      subjectId: user.id,
      severity: 'critical',
      title: `${orgName}: the Copilot for Sales integration user ${user.username} is inactive`,
      details: { org: orgName, username: user.username, userId: user.id },
      remediation:
        'The permission set cannot be assigned to an inactive integration user (S1): activate the user (POST /api/salesforce/{org}/integration-user/activate or Setup › Users); if that is impossible, contact Microsoft support.',
    });
  }
  for (const profile of unusedIntegrationProfiles(org)) {
    findings.push({
      checkId: 'salesforce.integration-profile-conflict',
      targetId: org.orgId,
      subjectId: profile.id,
      severity: 'warning',
      title: `${orgName}: profile "${profile.name}" exists but no integration user uses it`,
      details: { org: orgName, profile: profile.name, profileId: profile.id },
      remediation:
        'Enabling the S2S flow will fail with "The profile name is already in use" (S5): if the profile was created before enabling S2S, rename it and retry; if it was not, contact Microsoft support.',
    });
  }
  return findings;
}
