import { loadSettings } from '../lib/config/settings.js';
import { createAuditPipeline, createServices } from '../lib/composition.js';
import type { AuditPipeline } from '../lib/audit/pipeline.js';
import type { AppServices } from '../lib/services.js';

let services: Promise<AppServices> | undefined;
let pipeline: AuditPipeline | undefined;

/**
 * Built once per worker from the app settings; a bad setting fails the first invocation with a
 * message naming it (the host shows it in the function's log).
 */
export function getServices(): Promise<AppServices> {
  services ??= createServices(loadSettings(process.env), { dispatch: 'queue' });
  return services;
}

export async function getAuditPipeline(): Promise<AuditPipeline> {
  pipeline ??= createAuditPipeline(await getServices());
  return pipeline;
}
