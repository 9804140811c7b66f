import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, ROOT, steward } from './support/cli.js';

/**
 * Issue 14: errors name the setting, file or key at fault (a bad --storage, a port in use, a
 * missing or wrong function key, a suppression of a check that does not exist), and the audit's
 * progress reaches stderr off a terminal, a line per finished target, naming a target that waits on
 * retries. Each through the real binary.
 */

const work = mkdtempSync(join(tmpdir(), 'steward-errors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('settings and ports', () => {
  it('a --storage that is not a connection string names --storage and what is expected', async () => {
    const { stderr, code } = await steward(['audit', '--fixture', DEMO, '--storage', 'not-a-connection-string']);
    expect(code).toBe(3);
    expect(stderr).toContain('--storage (STEWARD_STORAGE_CONNECTION): expected a storage connection string');
    expect(stderr).not.toContain('Invalid URL');
  });

  it('a STEWARD_STORAGE_CONNECTION with an endpoint that is not a URL names the setting and the endpoint', async () => {
    const { stderr, code } = await steward(['list', 'environments'], {
      env: { STEWARD_TENANT_ID: 'contoso', STEWARD_STORAGE_CONNECTION: 'AccountName=x;AccountKey=eA==;TableEndpoint=nope' },
    });
    expect(code).toBe(3);
    expect(stderr).toContain('STEWARD_STORAGE_CONNECTION: expected a storage connection string');
    expect(stderr).toContain('the tableendpoint "nope" is not an http(s) URL');
  });

  it('serve on a port in use says so and points at --port', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { stderr, code } = await steward(['serve', '--fixture', DEMO, '--port', String(port)]);
      expect(code).toBe(3);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`);
      expect(stderr).toContain('--port');
    } finally {
      taken.close();
    }
  });
});

describe('steward serve: keys and suppressions', () => {
  let child: ChildProcess;
  let api: string;
  beforeAll(async () => {
    // Its own process group, so that the npm wrapper and the server it starts stop together.
    child = spawn('npm', ['run', '--silent', 'steward', '--', 'serve', '--fixture', DEMO, '--port', '0', '--key', 'right-key'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    api = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const url = /Steward API: (\S+)/.exec(out)?.[1];
        if (url) resolve(url);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
  });
  afterAll(() => {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  });

  const call = (path: string, init: RequestInit = {}) => fetch(new URL(path, api), init);

  it('no key: 401 "A function key is required"; a wrong one: 401 "Invalid function key"', async () => {
    const missing = await call('audits/latest');
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { title: string }).title).toBe('A function key is required');
    const wrong = await call('audits/latest', { headers: { 'x-functions-key': 'wrong-key' } });
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as { title: string; detail: string };
    expect(body.title).toBe('Invalid function key');
    expect(body.detail).toContain('x-functions-key header');
    expect((await call('audits/latest?code=wrong-key')).status).toBe(401);
  });

  it('a suppression of a check that does not exist: 400 naming checkId; of one that does: 201', async () => {
    const suppress = (checkId: string) =>
      call('suppressions', {
        method: 'POST',
        headers: { 'x-functions-key': 'right-key', 'content-type': 'application/json' },
        body: JSON.stringify({ checkId, targetId: 'tenant', reason: 'Under review', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() }),
      });
    const unknown = await suppress('entra.no-such-check');
    expect(unknown.status).toBe(400);
    const problem = (await unknown.json()) as { errors: unknown[] };
    expect(problem.errors).toEqual([{ in: 'body', pointer: '#/checkId', detail: expect.stringContaining("expected the id of one of the audit's checks: entra.disabled-user-licensed, ") }]);
    expect((await suppress('entra.disabled-user-licensed')).status).toBe(201);
  });
});

describe('progress off a terminal', () => {
  it('a line per finished target on stderr, and a target waiting on retries named', async () => {
    const tenant = JSON.parse(readFileSync(DEMO, 'utf8'));
    tenant.faults = { '00D8d000002WNGTEAA': { down: true } };
    writeFileSync(join(work, 'down.json'), JSON.stringify(tenant));
    const { stdout, stderr, code } = await steward(['audit', '--fixture', 'down.json', '--json'], { cwd: work, env: { STEWARD_HTTP_RETRIES: '1' } });
    expect(code).toBe(2);
    expect(JSON.parse(stdout).targets).toHaveLength(8);
    const lines = stderr.trim().split('\n');
    expect(lines).toContain('[8/8] Wingtip (Salesforce): failed (salesforce getOrgSnapshot for 00D8d000002WNGTEAA failed (HTTP 503 SERVER_UNAVAILABLE): token request: salesforce:00D8d000002WNGTEAA is down)');
    expect(lines.filter((l) => /^\[\d\/8\] .+: succeeded$/.test(l))).toHaveLength(5);
    expect(lines).toContainEqual(expect.stringMatching(/^Wingtip \(Salesforce\): salesforce answered HTTP 503, retrying in [\d.]+ m?s \(try 2\)$/));
  });
});
