import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { DEMO_JSON } from '../../fixtures/write-demo-json.js';
import { loadFixture, parseFixture } from '../../simulator/index.js';

describe('fixtures/demo.json', () => {
  it('is the demo tenant of fixtures/demo-tenant.ts (regenerate with npm run fixtures:demo)', () => {
    expect(JSON.parse(readFileSync(DEMO_JSON, 'utf8'))).toEqual(JSON.parse(JSON.stringify(demoTenant())));
    expect(loadFixture(DEMO_JSON)).toEqual(parseFixture(demoTenant()));
  });
});
