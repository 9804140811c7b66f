import { describe, expect, it } from 'vitest';
import { logEvent, withLogContext, type LogRecord } from '../../lib/telemetry/log.js';
import { inRequestSpan, isTraceId, parseTraceParent } from '../../lib/telemetry/request.js';
import { pathTemplate } from '../../lib/telemetry/upstream.js';

describe('upstream span operations', () => {
  it.each([
    ['https://graph.microsoft.com/v1.0/users/alice%40contoso.com?$select=id,displayName', '/v1.0/users/{id}'],
    ['/v1.0/users/0b5c1f8e-0000-4000-8000-000000000000/assignLicense', '/v1.0/users/{id}/assignLicense'],
    ['/v1.0/users/delta?$deltatoken=secret-token-value', '/v1.0/users/delta'],
    ['/v1.0/$batch', '/v1.0/$batch'],
    ['https://org.crm.dynamics.com/api/data/v9.2/systemusers(0b5c1f8e-0000-4000-8000-000000000000)?$expand=x', '/api/data/v9.2/systemusers({key})'],
    ["/api/data/v9.2/systemusers(applicationid='abc')", '/api/data/v9.2/systemusers({key})'],
    ['/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/Default-0b5c1f8e-0000-4000-8000-000000000000/addUser?api-version=2020-10-01', '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{id}/addUser'],
    ['/services/data/v62.0/query?q=SELECT+Id+FROM+User', '/services/data/v62.0/query'],
    ['/services/data/v62.0/query/01gD0000002HU6KIAW-2000', '/services/data/v62.0/query/{id}'],
    ['/services/data/v62.0/sobjects/User/005xx000001Sv6AAAS', '/services/data/v62.0/sobjects/User/{id}'],
  ])('%s → %s', (url, template) => {
    expect(pathTemplate(url)).toBe(template);
  });
});

describe('W3C trace context', () => {
  it('reads a traceparent and refuses malformed or invalid ones', () => {
    expect(parseTraceParent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
    expect(parseTraceParent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceParent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceParent('not a traceparent')).toBeUndefined();
    expect(parseTraceParent(undefined)).toBeUndefined();
  });

  it('gives a request a trace id of its own without an SDK, and the caller’s when there is one', async () => {
    const own = await inRequestSpan('GET /api/x', undefined, {}, async (traceId) => traceId);
    expect(isTraceId(own)).toBe(true);
    const another = await inRequestSpan('GET /api/x', undefined, {}, async (traceId) => traceId);
    expect(another).not.toBe(own);
    const continued = await inRequestSpan('GET /api/x', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', {}, async (traceId) => traceId);
    expect(continued).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('structured logs', () => {
  it('carry the invocation id and trace id, and never a field named as a secret', async () => {
    const lines: LogRecord[] = [];
    await withLogContext({ invocationId: 'inv-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', sink: (_level, record) => lines.push(record) }, async () => {
      await Promise.resolve();
      logEvent('info', 'user.created', { user: 'nora@contoso.com', password: 'Pa55!', clientSecret: 's', accessToken: 't', authorization: 'Bearer t' });
    });
    expect(lines).toEqual([{ level: 'info', event: 'user.created', user: 'nora@contoso.com', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', invocationId: 'inv-1' }]);
  });
});
