import { SpanKind } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOperationLog } from '../../lib/http/operation-log.js';
import { UPSTREAM_ATTRIBUTES as A } from '../../lib/telemetry/upstream.js';
import { ENV, SF_ORG, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { startTestServices, type TestServices } from '../support/services.js';
import { installTestTelemetry } from '../support/telemetry.js';
import { startHarness, type Harness } from './support/harness.js';

// Installed before anything runs: the app's spans and metrics go to memory.
const telemetry = installTestTelemetry();
const TRACE_ID = /^[0-9a-f]{32}$/;

const serverSpanOf = (traceId: string) => telemetry.spans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === traceId);
const inTrace = (spans: ReadableSpan[], traceId: string) => spans.filter((s) => s.spanContext().traceId === traceId);

/** Nothing recorded may carry a query string, a token or a SOQL text. */
function expectNoSecrets(spans: ReadableSpan[]): void {
  const recorded = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
  expect(recorded).not.toMatch(/\?|access_token|Bearer|client_secret|SELECT\s/i);
}

describe('telemetry of the HTTP API (spans, trace ids)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(operationsTenant());
  });
  afterAll(() => h.stop());

  it('a user operation makes one span per upstream call, under the request span, naming service, operation, status, retries and wait', async () => {
    telemetry.reset();
    const answer = await h.call('POST', `environments/${ENV.permissive}/users/${upn('alice')}/sync`);
    expect(answer.status).toBe(200);
    const server = telemetry.spans().find((s) => s.kind === SpanKind.SERVER && s.attributes['steward.route'] === 'environment-users-sync')!;
    expect(server).toBeDefined();
    expect(server.attributes['http.response.status_code']).toBe(200);
    const calls = inTrace(telemetry.upstream(), server.spanContext().traceId);
    expect(new Set(calls.map((s) => s.attributes[A.service]))).toEqual(new Set(['graph', 'powerplatform', 'dataverse']));
    for (const span of calls) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes[A.operation]).toMatch(/^(GET|POST|PATCH|PUT|DELETE) \/\S*$/);
      expect(span.attributes[A.status]).toBeTypeOf('number');
      expect(span.attributes[A.retries]).toBe(0);
      expect(span.attributes[A.throttleWaitMs]).toBe(0);
    }
    // The admin API's addUser names the environment as a template, not its id.
    const addUser = calls.find((s) => s.attributes[A.service] === 'powerplatform' && s.attributes[A.method] === 'POST')!;
    expect(addUser.attributes[A.operation]).toMatch(/^POST \/providers\/Microsoft\.BusinessAppPlatform\/scopes\/admin\/environments\/\{id\}\/addUser$/);
    expect(addUser.attributes[A.target]).toBe(ENV.permissive);
    // Dataverse paths are templates too: the row key is not recorded.
    expect(calls.filter((s) => s.attributes[A.service] === 'dataverse').map((s) => s.attributes[A.operation])).toContainEqual(expect.stringMatching(/^GET \/api\/data\/v9\.2\/systemusers$/));
    expectNoSecrets(calls);
  });

  it('a Salesforce operation makes its spans too, the SOQL left out', async () => {
    telemetry.reset();
    const answer = await h.call('GET', `salesforce/${SF_ORG}/s2s-readiness`);
    expect(answer.status).toBe(200);
    const calls = telemetry.upstream('salesforce');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((s) => s.attributes[A.operation])).toContainEqual('GET /services/data/v62.0/query');
    for (const span of calls) expect(span.attributes).toMatchObject({ [A.status]: 200, [A.target]: SF_ORG, [A.retries]: 0 });
    expectNoSecrets(calls);
  });

  it('a problem answer names the trace id of its request, whose spans and operation log row carry it', async () => {
    telemetry.reset();
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('nobody')}/enable`);
    expect(answer.status).toBe(404);
    expect(answer.body.traceId).toMatch(TRACE_ID);
    const server = serverSpanOf(answer.body.traceId)!;
    expect(server.attributes).toMatchObject({ 'steward.route': 'environment-users-enable', 'http.response.status_code': 404 });
    // The Graph lookup that found nobody is in the same trace.
    const lookups = inTrace(telemetry.upstream('graph'), answer.body.traceId);
    expect(lookups.map((s) => s.attributes[A.status])).toContain(404);
    const rows = await readOperationLog(h.services.tables, new Date());
    expect(rows.filter((row) => row.traceId === answer.body.traceId)).toMatchObject([{ route: 'environment-users-enable', status: 404 }]);
  });

  it("continues the caller's W3C traceparent", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('nobody')}/enable`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    expect(answer.body.traceId).toBe(traceId);
    const server = serverSpanOf(traceId)!;
    expect(server.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    // A problem the server answers before any route (no function key) names a trace id too.
    const refused = await h.call('GET', 'findings', { headers: { 'x-functions-key': 'wrong' } });
    expect(refused.status).toBe(401);
    expect(refused.body.traceId).toMatch(TRACE_ID);
  });
});

