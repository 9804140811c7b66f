import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `steward snapshot --fixture contoso.json --out copy.json`, then `steward audit --fixture copy.json
 * --json`: exactly contoso's expected findings (compared as contoso-audit.test.ts compares), with
 * and without `--anonymize` — run as a user runs it, through npm.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = join(root, '..', 'shared');
const fixture = join(shared, 'fixtures', 'contoso.json');
const source = JSON.parse(readFileSync(fixture, 'utf8')) as {
  graph: { users: { userPrincipalName: string; displayName: string | null; mail: string | null }[]; groups: { displayName: string }[] };
  environments: { displayName: string; systemusers: { domainname: string | null; fullname: string | null }[] }[];
};
const expected = JSON.parse(readFileSync(join(shared, 'fixtures', 'contoso.expected.json'), 'utf8')) as {
  targets: Record<string, string>;
  findings: { checkId: string; targetId: string; subjectId: string; severity: string }[];
};
const work = mkdtempSync(join(tmpdir(), 'steward-snapshot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = promisify(execFile);
const steward = async (...args: string[]) => (await run('npm', ['run', '--silent', 'steward', '--', ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 })).stdout;
const key = (f: { checkId: string; targetId: string; subjectId: string; severity: string }) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`;

async function auditOf(file: string) {
  return JSON.parse(await steward('audit', '--fixture', file, '--json')) as {
    status: string;
    targets: { id: string; status: string }[];
    findings: { checkId: string; targetId: string; subjectId: string; severity: string }[];
  };
}

describe('contoso snapshot round trip (SPEC §6)', () => {
  it('a snapshot of contoso audits to exactly contoso’s 26 expected findings', async () => {
    const out = join(work, 'copy.json');
    await steward('snapshot', '--fixture', fixture, '--out', out);
    const result = await auditOf(out);
    expect(expected.findings).toHaveLength(26);
    expect(result.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
    expect(Object.fromEntries(result.targets.map((t) => [t.id, t.status]))).toEqual(expected.targets);
    expect(result.status).toBe('succeeded');
  });

  it('an anonymized snapshot holds none of contoso’s UPNs, display names or mails and audits the same', async () => {
    const out = join(work, 'anonymized.json');
    await steward('snapshot', '--fixture', fixture, '--out', out, '--anonymize');
    const text = readFileSync(out, 'utf8').toLowerCase();
    const names = [
      ...source.graph.users.flatMap((u) => [u.userPrincipalName, u.displayName, u.mail]),
      ...source.graph.groups.map((g) => g.displayName),
      ...source.environments.flatMap((e) => [e.displayName, ...e.systemusers.flatMap((r) => [r.domainname, r.fullname])]),
    ].filter((v): v is string => typeof v === 'string' && v.length > 0);
    expect(names.length).toBeGreaterThan(60);
    expect(names.filter((n) => text.includes(n.toLowerCase()))).toEqual([]);
    const result = await auditOf(out);
    expect(result.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
  });
});
