import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { AlertDocument } from '../../lib/audit/alert-document.js';
import { checkAdaptiveCard } from '../support/adaptive-card.js';

/**
 * `npm run demo` as a user runs it: the alert document it prints for night 2 (what the Logic App
 * receives) validates against schemas/alert.schema.json, and its card is an Adaptive Card the SDK
 * accepts, with the demo's changes in it.
 */

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const HEADER = '━━ The alert document of night 2';

describe('npm run demo', () => {
  it("prints night 2's alert document, valid against its schema, with a valid Adaptive Card", { timeout: 180_000 }, async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'demo'], { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 170_000 });
    const after = stdout.slice(stdout.indexOf(HEADER));
    expect(after.startsWith(HEADER)).toBe(true);
    const json = after.slice(after.indexOf('\n{'), after.indexOf('\n}\n') + 2);
    const document = JSON.parse(json) as AlertDocument;

    const ajv = new Ajv2020.default({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'schemas/alert.schema.json'), 'utf8')) as object);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);

    const { problems, roundTrip } = checkAdaptiveCard(document.card);
    expect(problems).toEqual([]);
    expect(roundTrip).toEqual(document.card);
    // Night 2: the cap of 7 reached in Prod (T3) and Zoe's licence on a disabled account (E2).
    const text = JSON.stringify(document.card.body);
    expect(text).toContain('the cap of 7 is reached');
    expect(text).toContain('zoe');
    expect(document.card.actions?.map((a) => a.url)).toEqual([
      `https://steward-demo.azurewebsites.net/api/audits/${document.runId}/report`,
      'https://steward-demo.azurewebsites.net/api/findings?status=open',
    ]);
    expect(document.deliveryId.startsWith(`${document.runId}.`)).toBe(true);
  });
});
