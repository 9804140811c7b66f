import { loadSettings } from '../lib/config/settings.js';
import { createSteward, type Steward } from '../lib/composition.js';
import type { AuditRunner } from '../lib/audit/runner.js';

let steward: Promise<Steward> | undefined;

/**
 * Built once per worker from the app settings, the audit's targets fanned out over the host's
 * Storage queues; a bad setting fails the first invocation with a message naming it (the host
 * shows it in the function's log).
 */
export function getSteward(): Promise<Steward> {
  steward ??= createSteward(loadSettings(process.env), { dispatch: 'queue' });
  return steward;
}

export async function getAuditRunner(): Promise<AuditRunner> {
  return (await getSteward()).audit;
}
