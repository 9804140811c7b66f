import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPng } from '../../lib/connector/icon.js';
import { buildConnectorPackage, PACKAGE_FILES } from '../../lib/connector/package.js';
import { RULES, type ParsedPackage } from '../../lib/connector/rules.js';
import { parsePackage, readPackageDir, validatePackage } from '../../lib/connector/validate.js';
import { apiRoutes } from '../../lib/http/routes.js';

/**
 * The connector package (connector/): generated from the route contracts, committed, and checked
 * against the published connector rules (lib/connector/rules.ts) and the JSON schemas of
 * microsoft/PowerPlatformConnectors. The validator is proven by feeding it broken packages.
 */

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'connector');
const schemas = join(dir, 'schemas');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const built = buildConnectorPackage(apiRoutes, version);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
/** A fresh parsed copy of the generated package, to break in one place. */
const fresh = (): ParsedPackage & { definition: Any; properties: Any } => parsePackage(built, readFileSync(join(dir, 'README.md'), 'utf8')) as Any;
const rulesBroken = async (pkg: ParsedPackage) => [...new Set((await validatePackage(pkg, schemas)).map((v) => v.rule))].sort();

describe('the connector package', () => {
  it('is committed as the route contracts generate it (npm run connector:build)', () => {
    const committed = readPackageDir(dir, PACKAGE_FILES);
    for (const name of PACKAGE_FILES) expect(committed[name]?.equals(built[name]), `connector/${name}`).toBe(true);
  });

  it('breaks none of the rules', async () => {
    expect(await validatePackage(fresh(), schemas)).toEqual([]);
  });

  it('has a 230 × 230 opaque PNG icon on the brand colour', () => {
    const png = readPng(built['icon.png'])!;
    expect(png).toMatchObject({ width: 230, height: 230, colorType: 2 });
    const brand = JSON.parse(built['apiProperties.json'].toString()).properties.iconBrandColor as string;
    expect(png.corner.map((c) => c.toString(16).padStart(2, '0')).join('')).toBe(brand.slice(1));
  });

  it('asks the connection for the function key as a secure parameter, sent as x-functions-key', () => {
    const properties = JSON.parse(built['apiProperties.json'].toString());
    expect(properties.properties.connectionParameters.api_key).toMatchObject({ type: 'securestring', uiDefinition: { constraints: { clearText: false } } });
    const definition = JSON.parse(built['apiDefinition.swagger.json'].toString());
    expect(definition.securityDefinitions).toEqual({ api_key: { type: 'apiKey', in: 'header', name: 'x-functions-key' } });
  });

  it('names a source for every rule', () => {
    for (const rule of RULES) {
      expect(rule.source.url, rule.id).toMatch(/^(https:\/\/|README\.md)/);
      expect(rule.source.rule.length, rule.id).toBeGreaterThan(5);
    }
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });
});

