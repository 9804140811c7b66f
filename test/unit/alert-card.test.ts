import { describe, expect, it } from 'vitest';
import { buildAlertCard, CARD_TOP_FINDINGS, type AlertCardInput } from '../../lib/audit/alert-card.js';
import { checkAdaptiveCard } from '../support/adaptive-card.js';

/**
 * The alert's Teams card (lib/audit/alert-card.ts), checked with the Adaptive Cards SDK: it parses
 * as schema 1.5 with no warning, validates with no failure, and serialises back to itself (so every
 * property on it is one the SDK knows, none silently dropped by a renderer).
 */

const BASE = 'https://steward.example.net';

function input(overrides: Partial<AlertCardInput> = {}): AlertCardInput {
  return {
    runId: '20261204T020000Z-0a1b2c3d',
    runStatus: 'partial',
    summary: { critical: 1, warning: 2, info: 3, alerted: 2, resolved: 1, suppressed: 1, reclaimableMonthly: [] },
    links: { run: `${BASE}/api/audits/r`, report: `${BASE}/api/audits/r/report`, findings: `${BASE}/api/findings?status=open` },
    findings: [
      { change: 'severity-raised', severity: 'critical', title: '7 non-interactive users in Prod: the cap is reached', targetId: 'env-prod', link: `${BASE}/api/findings?targetId=env-prod&checkId=dataverse.non-interactive-cap` },
      { change: 'opened', severity: 'warning', title: 'zoe@tailspin.example is disabled in Entra ID but still holds 1 license(s)', targetId: 'tenant', link: null },
    ],
    ...overrides,
  };
}

/** Every string in the card, in order (text of blocks and runs, facts, button titles). */
function texts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(texts);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => (['text', 'title', 'value'].includes(key) && typeof v === 'string' ? [v] : texts(v)));
  }
  return [];
}

describe('the alert card', () => {
  it('is an Adaptive Card 1.5 that the Adaptive Cards SDK parses and validates without a problem', () => {
    const card = buildAlertCard(input({ summary: { ...input().summary, reclaimableMonthly: [{ currency: 'EUR', amount: 30.3 }, { currency: 'USD', amount: 12 }] } }));
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    const { problems, roundTrip } = checkAdaptiveCard(card);
    expect(problems).toEqual([]);
    expect(roundTrip).toEqual(card);
  });

  it('shows the counts by severity, what changed, and buttons to the report and the findings API', () => {
    const card = buildAlertCard(input());
    const facts = (card.body.find((b) => b.type === 'FactSet') as { facts: { title: string; value: string }[] }).facts;
    expect(Object.fromEntries(facts.map((f) => [f.title, f.value]))).toEqual({ Critical: '1', Warning: '2', Info: '3', 'Resolved in this run': '1', Suppressed: '1' });
    const text = texts(card.body).join('\n');
    expect(text).toContain('Steward audit: 2 findings need attention');
    expect(text).toContain('Run 20261204T020000Z-0a1b2c3d · partial');
    expect(text).toContain('Critical\n · worse · \n7 non-interactive users in Prod: the cap is reached');
    expect(text).toContain('Warning\n · new · \nzoe@tailspin.example is disabled in Entra ID but still holds 1 license(s)');
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the report', url: `${BASE}/api/audits/r/report` },
      { type: 'Action.OpenUrl', title: 'Open findings (API)', url: `${BASE}/api/findings?status=open` },
    ]);
    // A finding with a link opens it when tapped; one without has no dead action.
    const blocks = card.body.filter((b) => b.type === 'Container');
    expect(blocks.map((b) => (b.selectAction as { url?: string } | undefined)?.url ?? null)).toEqual([input().findings[0]!.link, null]);
  });

  it('shows the reclaimable cost per currency only when some licence is priced', () => {
    const factTitles = (i: AlertCardInput) => texts(buildAlertCard(i).body.find((b) => b.type === 'FactSet'));
    expect(factTitles(input())).not.toContain('Reclaimable a month');
    const priced = factTitles(input({ summary: { ...input().summary, reclaimableMonthly: [{ currency: 'EUR', amount: 30.3 }, { currency: 'USD', amount: 12 }] } }));
    expect(priced.slice(-2)).toEqual(['Reclaimable a month', '30.30 EUR + 12.00 USD']);
  });

  it(`lists the first ${CARD_TOP_FINDINGS} changed findings and counts the rest`, () => {
    const many = Array.from({ length: CARD_TOP_FINDINGS + 3 }, (_, i) => ({ change: 'opened', severity: 'warning' as const, title: `finding ${i}`, targetId: 'tenant', link: null }));
    const card = buildAlertCard(input({ findings: many, summary: { ...input().summary, alerted: many.length } }));
    expect(card.body.filter((b) => b.type === 'Container')).toHaveLength(CARD_TOP_FINDINGS);
    const text = texts(card.body);
    expect(text).toContain(`finding ${CARD_TOP_FINDINGS - 1}`);
    expect(text).not.toContain(`finding ${CARD_TOP_FINDINGS}`);
    expect(text).toContain('and 3 more in the report');
    expect(checkAdaptiveCard(card).problems).toEqual([]);
  });

  it('has no buttons without a public base URL, and still validates', () => {
    const card = buildAlertCard(input({ links: { run: null, report: null, findings: null }, findings: input().findings.map((f) => ({ ...f, link: null })) }));
    expect(card.actions).toBeUndefined();
    expect(JSON.stringify(card)).not.toContain('Action.OpenUrl');
    expect(checkAdaptiveCard(card).problems).toEqual([]);
  });

  it('keeps text from the tenant out of Markdown: a display name cannot become a link or formatting', () => {
    const hostile = '[click me](https://evil.example) **urgent** <at>everyone</at>';
    const card = buildAlertCard(input({ findings: [{ change: 'opened', severity: 'critical', title: hostile, targetId: 'tenant', link: null }] }));
    // Markdown is read only in TextBlock.text; the title sits in a TextRun as typed.
    const textBlocks = JSON.stringify(card.body.filter((b) => b.type === 'TextBlock'));
    expect(textBlocks).not.toContain('evil.example');
    expect(texts(card.body)).toContain(hostile);
    expect(checkAdaptiveCard(card).problems).toEqual([]);
  });

  it('the SDK check catches what a renderer would drop or refuse', () => {
    const card = buildAlertCard(input());
    expect(checkAdaptiveCard({ ...card, body: [...card.body, { type: 'Carousel2' }] }).problems.join()).toMatch(/Unknown element type/);
    const withUnknownProperty = { ...card, body: [{ ...card.body[0], colour: 'Attention' }, ...card.body.slice(1)] };
    expect(checkAdaptiveCard(withUnknownProperty).roundTrip).not.toEqual(withUnknownProperty);
    expect(checkAdaptiveCard({ ...card, actions: [{ type: 'Action.OpenUrl', title: 'x' }] }).problems.join()).toMatch(/url/i);
  });
});
