import { readPng, ICON_SIZE } from './icon.js';

/**
 * Microsoft's published rules for a Power Platform connector package, applied to ours. Each rule
 * names its source (address and the rule or section there); the wording is ours. Rules marked
 * `Steward` are this project's own, and say why.
 */

export interface Violation {
  rule: string;
  where: string;
  message: string;
}

/** A package read back from its files: the two JSON documents, paconn's settings, the icon, the readme. */
export interface ParsedPackage {
  definition: Doc;
  properties: Doc;
  settings: Doc | null;
  icon: Buffer | null;
  readme: string | null;
}

export interface Rule {
  id: string;
  source: { url: string; rule: string };
  check(pkg: ParsedPackage): Violation[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const LEARN = 'https://learn.microsoft.com/en-us/connectors/custom-connectors';
const STRINGS = `${LEARN}/connector-string-guidance`;
const CODING = `${LEARN}/coding-standards`;
const VALIDATOR = `${LEARN}/certification-swagger-validator-rules`;
const SUBMISSION = `${LEARN}/certification-submission`;
const EXTENSIONS = `${LEARN}/openapi-extensions`;
const REPOSITORY = 'https://github.com/microsoft/PowerPlatformConnectors/blob/dev';
const CHECKLIST = `${REPOSITORY}/.github/pull_request_template.md`;
/** Steward's own rules (issue 13), explained in README.md, Power Automate connector. */
const STEWARD = 'README.md#power-automate-connector';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export interface OperationRef {
  path: string;
  method: string;
  operation: Doc;
  where: string;
}

export function operationsOf(definition: Doc): OperationRef[] {
  return Object.entries((definition.paths ?? {}) as Record<string, Doc>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({
      path,
      method,
      operation: item[method] as Doc,
      where: `${method.toUpperCase()} ${path} (${item[method].operationId ?? 'no operationId'})`,
    })),
  );
}

const parametersOf = (op: OperationRef) => ((op.operation.parameters ?? []) as Doc[]).filter((p) => !p.$ref);

/** Every operation parameter and, for a body, every property of its schema: what a maker fills in. */
function inputsOf(op: OperationRef): { where: string; input: Doc }[] {
  return parametersOf(op).flatMap((p) => [
    { where: `${op.where} parameter ${p.name}`, input: p },
    ...(p.in === 'body' ? propertiesOf(p.schema, `${op.where} body`) : []),
  ]);
}

/** Every property of a schema, into nested objects and array items. */
function propertiesOf(schema: Doc | undefined, where: string): { where: string; input: Doc }[] {
  if (!schema || typeof schema !== 'object') return [];
  const own = Object.entries((schema.properties ?? {}) as Record<string, Doc>).flatMap(([name, property]) => [
    { where: `${where}.${name}`, input: property },
    ...propertiesOf(property, `${where}.${name}`),
  ]);
  return [...own, ...(schema.items ? propertiesOf(schema.items as Doc, `${where}[]`) : [])];
}

const violation = (rule: string, where: string, message: string): Violation => ({ rule, where, message });

const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'from', 'in', 'of', 'on', 'or', 'the', 'to', 'with']);
export const isTitleCase = (text: string) =>
  text.split(/\s+/).every((word, i) => /^[A-Z0-9]/.test(word) || (i > 0 && SMALL_WORDS.has(word)));

/** Product names of the Power Platform, which a connector's title and description must not name. */
const PLATFORM_PRODUCTS = /\b(Power Automate|Power Apps|Power Pages|Power BI|Power Platform|Copilot Studio|Logic Apps|Dataverse)\b/i;

/** The categories the certification submission offers for `x-ms-connector-metadata`. */
const CATEGORIES = new Set([
  'AI', 'Business Management', 'Business Intelligence', 'Collaboration', 'Commerce', 'Communication', 'Content and Files',
  'Finance', 'Data', 'Human Resources', 'Internet of Things', 'IT Operations', 'Lifestyle and Entertainment', 'Marketing',
  'Productivity', 'Sales and CRM', 'Security', 'Social Media', 'Website',
]);

