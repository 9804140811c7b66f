import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { RULES, type ParsedPackage, type Violation } from './rules.js';

/**
 * Checks a connector package: Swagger 2.0 validity (swagger-parser), the JSON schemas of
 * microsoft/PowerPlatformConnectors (`schemas/`, kept in connector/schemas/ with their source),
 * then every rule of rules.ts. Answers every violation, each naming its rule.
 */

const SCHEMA_SOURCE = 'https://github.com/microsoft/PowerPlatformConnectors/tree/dev/schemas';

function schema(dir: string, file: string): Record<string, unknown> {
  // The upstream schemas hold a few `//` line comments (JSONC): dropped, strings kept, before parsing.
  const text = readFileSync(join(dir, file), 'utf8').replace(/("(?:[^"\\\n]|\\.)*")|\/\/[^\n]*/g, (_, quoted: string | undefined) => quoted ?? '');
  return JSON.parse(text) as Record<string, unknown>;
}

/** paconn's schemas say draft-07 but name themselves with draft-04's `id`: Ajv wants `$id`. */
function asDraft07({ id, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return { ...rest, $id: id };
}

type Validator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

function schemaValidators(schemasDir: string): Record<'definition' | 'properties' | 'settings', Validator> {
  // The Swagger schema is draft-04 (it refers to the draft-04 meta-schema); paconn's are draft-07.
  const draft04 = new AjvDraft04.default({ strict: false, allErrors: true });
  addFormats.default(draft04 as never);
  const draft07 = new Ajv.default({ strict: false, allErrors: true });
  addFormats.default(draft07 as never);
  return {
    definition: draft04.compile(schema(schemasDir, 'apiDefinition.swagger.schema.json')) as Validator,
    properties: draft07.compile(asDraft07(schema(schemasDir, 'paconn-apiProperties.schema.json'))) as Validator,
    settings: draft07.compile(asDraft07(schema(schemasDir, 'paconn-settings.schema.json'))) as Validator,
  };
}

function schemaViolations(name: string, file: string, validate: Validator, data: unknown): Violation[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => ({ rule: `json-schema:${name}`, where: `${file}${e.instancePath || ''}`, message: `${e.message ?? 'invalid'} (${SCHEMA_SOURCE}/${name})` }));
}

export async function validatePackage(pkg: ParsedPackage, schemasDir: string): Promise<Violation[]> {
  const found: Violation[] = [];
  try {
    await SwaggerParser.validate(structuredClone(pkg.definition) as never);
  } catch (error) {
    found.push({ rule: 'swagger-2.0', where: 'apiDefinition.swagger.json', message: `${(error as Error).message} (https://swagger.io/specification/v2/)` });
  }
  const validators = schemaValidators(schemasDir);
  found.push(...schemaViolations('apiDefinition.swagger.schema.json', 'apiDefinition.swagger.json', validators.definition, pkg.definition));
  found.push(...schemaViolations('paconn-apiProperties.schema.json', 'apiProperties.json', validators.properties, pkg.properties));
  if (pkg.settings) found.push(...schemaViolations('paconn-settings.schema.json', 'settings.json', validators.settings, pkg.settings));
  for (const rule of RULES) found.push(...rule.check(pkg));
  return found;
}

/** A package as files: what `connector:check` reads from connector/, or builds in memory. */
export function parsePackage(files: Partial<Record<string, Buffer>>, readme: string | null): ParsedPackage {
  const json = (name: string) => (files[name] ? (JSON.parse(files[name]!.toString('utf8')) as Record<string, unknown>) : null);
  return {
    definition: json('apiDefinition.swagger.json') ?? {},
    properties: json('apiProperties.json') ?? {},
    settings: json('settings.json'),
    icon: files['icon.png'] ?? null,
    readme,
  };
}

export function readPackageDir(dir: string, names: readonly string[]): Partial<Record<string, Buffer>> {
  return Object.fromEntries(names.filter((n) => existsSync(join(dir, n))).map((n) => [n, readFileSync(join(dir, n))]));
}
