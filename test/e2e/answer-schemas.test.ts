import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { isConnectorOperation } from '../../lib/http/openapi.js';
import { swaggerSchemaOf } from '../../lib/http/openapi-schema.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { ENV, SF_ORG, USER, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { startHarness, type Harness, type ApiAnswer } from './support/harness.js';

/**
 * The answer schemas are exact: every operation of the HTTP API is called as a flow calls it
 * (over HTTP, against the simulated Fabrikam tenant and Azurite) and its success body is parsed
 * with the same zod schema the OpenAPI document and the connector describe it with
 * (`contract.answer`, `contract.accepted` for a 202 that is not the final answer).
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness(operationsTenant());
});
afterAll(() => h?.stop());

const routeNamed = (name: string) => {
  const route = apiRoutes.find((r) => r.name === name);
  if (!route) throw new Error(`no route ${name}`);
  return route;
};

/** The routes whose answers were checked, to prove none was left out. */
const checked = new Set<string>();

/** The fields of a body that its (Swagger) schema does not declare, as paths. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function undeclared(schema: Record<string, any>, body: unknown, at: string): string[] {
  if (Array.isArray(body)) return body.flatMap((item, i) => (schema.items ? undeclared(schema.items, item, `${at}[${i}]`) : []));
  if (!body || typeof body !== 'object' || !schema.properties) return [];
  return Object.entries(body).flatMap(([k, v]) => (schema.properties[k] ? undeclared(schema.properties[k], v, `${at}.${k}`) : [`${at}.${k}`]));
}

function issuesOf(schema: ZodType, body: unknown): string[] {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** The body of a success answers the route's schema; a 202 answers `accepted` when the route has one. */
function expectAnswer(name: string, answer: ApiAnswer, status: number): void {
  const { contract } = routeNamed(name);
  expect(answer.status, `${name}: ${JSON.stringify(answer.body)?.slice(0, 300)}`).toBe(status);
  const schema = status === 202 && contract.accepted ? contract.accepted : contract.answer;
  expect(schema, `${name} has an answer schema`).toBeDefined();
  expect(issuesOf(schema!, answer.body), name).toEqual([]);
  // Exact, not only valid: every field of the answer is in the schema (the document is open by design).
  if (name !== 'openapi') expect(undeclared(swaggerSchemaOf(schema!, 'output'), answer.body, ''), `${name}: fields the schema does not declare`).toEqual([]);
  expect(status === 202 ? contract.polls : contract.success.includes(status), `${name} documents ${status}`).toBe(true);
  checked.add(name);
}

