/**
 * The Logic App trigger's schema (infra/alert-trigger.schema.json) from schemas/alert.schema.json,
 * simplified for the Logic Apps designer, which makes a token of each property it can give a plain
 * `type` to: `$ref`s are inlined, `const` and `enum` become their type, `anyOf` a list of types,
 * and the keywords of JSON Schema 2020-12 it does not read (`$schema`, `$id`, `$defs`, `format`,
 * `pattern`, bounds) are left out. Descriptions stay: the designer shows them on the tokens.
 *
 * Regenerate the file after changing the alert schema:
 *   npx tsx -e "import('./test/support/trigger-schema.ts').then((m) => m.writeTriggerSchema())"
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

const root = join(import.meta.dirname, '..', '..');
export const TRIGGER_SCHEMA_PATH = 'infra/alert-trigger.schema.json';

export function designerSchema(schema: Schema): Schema {
  const defs = (schema.$defs ?? {}) as Record<string, Schema>;
  const simplify = (node: Schema): Schema => {
    if (typeof node.$ref === 'string') {
      const target = defs[node.$ref.replace('#/$defs/', '')];
      if (!target) throw new Error(`unknown $ref ${node.$ref}`);
      return simplify({ ...target, ...(node.description ? { description: node.description } : {}), $ref: undefined });
    }
    const out: Schema = {};
    const type = typeOf(node, simplify);
    if (type !== undefined) out.type = type;
    if (typeof node.description === 'string') out.description = node.description;
    if (node.properties) out.properties = Object.fromEntries(Object.entries(node.properties as Record<string, Schema>).map(([k, v]) => [k, simplify(v)]));
    if (Array.isArray(node.required)) out.required = node.required;
    if (node.items) out.items = simplify(node.items as Schema);
    return out;
  };
  return simplify({ ...schema, $schema: undefined, $id: undefined, $defs: undefined, title: undefined });
}

function typeOf(node: Schema, simplify: (n: Schema) => Schema): unknown {
  if (node.type !== undefined) return node.type;
  if ('const' in node) return jsonType(node.const);
  if (Array.isArray(node.enum)) return unique(node.enum.map(jsonType));
  if (Array.isArray(node.anyOf)) return unique((node.anyOf as Schema[]).flatMap((n) => [simplify(n).type].flat()));
  return undefined;
}

const jsonType = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);

function unique(types: unknown[]): unknown {
  const set = [...new Set(types)];
  return set.length === 1 ? set[0] : set;
}

export function generatedTriggerSchema(): string {
  const schema = JSON.parse(readFileSync(join(root, 'schemas/alert.schema.json'), 'utf8')) as Schema;
  return `${JSON.stringify(designerSchema(schema), null, 2)}\n`;
}

export function writeTriggerSchema(): void {
  writeFileSync(join(root, TRIGGER_SCHEMA_PATH), generatedTriggerSchema());
}
