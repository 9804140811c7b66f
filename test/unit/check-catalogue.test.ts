import { describe, expect, it } from 'vitest';
import { CHECK_CATALOGUE, TARGET_FAILED_CHECK, checkIdsOf, fillTitle } from '../../lib/domain/check-catalogue.js';

/** The check catalogue (SPEC §2) as data: what the pipeline, the report and the docs read. */

const SPEC_CHECKS = [
  'entra.disabled-user-licensed',
  'dataverse.disabled-user-licensed',
  'dataverse.non-interactive-cap',
  'dataverse.non-interactive-licensed',
  'dataverse.administrative-licensed',
  'dataverse.application-user-disabled',
  'dataverse.nested-security-group',
  'dataverse.enabled-user-ineligible',
  'dataverse.eligible-user-missing',
  'dataverse.enabled-user-without-role',
  'dataverse.profile-drift',
  'salesforce.integration-license-headroom',
  'salesforce.integration-user-inactive',
  'salesforce.integration-profile-conflict',
  'audit.target-failed',
  // issue 14: readiness' connected-app condition, seen nightly
  'salesforce.connected-app-missing',
  // SPEC §7
  'entra.inactive-licensed-user',
  'entra.sign-in-activity-unavailable',
  'entra.license-assignment-error',
  'entra.license-headroom',
];

describe('the check catalogue', () => {
  it('lists every check of SPEC §2 and §7 once', () => {
    const ids = CHECK_CATALOGUE.map((check) => check.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...SPEC_CHECKS].sort());
  });

  it('gives each check a title, a severity rule, its severities and, but for the failure of a collection, the facts it rests on, which its remediation cites', () => {
    for (const check of CHECK_CATALOGUE) {
      expect(check.title.length, check.id).toBeGreaterThan(0);
      expect(check.severityRule.length, check.id).toBeGreaterThan(0);
      expect(check.severities.length, check.id).toBeGreaterThan(0);
      if (check.scope !== 'collection') expect(check.factIds.length, check.id).toBeGreaterThan(0);
      const remediation: string | null = check.remediation;
      if (remediation === null) continue;
      if (check.factIds.length > 0) expect(check.factIds.some((fact) => remediation.includes(fact)), `${check.id} cites one of ${check.factIds.join(', ')}`).toBe(true);
    }
  });

  it('groups the checks by the step that evaluates them', () => {
    expect([...checkIdsOf('directory')]).toEqual([
      'entra.disabled-user-licensed',
      'entra.inactive-licensed-user',
      'entra.sign-in-activity-unavailable',
      'entra.license-assignment-error',
      'entra.license-headroom',
    ]);
    expect([...checkIdsOf('cross-environment')]).toEqual(['dataverse.disabled-user-licensed']);
    expect([...checkIdsOf('collection')]).toEqual([TARGET_FAILED_CHECK]);
    expect(checkIdsOf('environment').size).toBe(9);
    expect(checkIdsOf('salesforce-org').size).toBe(4);
    // A step's checks are about that step's target.
    for (const check of CHECK_CATALOGUE) {
      const expected = { directory: 'tenant', 'cross-environment': 'tenant', environment: 'environment', 'salesforce-org': 'salesforce-org', collection: 'any' }[check.scope];
      expect(check.target, check.id).toBe(expected);
    }
  });

  it('fills a title pattern, leaving unknown parts as they are', () => {
    expect(fillTitle('{target}: the audit could not collect its data', { target: 'Sales Prod' })).toBe('Sales Prod: the audit could not collect its data');
    expect(fillTitle('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });
});
