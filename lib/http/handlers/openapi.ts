import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RouteDefinition } from '../api.js';
import { buildOpenApiDocument } from '../openapi.js';
import { defineRoute, json } from '../pipeline.js';
import { publicOrigin } from '../public-origin.js';

/** The app's version, from the nearest package.json above this module (source or dist/). */
function appVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
  }
  return '0.0.0';
}
const version = appVersion();

/** `GET /api/openapi.json`: the document a Power Automate custom connector imports. */
export function openApiRoutes(routes: () => readonly RouteDefinition[]) {
  return [
    defineRoute({
      name: 'openapi',
      // The document itself is no action of the connector it describes.
      doc: {
        operationId: 'GetOpenApiDocument',
        summary: 'Get the OpenAPI document',
        description: 'Returns this OpenAPI 2.0 document, importable as a custom connector.',
        answer: z.looseObject({ swagger: z.literal('2.0').meta({ title: 'Swagger', description: 'The OpenAPI version, 2.0.' }) }),
        connector: false,
      },
      methods: ['GET'],
      route: 'openapi.json',
      role: 'Steward.Read',
      mutation: false,
      async run({ request, services }) {
        const origin = publicOrigin(request, services.settings);
        const host = origin ? new URL(origin).host : undefined;
        return json(200, buildOpenApiDocument(routes(), { host, version }));
      },
    }),
  ];
}