describe('every success answer matches its documented schema', () => {
  it('health and the document', async () => {
    expectAnswer('health', await h.call('GET', 'health'), 200);
    expectAnswer('openapi', await h.call('GET', 'openapi.json'), 200);
  });

  it('the list operations behind the pickers', async () => {
    expectAnswer('environments-list', await h.call('GET', 'environments'), 200);
    const users = await h.call('GET', `environments/${ENV.sales}/users?search=a`);
    expectAnswer('environment-users-list', users, 200);
    expect(users.body.value.length).toBeGreaterThan(0);
    const roles = await h.call('GET', `environments/${ENV.sales}/roles`);
    expectAnswer('environment-roles-list', roles, 200);
    expect(roles.body.value.map((r: { name: string }) => r.name)).toContain('Salesperson');
    const orgs = await h.call('GET', 'salesforce/orgs');
    expectAnswer('salesforce-orgs-list', orgs, 200);
    expect(orgs.body.value.map((o: { orgId: string }) => o.orgId)).toContain(SF_ORG);
  });

  it('the user operations', async () => {
    const created = await h.call('POST', 'users', {
      body: {
        userPrincipalName: upn('quinn'),
        displayName: 'Quinn Ames',
        usageLocation: 'IT',
        licenses: ['DYN365_ENTERPRISE_SALES'],
        environments: [ENV.sales],
        returnTemporaryPassword: true,
      },
    });
    expectAnswer('users-create', created, 201);
    expectAnswer('users-create', await h.call('POST', 'users', { body: { userPrincipalName: upn('quinn'), displayName: 'Quinn Ames' } }), 200);
    expectAnswer('environment-users-enable', await h.call('POST', `environments/${ENV.sales}/users/${upn('carol')}/enable`), 200);
    expectAnswer('environment-users-enable-status', await h.call('GET', `environments/${ENV.sales}/users/${USER.alice}/enable-status`), 200);
    expectAnswer('environment-users-enable-status', await h.call('GET', `environments/${ENV.sales}/users/${USER.bob}/enable-status`), 202);
    expectAnswer('environment-users-disable', await h.call('POST', `environments/${ENV.sales}/users/${upn('gina')}/disable`), 200);
    expectAnswer(
      'environment-users-access-mode',
      await h.call('PUT', `environments/${ENV.sales}/users/${upn('frank')}/access-mode`, { body: { accessMode: 'non-interactive', removeLicenses: true } }),
      200,
    );
    expectAnswer('environment-users-sync', await h.call('POST', `environments/${ENV.permissive}/users/${upn('alice')}/sync`), 200);
    expectAnswer('environment-users-roles', await h.call('POST', `environments/${ENV.sales}/users/${USER.alice}/roles`, { body: { role: 'Basic User' } }), 200);
    const applicationId = '6e1f4d2b-8c3f-4d0e-9f7a-2b3c4d5e6f70';
    expectAnswer('application-users-create', await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId, roles: ['Basic User'] } }), 201);
    expectAnswer('application-users-create', await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId, roles: ['Basic User'] } }), 200);
  });

  it('diagnose, readiness and the Salesforce remediation', async () => {
    expectAnswer('diagnosis-get', await h.call('GET', `environments/${ENV.sales}/users/${upn('alice')}/diagnosis`), 200);
    expectAnswer('diagnosis-get', await h.call('GET', `environments/${ENV.noDatabase}/users/${upn('dora')}/diagnosis`), 200);
    expectAnswer('salesforce-readiness', await h.call('GET', `salesforce/${SF_ORG}/s2s-readiness`), 200);
    expectAnswer('salesforce-integration-user-activate', await h.call('POST', `salesforce/${SF_ORG}/integration-user/activate`), 200);
  });

  it('the audit: started (202 + Location), finished, its changes, the findings, a suppression', async () => {
    const started = await h.call('POST', 'audits');
    expectAnswer('audits-start', started, 202);
    await h.audit.idle();
    const location = new URL(started.headers.get('location')!);
    const finished = await h.call('GET', location.pathname.replace(/^\/api\//, ''));
    expectAnswer('audits-get', finished, 200);
    const latest = await h.call('GET', 'audits/latest');
    expectAnswer('audits-latest', latest, 200);
    // `latest` is a run id too: the connector's one operation for both.
    expect((await h.call('GET', 'audits/latest')).body).toEqual((await h.call('GET', `audits/${latest.body.runId}`)).body);
    expect((await h.call('GET', `audits/latest/findings`)).body).toEqual((await h.call('GET', `audits/${latest.body.runId}/findings`)).body);
    expectAnswer('audits-findings', await h.call('GET', `audits/${finished.body.runId}/findings`), 200);

    const findings = await h.call('GET', 'findings');
    expectAnswer('findings-list', findings, 200);
    const finding = findings.body.findings[0];
    expect(finding).toBeDefined();
    const expiresAt = new Date(h.services.now().getTime() + 7 * 86_400_000).toISOString();
    const suppression = { checkId: finding.checkId, targetId: finding.targetId, subjectId: finding.subjectId, reason: 'Known and accepted', expiresAt };
    expectAnswer('suppressions-create', await h.call('POST', 'suppressions', { body: suppression }), 201);
    const removed = await h.call('DELETE', `suppressions/${finding.targetId}/${finding.checkId}/${encodeURIComponent(finding.subjectId)}`);
    expect(removed.status).toBe(204);
    checked.add('suppressions-delete');
  });

  it('the list operations search, and refuse a malformed, unknown or database-less environment', async () => {
    const found = await h.call('GET', `environments/${ENV.sales}/users?search=${encodeURIComponent(upn('alice'))}`);
    expect(found.body.value.map((u: { domainName: string }) => u.domainName)).toEqual([upn('alice')]);
    const bad = await h.call('GET', 'environments/bad%20env/roles');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['#/env']);
    expect((await h.call('GET', 'environments/0b5c1f8e-0000-4000-8000-000000000000/users')).status).toBe(404);
    const noDatabase = await h.call('GET', `environments/${ENV.noDatabase}/roles`);
    expect(noDatabase.status).toBe(409);
    expect(noDatabase.body.factId).toBe('D3');
  });

  it('left no JSON operation unchecked', () => {
    const json = apiRoutes.filter((r) => !r.contract.browserOnly).map((r) => r.name);
    expect([...checked].sort()).toEqual(json.sort());
    // Each operation a flow can call has a schema for its success answer (a 204 has no body).
    for (const route of apiRoutes.filter((r) => isConnectorOperation(r.contract))) {
      expect(route.contract.answer !== undefined || route.contract.success.every((s) => s === 204), route.name).toBe(true);
    }
  });
});
