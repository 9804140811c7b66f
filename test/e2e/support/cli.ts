import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's folder, and its shipped demo fixture. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEMO = join(ROOT, 'fixtures', 'demo.json');

export interface CliAnswer {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * `npm run --silent steward -- …args` as an admin types it, from `cwd` (the repository by
 * default): the real binary in a child process, its output and exit code.
 */
export function steward(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliAnswer> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['--prefix', ROOT, 'run', '--silent', 'steward', '--', ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 }),
    );
  });
}
