import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { PROBLEM_CONTENT_TYPE, problemFromError, serviceErrorProblem } from '../../lib/http/problem.js';
import { NotFoundError, RuleRefusal, UpstreamRefusal } from '../../lib/domain/errors.js';

const body = (response: { body?: unknown }) => response.body as Record<string, unknown>;

describe('problem+json mapping', () => {
  it('keeps an upstream 404 a 404', () => {
    const response = serviceErrorProblem(new ServiceError({ service: 'graph', operation: 'getUser', status: 404 }));
    expect(response.status).toBe(404);
    expect(response.headers?.['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('turns throttling that outlasted the retries into 503 with the Retry-After the service asked for', () => {
    const response = serviceErrorProblem(new ServiceError({ service: 'dataverse', operation: 'listSystemUsers', status: 429, retryAfterSeconds: 42 }));
    expect(response.status).toBe(503);
    expect(response.headers?.['retry-after']).toBe('42');
    expect(body(response)).toMatchObject({ service: 'dataverse', operation: 'listSystemUsers' });
  });

  it('gives a 503 a Retry-After even when the service named none', () => {
    const response = serviceErrorProblem(new ServiceError({ service: 'powerplatform', operation: 'addUser', status: 504 }));
    expect(response.status).toBe(503);
    expect(Number(response.headers?.['retry-after'])).toBeGreaterThan(0);
  });

  it('answers any other upstream failure 502 naming the service and the call', () => {
    const response = serviceErrorProblem(new ServiceError({ service: 'salesforce', operation: 'activateUser', status: 500, code: 'UNKNOWN_EXCEPTION' }));
    expect(response.status).toBe(502);
    expect(body(response).detail).toContain('Salesforce');
    expect(body(response).detail).toContain('activateUser');
    expect(body(response).upstreamCode).toBe('UNKNOWN_EXCEPTION');
  });

  it('maps the domain refusals: not found → 404, rule → 409 with the fact id, upstream refusal → 422', () => {
    expect(problemFromError(new NotFoundError('environment', 'e1')).status).toBe(404);
    const refusal = problemFromError(new RuleRefusal('non-interactive-cap', 'full', 'T3', { enabledNonInteractive: 7 }));
    expect(refusal.status).toBe(409);
    expect(body(refusal)).toMatchObject({ factId: 'T3', code: 'non-interactive-cap', enabledNonInteractive: 7, detail: 'full' });
    expect(problemFromError(new UpstreamRefusal('graph', 'createUser', 'domain not verified')).status).toBe(422);
  });

  it('answers an unexpected error 500 problem+json without leaking its message', () => {
    const response = problemFromError(new TypeError('secret-ish internals at line 12'));
    expect(response.status).toBe(500);
    expect(response.headers?.['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(JSON.stringify(response.body)).not.toContain('internals');
  });

  it('always carries the RFC 9457 members', () => {
    const response = problemFromError(new RuleRefusal('no-dataverse', 'no database', 'D3'));
    expect(Object.keys(body(response))).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    expect(body(response).status).toBe(409);
  });
});
