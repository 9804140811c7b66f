import type { RouteDefinition } from '../http/api.js';
import { API_KEY_SECURITY, buildOpenApiDocument } from '../http/openapi.js';
import { connectorIcon, ICON_BRAND_COLOR } from './icon.js';

/**
 * The Power Automate custom connector package (connector/), generated from the same route
 * contracts as `GET /api/openapi.json`: the definition, its properties (the connection's
 * parameters), the paconn settings and the icon. `npm run connector:build` writes it,
 * `npm run connector:check` regenerates it in memory and compares.
 */

export const PACKAGE_FILES = ['apiDefinition.swagger.json', 'apiProperties.json', 'settings.json', 'icon.png'] as const;
export type PackageFile = (typeof PACKAGE_FILES)[number];
export type ConnectorPackage = Record<PackageFile, Buffer>;

/**
 * A placeholder host: each Function App has its own, typed by the maker when creating the
 * connection (the `hostName` connection parameter and the dynamic host URL policy below).
 */
export const CONNECTOR_HOST = 'steward.azurewebsites.net';

/** The connection: the Function App's host and its function key (sent as `x-functions-key`, kept secret). */
export function apiProperties(): Record<string, unknown> {
  return {
    properties: {
      connectionParameters: {
        hostName: {
          type: 'string',
          uiDefinition: {
            displayName: 'Function App host',
            description: 'The host name of your Steward Function App, e.g. steward-contoso.azurewebsites.net',
            tooltip: 'The host name of the Function App, without https:// and without /api',
            constraints: { tabIndex: 1, required: 'true' },
          },
        },
        api_key: {
          type: 'securestring',
          uiDefinition: {
            displayName: 'Function key',
            description: 'A function key (or the host key) of the Steward Function App',
            tooltip: 'Azure portal: the Function App, App keys; sent as the x-functions-key header',
            constraints: { tabIndex: 2, clearText: false, required: 'true' },
          },
        },
      },
      iconBrandColor: ICON_BRAND_COLOR,
      capabilities: ['actions'],
      policyTemplateInstances: [
        {
          templateId: 'dynamichosturl',
          title: 'Function App host',
          parameters: { 'x-ms-apimTemplateParameter.urlTemplate': "https://@connectionParameters('hostName')/api" },
        },
      ],
      publisher: 'Steward',
      stackOwner: 'Steward',
    },
  };
}

/** paconn's settings.json: which files make the connector (the environment is given on the command line). */
export function paconnSettings(): Record<string, unknown> {
  return {
    apiDefinition: 'apiDefinition.swagger.json',
    apiProperties: 'apiProperties.json',
    icon: 'icon.png',
    powerAppsUrl: 'https://api.powerapps.com',
    powerAppsApiVersion: '2016-11-01',
    flowUrl: 'https://api.flow.microsoft.com',
    flowApiVersion: '2016-11-01',
  };
}

const jsonFile = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

export function buildConnectorPackage(routes: readonly RouteDefinition[], version: string): ConnectorPackage {
  const definition = buildOpenApiDocument(routes, { host: CONNECTOR_HOST, version, target: 'connector' });
  // The api key parameter of apiProperties.json is the one security definition of the document.
  if (JSON.stringify(definition.securityDefinitions) !== JSON.stringify(API_KEY_SECURITY)) throw new Error('the connector expects the api_key security definition');
  return {
    'apiDefinition.swagger.json': jsonFile(definition),
    'apiProperties.json': jsonFile(apiProperties()),
    'settings.json': jsonFile(paconnSettings()),
    'icon.png': connectorIcon(),
  };
}
