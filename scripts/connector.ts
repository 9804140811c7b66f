import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConnectorPackage, PACKAGE_FILES } from '../lib/connector/package.js';
import { parsePackage, readPackageDir, validatePackage } from '../lib/connector/validate.js';
import { apiRoutes } from '../lib/http/routes.js';

/**
 * `npm run connector:build`: writes connector/ from the route contracts.
 * `npm run connector:check`: builds it in memory, compares with the committed files, validates;
 * exits 1 on any difference or violation.
 */

const root = join(import.meta.dirname, '..');
const dir = join(root, 'connector');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const built = buildConnectorPackage(apiRoutes, version);
const readmePath = join(dir, 'README.md');
const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : null;

async function check(): Promise<number> {
  const committed = readPackageDir(dir, PACKAGE_FILES);
  const stale = PACKAGE_FILES.filter((name) => !committed[name]?.equals(built[name]));
  for (const name of stale) console.error(`connector/${name} is ${committed[name] ? 'out of date' : 'missing'}: run npm run connector:build`);
  const violations = await validatePackage(parsePackage(committed, readme), join(dir, 'schemas'));
  for (const v of violations) console.error(`${v.rule}: ${v.where}: ${v.message}`);
  console.log(`connector: ${PACKAGE_FILES.length - stale.length}/${PACKAGE_FILES.length} files up to date, ${violations.length} violations`);
  return stale.length > 0 || violations.length > 0 ? 1 : 0;
}

async function build(): Promise<number> {
  for (const name of PACKAGE_FILES) writeFileSync(join(dir, name), built[name]);
  const violations = await validatePackage(parsePackage(built, readme), join(dir, 'schemas'));
  for (const v of violations) console.error(`${v.rule}: ${v.where}: ${v.message}`);
  console.log(`connector: wrote ${PACKAGE_FILES.join(', ')}; ${violations.length} violations`);
  return violations.length > 0 ? 1 : 0;
}

const command = process.argv[2];
if (command !== 'build' && command !== 'check') {
  console.error('usage: tsx scripts/connector.ts build|check');
  process.exit(2);
}
process.exitCode = await (command === 'build' ? build() : check());
