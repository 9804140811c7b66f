import { describe, expect, it } from 'vitest';
import { applyRun } from '../../lib/audit/lifecycle.js';
import { RunDataMissing, failureOf, targetFailedFinding } from '../../lib/audit/target-failure.js';
import type { RunTarget } from '../../lib/domain/finding.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';

/** A failed target records what failed as data; its `audit.target-failed` finding is built from that. */

const ENV = '11111111-1111-4111-8111-111111111111';
const failedTarget = (error: unknown): RunTarget => ({ id: ENV, kind: 'environment', status: 'failed', name: 'Sales Prod', failure: failureOf(error) });

describe('the failure of a target', () => {
  it("is the service, status and code of a ServiceError, never the call or the message", () => {
    const error = new ServiceError({ service: 'dataverse', operation: 'listTeams', target: ENV, status: 503, code: 'ServiceUnavailable' }, 'Sales Prod is down');
    expect(failureOf(error)).toEqual({ service: 'dataverse', status: 503, code: 'ServiceUnavailable' });
    expect(failureOf(new ServiceError({ service: 'graph', operation: 'GET /users' }, 'socket hang up'))).toEqual({ service: 'graph', status: null, code: null });
  });

  it("is Steward's own code when no service failed", () => {
    expect(failureOf(new RunDataMissing('directory-unavailable', 'the directory snapshot of the run is missing'))).toEqual({ service: null, status: null, code: 'directory-unavailable' });
    expect(failureOf(new TypeError('x is undefined'))).toEqual({ service: null, status: null, code: 'unexpected' });
  });

  it('gives a critical audit.target-failed finding whose cause is that structure', () => {
    const finding = targetFailedFinding(failedTarget(new ServiceError({ service: 'dataverse', operation: 'listSystemUsers', status: 503 })));
    expect(finding).toMatchObject({
      checkId: 'audit.target-failed',
      targetId: ENV,
      subjectId: 'collection',
      severity: 'critical',
      title: 'Sales Prod: the audit could not collect its data',
      details: { target: 'Sales Prod', kind: 'environment', cause: { service: 'dataverse', status: 503, code: null } },
    });
    expect(finding.remediation).toMatch(/earlier findings of this target stay open/);
  });

  it('stays the same while the target keeps failing the same way, through another call: the second run writes nothing', () => {
    const first = targetFailedFinding(failedTarget(new ServiceError({ service: 'dataverse', operation: 'listSystemUsers', target: ENV, status: 503 }, 'first page')));
    const second = targetFailedFinding(failedTarget(new ServiceError({ service: 'dataverse', operation: 'listTeams', target: ENV, status: 503 }, 'another message')));
    expect(second).toEqual(first);
    const scope = (f: typeof first) => [{ targetId: ENV, checkIds: new Set(['audit.target-failed']), findings: [f] }];
    const opened = applyRun([], scope(first), 'run-1', new Date('2030-01-01T02:00:00Z'));
    expect(applyRun(opened.changed, scope(second), 'run-2', new Date('2030-01-02T02:00:00Z')).changed).toEqual([]);

    // Failing another way (another status) is news: the finding changes.
    const third = targetFailedFinding(failedTarget(new ServiceError({ service: 'dataverse', operation: 'listTeams', target: ENV, status: 401 })));
    expect(applyRun(opened.changed, scope(third), 'run-2', new Date('2030-01-02T02:00:00Z')).changed).toHaveLength(1);
  });
});
