import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openRuntime, type Runtime } from '../../lib/cli/runtime.js';
import { demoTenant, ids } from '../../fixtures/demo-tenant.js';

/**
 * Issue 12 D1: with --fixture the simulator fills in only the settings that point at it; what the
 * caller set for everything else (read-only, app roles, alert URL, environments) still applies.
 */

let runtime: Runtime | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await runtime?.close();
  runtime = undefined;
});

describe('steward --fixture', () => {
  it("keeps the caller's settings and takes only the tenant connection from the simulator", async () => {
    const received: string[] = [];
    const logicApp = createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume().on('end', () => res.writeHead(202).end());
    });
    await new Promise<void>((resolve) => logicApp.listen(0, '127.0.0.1', resolve));
    const alertUrl = `http://127.0.0.1:${(logicApp.address() as AddressInfo).port}/hook`;
    vi.stubEnv('STEWARD_ALERT_URL', alertUrl);
    vi.stubEnv('STEWARD_READ_ONLY', 'true');
    vi.stubEnv('STEWARD_REQUIRE_APP_ROLES', 'true');
    vi.stubEnv('STEWARD_ENVIRONMENTS', ids.env('Prod'));
    vi.stubEnv('STEWARD_NON_INTERACTIVE_WARN_AT', '3');
    // A real tenant's connection must never reach the simulated one, nor the other way round.
    vi.stubEnv('STEWARD_GRAPH_URL', 'https://graph.microsoft.com');
    vi.stubEnv('STEWARD_CLIENT_SECRET', 'a-real-secret');
    runtime = await openRuntime({ fixture: demoTenant() });
    const { settings } = runtime;
    expect(settings.readOnly).toBe(true);
    expect(settings.requireAppRoles).toBe(true);
    expect(settings.environmentAllowList).toEqual([ids.env('Prod')]);
    expect(settings.nonInteractiveWarnAt).toBe(3);
    expect(settings.endpoints.graph).toBe(runtime.simulator!.urls.graph);
    expect(JSON.stringify(settings)).not.toContain('a-real-secret');

    const report = await runtime.audit.run('cli');
    const audited = report.run.targets.map((t) => t.id);
    expect(audited).toContain(ids.env('Prod'));
    expect(audited).not.toContain(ids.env('Sandbox'));
    expect(received).toEqual(['/hook']);
    logicApp.close();
  });
});
