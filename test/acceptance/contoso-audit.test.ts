import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * SPEC §6 acceptance: `steward audit --fixture ../shared/fixtures/contoso.json --json` yields exactly
 * the findings and target statuses of contoso.expected.json — run as a user runs it, through npm.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = join(root, '..', 'shared');
const fixture = join(shared, 'fixtures', 'contoso.json');
const expected = JSON.parse(readFileSync(join(shared, 'fixtures', 'contoso.expected.json'), 'utf8')) as {
  targets: Record<string, string>;
  findings: { checkId: string; targetId: string; subjectId: string; severity: string }[];
};

const run = promisify(execFile);

async function steward(...args: string[]) {
  const { stdout } = await run('npm', ['run', '--silent', 'steward', '--', ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as {
    status: string;
    targets: { id: string; status: string }[];
    findings: { checkId: string; targetId: string; subjectId: string; severity: string; state: string; title: string; remediation: string }[];
    resolved: unknown[];
  };
}

const key = (f: { checkId: string; targetId: string; subjectId: string; severity: string }) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`;

describe('contoso audit (SPEC §6)', () => {
  it('has ../shared beside the project', () => {
    expect(existsSync(fixture)).toBe(true);
  });

  it('produces exactly the expected findings and target statuses', async () => {
    const result = await steward('audit', '--fixture', fixture, '--json');
    expect(result.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
    expect(Object.fromEntries(result.targets.map((t) => [t.id, t.status]))).toEqual(expected.targets);
    expect(result.status).toBe('succeeded');
    expect(result.findings.every((f) => f.state === 'new' && f.title.length > 0 && /\b[A-Z]\d/.test(f.remediation))).toBe(true);
    expect(result.resolved).toEqual([]);
  });
});