describe('telemetry of an audit run (throttled calls, run metrics)', () => {
  let t: TestServices;
  beforeAll(async () => {
    const fixture = operationsTenant();
    // Half of the Sales environment's Dataverse calls are throttled with Retry-After: 1. Only its
    // requests draw from the seeded generator, so whatever their order, the same draws decide them.
    fixture.faults = { seed: 7, [ENV.sales]: { throttleRate: 0.5, retryAfterSeconds: 1 } };
    t = await startTestServices(fixture);
  });
  afterAll(() => t.stop());

  it("a throttled call's span counts its retries and the Retry-After it waited; the run's metrics are emitted when it finalizes", async () => {
    telemetry.reset();
    const report = await t.audit.run('cli');
    expect(report.run.status).toBe('succeeded');

    const sales = telemetry.upstream('dataverse').filter((s) => s.attributes[A.target] === ENV.sales);
    const throttled = sales.filter((s) => (s.attributes[A.retries] as number) > 0);
    expect(throttled.length).toBeGreaterThan(0);
    for (const span of throttled) {
      // Every retry followed a 429 with Retry-After: 1, so the call waited 1 s per retry, and then succeeded.
      expect(span.attributes[A.throttleWaitMs]).toBe((span.attributes[A.retries] as number) * 1000);
      expect(span.attributes[A.status]).toBe(200);
    }
    // The other environments were not throttled.
    for (const span of telemetry.upstream('dataverse').filter((s) => s.attributes[A.target] !== ENV.sales)) expect(span.attributes[A.retries]).toBe(0);

    const run = report.run;
    expect(await telemetry.counter('steward.audit.runs', { status: 'succeeded', trigger: 'cli' })).toBe(1);
    expect(await telemetry.counter('steward.audit.targets')).toBe(run.targets.length);
    expect(await telemetry.counter('steward.audit.targets', { kind: 'environment', status: 'succeeded' })).toBe(
      run.targets.filter((x) => x.kind === 'environment' && x.status === 'succeeded').length,
    );
    for (const severity of ['critical', 'warning', 'info'] as const) {
      expect(await telemetry.counter('steward.audit.findings', { severity })).toBe(run.summary![severity]);
    }
    expect(run.summary!.warning + run.summary!.critical + run.summary!.info).toBeGreaterThan(0);
    // Every attempt of every upstream call of the run, retries included (a $batch span holds its batches' spans).
    const attempts = telemetry.upstream().filter((s) => !s.attributes[A.composite]).reduce((sum, s) => sum + 1 + (s.attributes[A.retries] as number), 0);
    expect(attempts).toBeGreaterThan(throttled.length);
    expect(await telemetry.counter('steward.audit.upstream_requests')).toBe(attempts);
    const duration = (await telemetry.metrics()).get('steward.audit.duration')!;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.dataPoints).toHaveLength(1);
  });
});

describe('telemetry of throttled Graph calls', () => {
  let t: TestServices;
  beforeAll(async () => {
    const fixture = operationsTenant();
    // A quarter of Graph's requests, and of the items inside a $batch, answer 429 with Retry-After: 1.
    fixture.faults = { seed: 3, graph: { throttleRate: 0.25, retryAfterSeconds: 1 } };
    t = await startTestServices(fixture);
  });
  afterAll(() => t.stop());

  it('a throttled request, and a $batch whose throttled items were sent again, show their retries and wait', async () => {
    telemetry.reset();
    await t.audit.run('cli');
    const throttled = telemetry.upstream('graph').filter((s) => (s.attributes[A.retries] as number) > 0);
    expect(throttled.length).toBeGreaterThan(0);
    for (const span of throttled) expect(span.attributes[A.throttleWaitMs]).toBe((span.attributes[A.retries] as number) * 1000);
    // Each batch sent is a span inside its chunk's composite span.
    const composite = telemetry.upstream('graph').filter((s) => s.attributes[A.composite]);
    expect(composite.length).toBeGreaterThan(0);
    for (const chunk of composite) {
      const batches = telemetry.upstream('graph').filter((s) => s.parentSpanContext?.spanId === chunk.spanContext().spanId);
      expect(batches.length).toBe(1 + (chunk.attributes[A.retries] as number));
      expect(batches.every((b) => b.attributes[A.operation] === 'POST /v1.0/$batch')).toBe(true);
    }
  });
});
