import type { RouteDefinition } from './api.js';
import { applicationUserRoutes } from './handlers/application-users.js';
import { auditRoutes } from './handlers/audits.js';
import { diagnosisRoutes } from './handlers/diagnosis.js';
import { healthRoutes } from './handlers/health.js';
import { inventoryRoutes } from './handlers/inventory.js';
import { openApiRoutes } from './handlers/openapi.js';
import { reportRoutes } from './handlers/reports.js';
import { environmentUserRoutes } from './handlers/environment-users.js';
import { salesforceRoutes } from './handlers/salesforce.js';
import { userRoutes } from './handlers/users.js';

/**
 * The HTTP API of SPEC §4, one entry per route. The Functions host registers each as an HTTP
 * function (functions/catalog.ts); `steward serve` serves the same list.
 * One spread per area (lib/http/handlers/<area>.ts), so areas are added without touching others.
 */
export const apiRoutes: RouteDefinition[] = [
  // User operations (joiner / mover / leaver).
  ...userRoutes,
  ...environmentUserRoutes,
  ...applicationUserRoutes,
  ...salesforceRoutes,
  // What a flow picks from (the connector's x-ms-dynamic-values).
  ...inventoryRoutes,
  // Diagnose and Salesforce readiness.
  ...diagnosisRoutes,
  // Audits, findings, suppressions.
  ...auditRoutes,
  ...reportRoutes,
  // Operations.
  ...healthRoutes,
  ...openApiRoutes(() => apiRoutes),
];
