import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO, steward } from './support/cli.js';

/**
 * Issue 14: the shipped fixtures/demo.json runs from a clone; relative --fixture, --report and
 * --out paths are read from the folder the admin is in; a broken fixture names the file and where.
 */

const work = mkdtempSync(join(tmpdir(), 'steward-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fixtures from the current folder', () => {
  it('a relative --fixture and --report are taken from the current folder', async () => {
    writeFileSync(join(work, 'tenant.json'), readFileSync(DEMO));
    const { stdout, code } = await steward(['audit', '--fixture', 'tenant.json', '--json', '--report', 'report.html'], { cwd: work });
    expect(JSON.parse(stdout).status).toBe('succeeded');
    expect(code).toBe(0);
    expect(readFileSync(join(work, 'report.html'), 'utf8')).toContain('<html');
  });

  it('the README example runs from the repository with fixtures/demo.json', async () => {
    const { stdout, code } = await steward(['readiness', '--fixture', 'fixtures/demo.json', '--org', 'Wingtip (Salesforce)', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).org.name).toBe('Wingtip (Salesforce)');
  });

  it('a malformed fixture names the file, the line and the column', async () => {
    writeFileSync(join(work, 'broken.json'), '{\n  "tenant": {\n    "id": "x",\n  }\n}\n');
    const { stderr, code } = await steward(['audit', '--fixture', 'broken.json'], { cwd: work });
    expect(code).toBe(3);
    expect(stderr).toContain(`The fixture ${join(work, 'broken.json')} is not valid JSON at line 4, column 3`);
  });

  it('a missing fixture names the path it looked for', async () => {
    const { stderr, code } = await steward(['audit', '--fixture', 'nowhere.json'], { cwd: work });
    expect(code).toBe(3);
    expect(stderr).toContain(`Cannot read the fixture ${join(work, 'nowhere.json')}: no such file.`);
  });
});
