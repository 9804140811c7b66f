import type { Severity } from '../domain/finding.js';
import { formatMoney, type Money } from '../domain/money.js';

/**
 * The Adaptive Card (schema 1.5) an alert document carries ready to post (`card`): the shipped Logic
 * App (infra/alerts.bicep) hands it to the Teams connector as it is, so the message says the same
 * whatever receives the document. Pure: built from the document's own fields.
 *
 * Text from the tenant (names, UPNs, titles) goes into `TextRun`s of `RichTextBlock`s, which Adaptive
 * Cards never read as Markdown (only `TextBlock.text` is), so a display name such as `**x**` or
 * `[a](https://…)` shows as typed instead of turning into formatting or a link.
 */

export const ALERT_CARD_VERSION = '1.5';

/** How many changed findings the card lists; the rest are counted ("and 3 more"), the report has them all. */
export const CARD_TOP_FINDINGS = 5;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: typeof ALERT_CARD_VERSION;
  fallbackText: string;
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
}

export interface AlertCardInput {
  runId: string;
  runStatus: string;
  summary: { critical: number; warning: number; info: number; alerted: number; resolved: number; suppressed: number; reclaimableMonthly: readonly Money[] };
  links: { report: string | null; run: string | null; findings: string | null };
  /** Most severe first, as in the document. */
  findings: readonly { change: string; severity: Severity; title: string; targetId: string; link: string | null }[];
}

/** Adaptive Card colours: `attention` is red and `warning` amber in every host config Teams ships. */
const SEVERITY_COLOR: Record<Severity, string> = { critical: 'Attention', warning: 'Warning', info: 'Default' };
const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };
const CHANGE_LABEL: Record<string, string> = { opened: 'new', reopened: 'reopened', 'severity-raised': 'worse', 'now-alerting': 'now alerting' };

export function buildAlertCard(input: AlertCardInput): AdaptiveCard {
  const { summary } = input;
  const headline = `Steward audit: ${summary.alerted} finding${summary.alerted === 1 ? '' : 's'} need${summary.alerted === 1 ? 's' : ''} attention`;
  const facts = [
    { title: 'Critical', value: String(summary.critical) },
    { title: 'Warning', value: String(summary.warning) },
    { title: 'Info', value: String(summary.info) },
    { title: 'Resolved in this run', value: String(summary.resolved) },
    { title: 'Suppressed', value: String(summary.suppressed) },
    // SPEC §7: per currency, never summed across; left out when no licence is priced.
    ...(summary.reclaimableMonthly.length > 0 ? [{ title: 'Reclaimable a month', value: formatMoney(summary.reclaimableMonthly) }] : []),
  ];
  const top = input.findings.slice(0, CARD_TOP_FINDINGS);
  const more = input.findings.length - top.length;
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: headline, size: 'Medium', weight: 'Bolder', wrap: true },
    plainText(`Run ${input.runId} · ${input.runStatus}`, { isSubtle: true, spacing: 'None' }),
    { type: 'TextBlock', text: 'Open findings', weight: 'Bolder', spacing: 'Medium' },
    { type: 'FactSet', facts },
    { type: 'TextBlock', text: 'What changed', weight: 'Bolder', spacing: 'Medium', separator: true },
    ...top.map(findingBlock),
    ...(more > 0 ? [plainText(`and ${more} more in the report`, { isSubtle: true })] : []),
  ];
  const actions = [
    ...(input.links.report ? [openUrl('Open the report', input.links.report)] : []),
    ...(input.links.findings ? [openUrl('Open findings (API)', input.links.findings)] : []),
  ];
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ALERT_CARD_VERSION,
    // Shown by a host that cannot render the card (and read aloud by screen readers in notifications).
    fallbackText: `${headline} (run ${input.runId}, ${input.runStatus}).`,
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

function findingBlock(f: AlertCardInput['findings'][number]): Record<string, unknown> {
  return {
    type: 'Container',
    spacing: 'Small',
    items: [
      {
        type: 'RichTextBlock',
        inlines: [
          { type: 'TextRun', text: SEVERITY_LABEL[f.severity], weight: 'Bolder', color: SEVERITY_COLOR[f.severity] },
          { type: 'TextRun', text: ` · ${CHANGE_LABEL[f.change] ?? f.change} · ` },
          { type: 'TextRun', text: f.title },
        ],
      },
      plainText(f.targetId, { isSubtle: true, spacing: 'None' }),
    ],
    // The finding in the API (target and check): a tap on the block opens it.
    ...(f.link ? { selectAction: openUrl('Open the finding', f.link) } : {}),
  };
}

/** Text shown as typed: a RichTextBlock's TextRun is never read as Markdown. */
function plainText(text: string, options: { isSubtle?: boolean; spacing?: string } = {}): Record<string, unknown> {
  const { spacing, ...run } = options;
  return { type: 'RichTextBlock', ...(spacing ? { spacing } : {}), inlines: [{ type: 'TextRun', text, ...run }] };
}

const openUrl = (title: string, url: string) => ({ type: 'Action.OpenUrl', title, url });