describe('the connector validator', () => {
  it('names a camelCase operation id, a missing x-ms-summary and a missing description', async () => {
    const pkg = fresh();
    const create = pkg.definition.paths['/users'].post;
    create.operationId = 'createUser';
    delete create.parameters.find((p: Any) => p.name === 'Idempotency-Key')['x-ms-summary'];
    delete pkg.definition.paths['/findings'].get.parameters[0].description;
    delete pkg.definition.paths['/environments'].get.description;
    expect(await rulesBroken(pkg)).toEqual(['operation-description', 'operation-id-pascal-case', 'parameter-description', 'parameter-summary']);
  });

  it('names summaries that end with a full stop, hold a slash, run past 80 characters or are in Title Case', async () => {
    const pkg = fresh();
    const violations = async (summary: string) => {
      pkg.definition.paths['/environments'].get.summary = summary;
      return (await validatePackage(pkg, schemas)).filter((v) => v.rule === 'operation-summary').length;
    };
    expect(await violations('List environments.')).toBe(1);
    expect(await violations('List environments/orgs')).toBe(1);
    expect(await violations(`List ${'very '.repeat(20)}many environments`)).toBe(1);
    expect(await violations('List All Environments')).toBe(1);
    expect(await violations('List environments')).toBe(0);
  });

  it('names a parameter summary not in Title Case and an undocumented answer property', async () => {
    const pkg = fresh();
    pkg.definition.paths['/findings'].get.parameters[0]['x-ms-summary'] = 'target id';
    delete pkg.definition.paths['/environments'].get.responses['200'].schema.properties.value.items.properties.id['x-ms-summary'];
    expect(await rulesBroken(pkg)).toEqual(['parameter-summary', 'response-property-docs']);
  });

  it('names a visible Idempotency-Key, a path parameter encoded by default and a GET with a body', async () => {
    const pkg = fresh();
    pkg.definition.paths['/users'].post.parameters.find((p: Any) => p.name === 'Idempotency-Key')['x-ms-visibility'] = 'advanced';
    delete pkg.definition.paths['/environments/{env}/roles'].get.parameters[0]['x-ms-url-encoding'];
    pkg.definition.paths['/environments'].get.parameters.push({ name: 'body', in: 'body', 'x-ms-summary': 'Body', description: 'A body.', schema: { type: 'object' } });
    expect(await rulesBroken(pkg)).toEqual(['idempotency-key-internal', 'no-body-in-get', 'path-parameter-url-encoding']);
  });

  it('names problem+json in produces, a problem answer with its own schema, and a success without a schema', async () => {
    const pkg = fresh();
    pkg.definition.produces = ['application/json', 'application/problem+json'];
    pkg.definition.paths['/findings'].get.responses['400'].schema = { $ref: '#/definitions/Problem' };
    pkg.definition.paths['/environments'].get.responses['200'] = { description: 'Done.', schema: { type: 'object' } };
    expect(await rulesBroken(pkg)).toEqual(expect.arrayContaining(['problem-responses-untyped', 'produces-json', 'response-schema']));
  });

  it('names a picker that calls an unknown operation or passes a parameter the target lacks', async () => {
    const pkg = fresh();
    const params = pkg.definition.paths['/environments/{env}/users/{user}/diagnosis'].get.parameters;
    params.find((p: Any) => p.name === 'env')['x-ms-dynamic-values'].operationId = 'ListTheEnvironments';
    params.find((p: Any) => p.name === 'user')['x-ms-dynamic-values'].parameters = { environment: { parameter: 'env' } };
    const found = (await validatePackage(pkg, schemas)).filter((v) => v.rule === 'dynamic-values').map((v) => v.message);
    expect(found).toEqual([`operation 'ListTheEnvironments' is not in the document`, `'ListEnvironmentUsers' has no parameter 'environment'`]);
  });

  it('names the title, the metadata, the brand colour, the key, the icon and the readme of a broken package', async () => {
    const pkg = fresh();
    pkg.definition.info.title = 'Steward API for Power Automate flows';
    pkg.definition['x-ms-connector-metadata'] = [{ propertyName: 'Categories', propertyValue: 'Gadgets' }];
    pkg.properties.properties.iconBrandColor = '#007ee5';
    pkg.properties.properties.connectionParameters.api_key.type = 'string';
    pkg.icon = Buffer.from('not a png');
    pkg.readme = null;
    expect(await rulesBroken(pkg)).toEqual(['api-key-secure', 'brand-color', 'connector-metadata', 'connector-title', 'icon', 'package-readme']);
  });

  it('names what the Swagger 2.0 and PowerPlatformConnectors schemas refuse', async () => {
    const pkg = fresh();
    pkg.definition.servers = [{ url: 'https://x' }];
    pkg.properties.properties.colour = 'blue';
    expect(await rulesBroken(pkg)).toEqual(['json-schema:apiDefinition.swagger.schema.json', 'json-schema:paconn-apiProperties.schema.json', 'swagger-2.0']);
  });
});
