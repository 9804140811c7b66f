import { ManagedIdentityCredential } from '@azure/identity';
import { useAzureMonitor } from '@azure/monitor-opentelemetry';

/**
 * Production export of Steward's spans, metrics and logs to Application Insights, started once by
 * the Functions entry point (functions/index.ts) and only when `APPLICATIONINSIGHTS_CONNECTION_STRING`
 * is set; everywhere else (the CLI, `steward serve`, tests) the OpenTelemetry API stays a no-op
 * unless a test registers its own in-memory SDK.
 *
 * The Bicep turns local authentication off on the Application Insights resource and says so with
 * `APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD`: the exporter then signs in with the
 * app's managed identity (system-assigned, or the `ClientId=` the string names), which holds
 * Monitoring Metrics Publisher on the resource (infra/main.bicep).
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): boolean {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return false;
  const authentication = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '';
  const entra = /(^|;)\s*Authorization\s*=\s*AAD\s*(;|$)/i.test(authentication);
  const clientId = /(^|;)\s*ClientId\s*=\s*([^;\s]+)/i.exec(authentication)?.[2];
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString,
      ...(entra ? { credential: clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential() } : {}),
    },
    // The Azure SDK's own spans (Table, Queue and Blob Storage, the token requests) come in as children.
    instrumentationOptions: { azureSdk: { enabled: true }, http: { enabled: true } },
  });
  return true;
}
