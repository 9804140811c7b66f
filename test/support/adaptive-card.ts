import { createRequire } from 'node:module';
import type * as AdaptiveCards from 'adaptivecards';

/**
 * Adaptive Card checks with Microsoft's own SDK (the `adaptivecards` npm package, the renderer the
 * Adaptive Cards designer uses): what its parser and validator report for a card, read as schema 1.5.
 * Its ESM build imports files without extensions, which Node refuses, so the UMD bundle is loaded.
 */
const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

export interface CardCheck {
  /** Parse warnings and validation failures (unknown element types, bad values, missing required properties). */
  problems: string[];
  /** The card as the SDK serialises it back: a property it did not know is missing here. */
  roundTrip: unknown;
}

export function checkAdaptiveCard(card: object): CardCheck {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents) problems.push(`validate: ${event.message}`);
  return { problems, roundTrip: parsed.toJSON(new AC.SerializationContext(AC.Versions.v1_5)) };
}