const perOperation = (check: (op: OperationRef, pkg: ParsedPackage) => Violation[]) => (pkg: ParsedPackage) =>
  operationsOf(pkg.definition).flatMap((op) => check(op, pkg));

const successResponses = (op: OperationRef) =>
  Object.entries((op.operation.responses ?? {}) as Record<string, Doc>).filter(([status]) => /^2\d\d$/.test(status));

export const RULES: Rule[] = [
  {
    id: 'connector-title',
    source: { url: STRINGS, rule: 'Connector information: title of at most 30 characters, without the word API' },
    check: ({ definition }) => {
      const title = definition.info?.title;
      if (typeof title !== 'string' || !title.trim()) return [violation('connector-title', 'info.title', 'the connector has no title')];
      return [
        ...(title.length > 30 ? [violation('connector-title', 'info.title', `${title.length} characters, at most 30`)] : []),
        ...(/\bAPI\b/i.test(title) ? [violation('connector-title', 'info.title', 'names the word API')] : []),
        ...(PLATFORM_PRODUCTS.test(title) ? [violation('connector-title', 'info.title', 'names a Power Platform product')] : []),
      ];
    },
  },
  {
    id: 'connector-description',
    source: { url: SUBMISSION, rule: 'Connector description: 30 to 500 characters; string guidance: no word API, no Power Platform product' },
    check: ({ definition }) => {
      const text = definition.info?.description;
      if (typeof text !== 'string') return [violation('connector-description', 'info.description', 'the connector has no description')];
      return [
        ...(text.length < 30 || text.length > 500 ? [violation('connector-description', 'info.description', `${text.length} characters, expected 30 to 500`)] : []),
        ...(/\bAPI\b/i.test(text) ? [violation('connector-description', 'info.description', 'names the word API')] : []),
        ...(PLATFORM_PRODUCTS.test(text) ? [violation('connector-description', 'info.description', 'names a Power Platform product')] : []),
      ];
    },
  },
  {
    id: 'operation-id-pascal-case',
    source: { url: CODING, rule: 'Actions and triggers: operationId in Pascal case, no hyphens or underscores' },
    check: perOperation((op) =>
      /^[A-Z][A-Za-z0-9]*$/.test(op.operation.operationId ?? '') ? [] : [violation('operation-id-pascal-case', op.where, `operationId '${op.operation.operationId}' is not PascalCase`)],
    ),
  },
  {
    id: 'operation-id-unique',
    source: { url: STRINGS, rule: 'Operations: operationId, the unique id of the operation' },
    check: ({ definition }) => {
      const seen = new Map<string, string>();
      return operationsOf(definition).flatMap((op) => {
        const id = op.operation.operationId as string;
        const first = seen.get(id);
        seen.set(id, op.where);
        return first ? [violation('operation-id-unique', op.where, `operationId '${id}' is also used by ${first}`)] : [];
      });
    },
  },
  {
    id: 'operation-summary',
    source: { url: STRINGS, rule: 'Operations: summary in sentence case, no slash, at most 80 characters, ending with a letter or digit' },
    check: perOperation((op) => {
      const summary = op.operation.summary;
      if (typeof summary !== 'string' || !summary) return [violation('operation-summary', op.where, 'no summary')];
      const problems = [
        summary.length > 80 && `${summary.length} characters, at most 80`,
        summary.includes('/') && 'holds a slash',
        !/[A-Za-z0-9]$/.test(summary) && 'ends with a character that is not a letter or digit',
        !/^[A-Z]/.test(summary) && 'does not begin with a capital letter (sentence case)',
        summary.split(' ').length > 2 && summary.split(' ').every((w) => /^[A-Z]/.test(w)) && 'is in Title Case, not sentence case',
      ].filter((p): p is string => typeof p === 'string');
      return problems.map((p) => violation('operation-summary', op.where, `summary '${summary}' ${p}`));
    }),
  },
  {
    id: 'operation-description',
    source: { url: CHECKLIST, rule: 'Detailed descriptions for all operations and parameters; string guidance: description in sentence case' },
    check: perOperation((op) => {
      const text = op.operation.description;
      if (typeof text !== 'string' || !text.trim()) return [violation('operation-description', op.where, 'no description')];
      if (text === op.operation.summary) return [violation('operation-description', op.where, 'the description repeats the summary')];
      return /^[A-Z].*\.$/s.test(text) ? [] : [violation('operation-description', op.where, 'the description is not a full sentence (capital letter to full stop)')];
    }),
  },
  {
    id: 'parameter-summary',
    source: { url: STRINGS, rule: 'Parameters: x-ms-summary in Title Case, at most 80 characters' },
    check: perOperation((op) =>
      inputsOf(op).flatMap(({ where, input }) => {
        const summary = input['x-ms-summary'];
        if (typeof summary !== 'string' || !summary) return [violation('parameter-summary', where, 'no x-ms-summary')];
        if (summary.length > 80) return [violation('parameter-summary', where, `x-ms-summary of ${summary.length} characters, at most 80`)];
        return isTitleCase(summary) ? [] : [violation('parameter-summary', where, `x-ms-summary '${summary}' is not in Title Case`)];
      }),
    ),
  },
  {
    id: 'parameter-description',
    source: { url: CHECKLIST, rule: 'Detailed descriptions for all operations and parameters' },
    check: perOperation((op) =>
      inputsOf(op).flatMap(({ where, input }) => (typeof input.description === 'string' && input.description.trim() ? [] : [violation('parameter-description', where, 'no description')])),
    ),
  },
  {
    id: 'path-parameter-url-encoding',
    source: { url: EXTENSIONS, rule: 'x-ms-url-encoding: single or double, on path parameters' },
    check: perOperation((op) =>
      parametersOf(op)
        .filter((p) => p.in === 'path' && !['single', 'double'].includes(p['x-ms-url-encoding']))
        .map((p) => violation('path-parameter-url-encoding', `${op.where} parameter ${p.name}`, 'a path parameter without x-ms-url-encoding single or double')),
    ),
  },
  {
    id: 'visibility-values',
    source: { url: EXTENSIONS, rule: 'x-ms-visibility: important, advanced or internal' },
    check: perOperation((op) =>
      [{ where: op.where, input: op.operation }, ...inputsOf(op)]
        .filter(({ input }) => input['x-ms-visibility'] !== undefined && !['important', 'advanced', 'internal'].includes(input['x-ms-visibility']))
        .map(({ where, input }) => violation('visibility-values', where, `x-ms-visibility '${input['x-ms-visibility']}'`)),
    ),
  },
  {
    id: 'idempotency-key-internal',
    source: { url: `${EXTENSIONS} · ${STEWARD}`, rule: 'x-ms-visibility internal: the Idempotency-Key header is set by the flow, never shown to a maker' },
    check: perOperation((op) =>
      parametersOf(op)
        .filter((p) => p.in === 'header' && /^idempotency-key$/i.test(p.name) && p['x-ms-visibility'] !== 'internal')
        .map((p) => violation('idempotency-key-internal', `${op.where} parameter ${p.name}`, 'Idempotency-Key is not x-ms-visibility internal')),
    ),
  },
  {
    id: 'no-body-in-get',
    source: { url: VALIDATOR, rule: 'BodyOrFormDataParameterInFetchOperationNotAllowed' },
    check: perOperation((op) =>
      op.method === 'get' && parametersOf(op).some((p) => p.in === 'body' || p.in === 'formData') ? [violation('no-body-in-get', op.where, 'a GET operation with a body or form data parameter')] : [],
    ),
  },
  {
    id: 'response-schema',
    source: { url: CHECKLIST, rule: 'Response schemas on every action, unless the response is dynamic' },
    check: perOperation((op) => {
      const success = successResponses(op);
      if (success.length === 0) return [violation('response-schema', op.where, 'no success (2xx) response')];
      const typed = success.filter(([status]) => status !== '204' && status !== '202');
      return typed
        .filter(([, response]) => !response.schema || (response.schema.type === 'object' && !response.schema.properties))
        .map(([status]) => violation('response-schema', `${op.where} ${status}`, 'the success response has no schema with properties'));
    }),
  },
  {
    id: 'response-property-docs',
    source: { url: STRINGS, rule: 'Response: x-ms-summary (Title Case) and description on each property' },
    check: perOperation((op) =>
      successResponses(op).flatMap(([status, response]) =>
        propertiesOf(response.schema, `${op.where} ${status}`).flatMap(({ where, input }) => [
          ...(typeof input['x-ms-summary'] === 'string' && isTitleCase(input['x-ms-summary']) ? [] : [violation('response-property-docs', where, 'no x-ms-summary in Title Case')]),
          ...(typeof input.description === 'string' && input.description ? [] : [violation('response-property-docs', where, 'no description')]),
        ]),
      ),
    ),
  },
  {
    id: 'problem-responses-untyped',
    source: { url: STEWARD, rule: 'A flow reads one answer schema: 4xx and 5xx are described, only default carries the problem schema' },
    check: perOperation((op) =>
      Object.entries((op.operation.responses ?? {}) as Record<string, Doc>)
        .filter(([status, response]) => /^[45]\d\d$/.test(status) && response.schema)
        .map(([status]) => violation('problem-responses-untyped', `${op.where} ${status}`, 'a problem response with a schema of its own')),
    ),
  },
  {
    id: 'produces-json',
    source: { url: STEWARD, rule: 'The connector produces application/json; problem+json is an error answer, not a content type to offer' },
    check: ({ definition }) => [
      ...(JSON.stringify(definition.produces) === JSON.stringify(['application/json']) ? [] : [violation('produces-json', 'produces', `produces ${JSON.stringify(definition.produces)}`)]),
      ...operationsOf(definition)
        .filter((op) => op.operation.produces && JSON.stringify(op.operation.produces) !== JSON.stringify(['application/json']))
        .map((op) => violation('produces-json', op.where, `produces ${JSON.stringify(op.operation.produces)}`)),
    ],
  },
  {
    id: 'dynamic-values',
    source: { url: EXTENSIONS, rule: 'x-ms-dynamic-values: operationId, value-path, value-title, parameters of the operation called' },
    check: checkDynamicValues,
  },
  {
    id: 'connector-metadata',
    // The category names are those the certified connectors of microsoft/PowerPlatformConnectors use.
    source: { url: SUBMISSION, rule: 'x-ms-connector-metadata: Website, Privacy policy and Categories (one of the offered categories)' },
    check: ({ definition }) => {
      const metadata = (definition['x-ms-connector-metadata'] ?? []) as { propertyName: string; propertyValue: string }[];
      const value = (name: string) => metadata.find((m) => m.propertyName === name)?.propertyValue;
      const urls = ['Website', 'Privacy policy'].filter((name) => !/^https:\/\/\S+$/.test(value(name) ?? '')).map((name) => violation('connector-metadata', 'x-ms-connector-metadata', `no https ${name}`));
      const categories = (value('Categories') ?? '').split(';').filter(Boolean);
      const bad = categories.length === 0 ? ['(none)'] : categories.filter((c) => !CATEGORIES.has(c));
      return [...urls, ...bad.map((c) => violation('connector-metadata', 'x-ms-connector-metadata', `category '${c}' is not one of the offered categories`))];
    },
  },
  {
    id: 'brand-color',
    source: { url: CHECKLIST, rule: 'A valid brand color, not #007ee5 or #ffffff' },
    check: ({ properties }) => {
      const color = String(properties.properties?.iconBrandColor ?? '');
      if (!/^#[0-9a-f]{6}$/i.test(color)) return [violation('brand-color', 'apiProperties.iconBrandColor', `'${color}' is not a #rrggbb colour`)];
      return ['#007ee5', '#ffffff'].includes(color.toLowerCase()) ? [violation('brand-color', 'apiProperties.iconBrandColor', `${color} is not accepted`)] : [];
    },
  },
  {
    id: 'api-key-secure',
    source: { url: `${REPOSITORY}/README.md`, rule: 'API Properties File: the key is a securestring connection parameter' },
    check: ({ definition, properties }) => {
      const keys = Object.values((definition.securityDefinitions ?? {}) as Record<string, Doc>).filter((s) => s.type === 'apiKey');
      const secure = Object.values((properties.properties?.connectionParameters ?? {}) as Record<string, Doc>).filter((p) => p.type === 'securestring');
      return keys.length > 0 && secure.length === 0 ? [violation('api-key-secure', 'apiProperties.connectionParameters', 'an api key security definition without a securestring connection parameter')] : [];
    },
  },
  {
    id: 'icon',
    // Also what certification reviewers ask of a merged connector (microsoft/PowerPlatformConnectors pull request 3473).
    source: { url: SUBMISSION, rule: 'Connector icon: PNG, 230 × 230 pixels, background neither white nor transparent' },
    check: ({ icon }) => {
      const png = icon ? readPng(icon) : null;
      if (!png) return [violation('icon', 'icon.png', 'no PNG icon')];
      return [
        ...(png.width !== ICON_SIZE || png.height !== ICON_SIZE ? [violation('icon', 'icon.png', `${png.width} × ${png.height} pixels, expected 230 × 230`)] : []),
        ...(png.colorType === 4 || png.colorType === 6 ? [violation('icon', 'icon.png', 'has an alpha channel (transparent background)')] : []),
        ...(png.corner.every((c) => c > 240) ? [violation('icon', 'icon.png', 'a white background')] : []),
      ];
    },
  },
  {
    id: 'package-readme',
    source: { url: `${REPOSITORY}/README.md`, rule: 'Files to Include: a README.md beside the definition and the properties' },
    check: ({ readme }) => (readme && readme.trim().length > 0 ? [] : [violation('package-readme', 'README.md', 'the package has no README.md')]),
  },
];

/** Each picker names an operation of the document, the fields it reads, and parameters both sides have. */
function checkDynamicValues({ definition }: ParsedPackage): Violation[] {
  const operations = operationsOf(definition);
  const byId = new Map(operations.map((op) => [op.operation.operationId as string, op]));
  return operations.flatMap((op) =>
    inputsOf(op).flatMap(({ where, input }) => {
      const dynamic = input['x-ms-dynamic-values'] as Doc | undefined;
      if (!dynamic) return [];
      const target = byId.get(dynamic.operationId);
      if (!target) return [violation('dynamic-values', where, `operation '${dynamic.operationId}' is not in the document`)];
      const found: Violation[] = [];
      for (const key of ['value-path', 'value-title']) if (typeof dynamic[key] !== 'string') found.push(violation('dynamic-values', where, `no ${key}`));
      const targetNames = new Set(parametersOf(target).map((p) => p.name));
      const ownNames = new Set(parametersOf(op).map((p) => p.name));
      for (const [name, value] of Object.entries((dynamic.parameters ?? {}) as Record<string, Doc>)) {
        if (!targetNames.has(name)) found.push(violation('dynamic-values', where, `'${dynamic.operationId}' has no parameter '${name}'`));
        if (value?.parameter && !ownNames.has(value.parameter)) found.push(violation('dynamic-values', where, `no parameter '${value.parameter}' to pass to '${dynamic.operationId}'`));
      }
      const answer = successResponses(target)[0]?.[1]?.schema as Doc | undefined;
      const collection = answer?.properties?.[dynamic['value-collection'] ?? 'value'];
      if (collection?.type !== 'array') found.push(violation('dynamic-values', where, `'${dynamic.operationId}' answers no array '${dynamic['value-collection'] ?? 'value'}'`));
      else for (const key of ['value-path', 'value-title']) if (!collection.items?.properties?.[dynamic[key]]) found.push(violation('dynamic-values', where, `the items of '${dynamic.operationId}' have no '${dynamic[key]}'`));
      return found;
    }),
  );
}
