import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_CATALOGUE } from '../../lib/domain/check-catalogue.js';

/**
 * docs/checks/: one page per check of the catalogue (the report links each finding to its page), saying
 * what it finds, why (its fact ids), its severity, how to fix it and how to suppress it.
 */

const dir = join(import.meta.dirname, '..', '..', 'docs', 'checks');
const page = (id: string) => readFileSync(join(dir, `${id}.md`), 'utf8');

describe('docs/checks', () => {
  it('has a page for every check of the catalogue, and none for a check that does not exist', () => {
    const pages = readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => f.replace(/\.md$/, '')).sort();
    expect(pages).toEqual(CHECK_CATALOGUE.map((c) => c.id).sort());
  });

  describe.each(CHECK_CATALOGUE.map((c) => [c.id, c] as const))('%s', (id, check) => {
    it('names the check, its severities and its facts, and has every section', () => {
      const text = page(id);
      expect(text.startsWith(`# \`${id}\` — `)).toBe(true);
      // The summary table: | target | subject | severity | facts |
      const row = text.split('\n').find((line, i, lines) => lines[i - 1]?.startsWith('|---'));
      expect(row, 'the summary table').toBeDefined();
      const [, , , severity, facts] = row!.split('|').map((cell) => cell.trim());
      for (const s of check.severities) expect(severity).toContain(s);
      for (const fact of check.factIds) expect(facts!.split(/,\s*/)).toContain(fact);
      for (const fact of check.factIds) expect(text).toContain(`**${fact}**`);
      for (const section of ['## What it means', '## Facts', '## How to fix', '## How it is computed', '## How to suppress']) expect(text, section).toContain(section);
    });

    it('says how to suppress it with the suppression API, for this check', () => {
      const section = page(id).split('## How to suppress')[1]!;
      expect(section).toContain('POST /api/suppressions');
      expect(section).toContain(`"checkId": "${id}"`);
      expect(section).toMatch(new RegExp(`DELETE /api/suppressions/[^/]+/${id.replace('.', '\\.')}/`));
    });

    it('links only to pages that exist', () => {
      for (const [, target] of page(id).matchAll(/\]\(([^)#]+\.md)\)/g)) expect(existsSync(join(dir, target!)), target).toBe(true);
    });
  });
});
