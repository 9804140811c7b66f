import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The deployed package is what `functions/index.ts` (package.json `main`) reaches. The simulator,
 * the fixtures and the tests are development tools: they must never be loaded by the Functions host.
 */
const root = join(import.meta.dirname, '..', '..');

function productionModules(): string[] {
  const configPath = join(root, 'tsconfig.build.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return program
    .getSourceFiles()
    .map((f) => relative(root, f.fileName))
    .filter((f) => !f.startsWith('node_modules') && !f.startsWith('..'));
}

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(folder, f));
}

const importsOf = (file: string) =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('the deployment boundary', () => {
  it('the Functions entry point reaches only functions/ and lib/, never the CLI, the simulator or the tests', () => {
    const modules = productionModules();
    expect(modules).toContain('functions/index.ts');
    const outside = modules.filter((m) => !m.startsWith('functions/') && !m.startsWith('lib/'));
    expect(outside).toEqual([]);
    expect(modules.filter((m) => m.startsWith('lib/cli/'))).toEqual([]);
  });

  it('no product module names test/, and only the CLI imports the simulator', () => {
    const offenders: string[] = [];
    for (const file of [...sourcesUnder('lib'), ...sourcesUnder('functions')]) {
      for (const specifier of importsOf(file)) {
        if (/(^|\/)test\//.test(specifier)) offenders.push(`${file} → ${specifier}`);
        if (/(^|\/)simulator\//.test(specifier) && !file.startsWith('lib/cli/')) offenders.push(`${file} → ${specifier}`);
        if (/(^|\/)fixtures\//.test(specifier) && !file.startsWith('lib/cli/')) offenders.push(`${file} → ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
