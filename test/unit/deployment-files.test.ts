import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildAlertDocument } from '../../lib/audit/alert-document.js';
import type { StoredFinding } from '../../lib/domain/finding.js';
import { loadSettings, settingsSchema } from '../../lib/config/settings.js';
import { generatedTriggerSchema, TRIGGER_SCHEMA_PATH } from '../support/trigger-schema.js';

/**
 * The deployment cannot be compiled or deployed here (no Bicep CLI, no Azure), so the facts it
 * rests on are read from the files: identity-only storage, the roles by their built-in GUIDs, the
 * setting names Steward and the Functions host read, Node 22, azd's wiring, no secret in plain text.
 */

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const bicep = read('infra/main.bicep');

/** `{ name: 'X', value: … }` app settings of the template. */
const settingNames = [...bicep.matchAll(/\{\s*name:\s*'([A-Za-z0-9_]+)',\s*value:/g)].map((m) => m[1]!);

const ROLES = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
};

/** Settings the platform reads, not Steward's schema. */
const platformSetting = /^(AzureWebJobsStorage__(credential|clientId|accountName|blobServiceUri|queueServiceUri|tableServiceUri)|APPLICATIONINSIGHTS_(CONNECTION|AUTHENTICATION)_STRING|FUNCTIONS_WORKER_RUNTIME|languageWorkers__node__arguments|AzureWebJobsStorage)$/;

describe('infra/main.bicep', () => {
  it('keeps storage identity-only: shared keys off, no key read, no connection string', () => {
    expect(bicep).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(bicep).not.toMatch(/allowSharedKeyAccess:\s*true/);
    expect(bicep).not.toMatch(/listKeys\s*\(/);
    expect(bicep).not.toMatch(/AccountKey=/i);
    expect(settingNames).not.toContain('STEWARD_STORAGE_CONNECTION');
    for (const name of ['credential', 'blobServiceUri', 'queueServiceUri', 'tableServiceUri']) expect(settingNames).toContain(`AzureWebJobsStorage__${name}`);
    expect(bicep).toMatch(/name: 'AzureWebJobsStorage__credential', value: 'managedidentity'/);
  });

  it('grants the app identity each data role by its built-in id, at the resource it needs', () => {
    for (const [role, id] of Object.entries(ROLES)) expect(bicep, role).toContain(`'${id}'`);
    expect(bicep).toMatch(/scope: insights[\s\S]{0,200}monitoringMetricsPublisher/);
    expect(bicep).toMatch(/scope: vault[\s\S]{0,200}keyVaultSecretsUser/);
    expect(bicep).toMatch(/principalId: app\.identity\.principalId/);
  });

  it('runs Node 22 on Flex Consumption with telemetry signed in with Entra', () => {
    expect(bicep).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
    expect(bicep).toMatch(/tier: 'FlexConsumption', name: 'FC1'/);
    // The heap bound the million-user benchmark ran under (issue 15), leaving the host its share of the instance.
    expect(bicep).toMatch(/name: 'languageWorkers__node__arguments', value: '--max-old-space-size=\$\{workerHeapMB\}'/);
    expect(Number(/param workerHeapMB int = (\d+)/.exec(bicep)?.[1])).toBeLessThanOrEqual(Number(/instanceMemoryMB: (\d+)/.exec(bicep)?.[1]) * 0.6);
    expect(bicep).toMatch(/DisableLocalAuth: true/);
    expect(bicep).toMatch(/name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD'/);
  });

  it('sets only settings that Steward or the platform reads', () => {
    const known = new Set(Object.keys(settingsSchema.shape));
    const unknown = settingNames.filter((name) => !known.has(name) && !platformSetting.test(name));
    expect(unknown).toEqual([]);
    expect(settingNames).toEqual(expect.arrayContaining(['STEWARD_TENANT_ID', 'STEWARD_SALESFORCE_ORGS']));
  });

  it('gives secrets only as whole-value Key Vault references, never as plain parameters', () => {
    // Secrets (Salesforce, the alert URL) are app settings whose whole value is a reference.
    expect(bicep).toMatch(/name: 'STEWARD_ALERT_URL', value: keyVaultReference\(/);
    expect(bicep).toMatch(/name: secret\.setting, value: keyVaultReference\(/);
    expect(bicep).toMatch(/=> '@Microsoft\.KeyVault\(VaultName=\$\{vaultName\};SecretName=\$\{secretName\}\)'/);
    expect(bicep).not.toMatch(/@secure\(\)/); // no secret passes through the template at all
    expect(bicep).not.toMatch(/(clientSecret|privateKey|password)\s*:/i);
  });
});

describe('infra/alerts.bicep: the shipped alert Logic App', () => {
  const alerts = read('infra/alerts.bicep');
  const alertSchema = JSON.parse(read('schemas/alert.schema.json')) as { required: string[] };
  const triggerSchema = JSON.parse(read(TRIGGER_SCHEMA_PATH)) as { type: string; required: string[]; properties: Record<string, unknown> };

  /** The body of `name: {` up to its closing brace at the same indentation. */
  const block = (text: string, name: string) => {
    const start = new RegExp(`^( *)${name}: \\{$`, 'm').exec(text);
    if (!start) return '';
    const end = text.indexOf(`\n${start[1]}}`, start.index);
    return text.slice(start.index, end);
  };

  it('is a module of main.bicep, deployed when a Teams channel is given, with every parameter it requires', () => {
    expect(bicep).toMatch(/^module alerts 'alerts\.bicep' = if \(shipsAlerts\) \{/m);
    expect(bicep).toMatch(/var shipsAlerts = !empty\(teamsGroupId\) && !empty\(teamsChannelId\)/);
    const passed = new Set([...block(bicep, 'params').matchAll(/^ {4}([a-zA-Z]+):/gm)].map((m) => m[1]));
    const declared = [...alerts.matchAll(/^param (\w+) \w+( = .*)?$/gm)];
    expect(declared.length).toBeGreaterThan(0);
    for (const [, name, fallback] of declared) if (!fallback) expect(passed, name).toContain(name);
    for (const name of passed) expect(declared.map((d) => d[1]), name).toContain(name);
  });

  it('declares a Logic App whose Request trigger takes the alert document (the schema simplified for the designer, kept in step)', () => {
    expect(alerts).toMatch(/resource workflow 'Microsoft\.Logic\/workflows@2019-05-01'/);
    expect(block(alerts, 'manual')).toMatch(/type: 'Request'[\s\S]*kind: 'Http'[\s\S]*schema: loadJsonContent\('alert-trigger\.schema\.json'\)/);
    expect(read(TRIGGER_SCHEMA_PATH), 'regenerate it: see test/support/trigger-schema.ts').toBe(generatedTriggerSchema());
    expect(triggerSchema.type).toBe('object');
    expect(triggerSchema.required).toEqual(alertSchema.required);
    for (const field of ['deliveryId', 'card', 'links', 'findings']) expect(triggerSchema.properties).toHaveProperty(field);
    // Plain types only: nothing the designer cannot make a token of.
    expect(read(TRIGGER_SCHEMA_PATH)).not.toMatch(/"(\$ref|\$defs|const|anyOf|oneOf|format|pattern)"/);
  });

  it('the trigger schema accepts a real alert document', () => {
    const at = '2031-01-01T02:00:00.000Z';
    const finding: StoredFinding = {
      checkId: 'dataverse.non-interactive-cap', targetId: 'env-1', subjectId: 'cap', severity: 'critical', title: '7 non-interactive users', details: {}, remediation: 'Keep at most 7 (T3).',
      status: 'open', state: 'new', firstSeenAt: at, lastSeenAt: at, openedAt: at, openedRunId: 'run-1', resolvedAt: null, reopenCount: 0, previousSeverity: null, lastRunId: 'run-1', alertedState: null,
    };
    const document = buildAlertDocument({ runId: 'run-1', tenantId: 't', runStatus: 'succeeded', now: new Date(at), alerted: [finding], open: [finding], suppressedCount: 0, resolvedCount: 0 });
    const validate = new Ajv.default({ allErrors: true }).compile(triggerSchema);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...document, deliveryId: undefined })).toBe(false);
  });

  it('posts the card to a Teams channel through the Teams managed connector, and mails only behind a parameter', () => {
    expect(alerts).toMatch(/resource teams 'Microsoft\.Web\/connections@2016-06-01' = \{[\s\S]{0,300}api: \{ id: subscriptionResourceId\('Microsoft\.Web\/locations\/managedApis', location, 'teams'\) \}/);
    expect(alerts).toMatch(/resource office365 'Microsoft\.Web\/connections@2016-06-01' = if \(withMail\) \{[\s\S]{0,300}managedApis', location, 'office365'\)/);
    expect(alerts).toMatch(/var withMail = !empty\(mailTo\)/);
    const post = block(alerts, 'Post_card');
    expect(post).toMatch(/type: 'ApiConnection'/);
    expect(post).toContain("name: '@parameters(\\'$connections\\')[\\'teams\\'][\\'connectionId\\']'");
    expect(post).toContain("path: '/v1.0/teams/conversation/adaptivecard/poster/Flow bot/location/@{encodeURIComponent(\\'Channel\\')}'");
    expect(post).toMatch(/recipient: \{ groupId: teamsGroupId, channelId: teamsChannelId \}/);
    expect(post).toContain("messageBody: '@{string(triggerBody()?[\\'card\\'])}'");
    // $connections: the Teams connection by its resource id, under the name the action uses.
    expect(alerts).toMatch(/var teamsConnection = \{\n\s+teams: \{[^}]*connectionId: teams\.id/);
    expect(alerts).toMatch(/'\$connections': \{ value: union\(teamsConnection, office365Connection\) \}/);
    expect(block(alerts, 'Send_mail')).toMatch(/path: '\/v2\/Mail'/);
    expect(alerts).toMatch(/var mailActions = withMail/);
  });

  it('drops a repeated deliveryId: inserts it first (409 when seen), forgets it when Teams fails, signed in as the workflow', () => {
    const record = block(alerts, 'Record_delivery');
    expect(record).toMatch(/method: 'POST'/);
    expect(record).toMatch(/RowKey: deliveryId/);
    expect(alerts).toMatch(/var deliveryId = '@\{triggerBody\(\)\?\[\\'deliveryId\\'\]\}'/);
    expect(record).toMatch(/authentication: signedInAsWorkflow/);
    expect(alerts).toMatch(/var signedInAsWorkflow = \{ type: 'ManagedServiceIdentity', audience: 'https:\/\/storage\.azure\.com\/' \}/);
    const repeat = block(alerts, 'Repeat_or_failure');
    expect(repeat).toMatch(/runAfter: \{ Record_delivery: \['Failed'\] \}/);
    expect(repeat).toMatch(/equals: \['@outputs\(\\'Record_delivery\\'\)\[\\'statusCode\\'\]', 409\]/);
    expect(block(alerts, 'Drop_repeat')).toMatch(/type: 'Response'[\s\S]*statusCode: 200/);
    expect(block(alerts, 'Post_card')).toMatch(/runAfter: \{ Record_delivery: \['Succeeded'\] \}/);
    expect(block(alerts, 'Forget_delivery')).toMatch(/runAfter: \{ Post_card: \['Failed', 'TimedOut'\] \}[\s\S]*method: 'DELETE'/);
    expect(block(alerts, 'Not_delivered')).toMatch(/statusCode: 502/);
    // The workflow's identity may write that table, and nothing else.
    expect(alerts).toMatch(/identity: \{ type: 'SystemAssigned' \}/);
    expect(alerts).toMatch(/scope: deliveries\n[\s\S]{0,200}storageTableDataContributor[\s\S]{0,100}principalId: workflow\.identity\.principalId/);
    expect(alerts).toContain(`'${ROLES['Storage Table Data Contributor']}'`);
    expect(alerts).not.toMatch(/listKeys\s*\(|sharedkey|azuretables/i);
  });

  it('wires STEWARD_ALERT_URL to the trigger callback URL through a vault secret, never an output', () => {
    const trigger = /triggers: \{\n\s+(\w+): \{/.exec(alerts)?.[1];
    expect(trigger).toBe('manual');
    expect(alerts).toMatch(new RegExp(`resource alertUrl 'Microsoft\\.KeyVault/vaults/secrets@2023-07-01' = \\{[\\s\\S]{0,200}value: listCallbackUrl\\('\\$\\{workflow\\.id\\}/triggers/${trigger}', '2019-05-01'\\)\\.value`));
    expect(alerts).not.toMatch(/^output .*listCallbackUrl/m);
    expect(alerts).not.toMatch(/@secure\(\)/);
    // main.bicep: the app setting references the secret the module writes, and waits for it.
    expect(bicep).toMatch(/var alertSecretName = shipsAlerts \? 'steward-alert-url' : alertUrlSecretName/);
    expect(block(bicep, 'params')).toMatch(/alertUrlSecretName: alertSecretName/);
    expect(bicep).toMatch(/name: 'STEWARD_ALERT_URL', value: keyVaultReference\(vault\.name, alertSecretName\)/);
    expect(bicep).toMatch(/dependsOn: \[alerts\]/);
  });
});

describe('azd', () => {
  it('deploys the service azure.yaml names to the app carrying its azd-service-name tag', () => {
    // azure.yaml is flat enough to read without a YAML parser: `services:` then one indented key.
    const manifest = read('azure.yaml');
    const service = /^services:\s*\n\s{2}([a-z0-9-]+):/m.exec(manifest)?.[1];
    expect(service).toBeDefined();
    for (const line of ['project: .', 'language: ts', 'host: function']) expect(manifest).toContain(`    ${line}`);
    expect(bicep).toContain(`'azd-service-name': '${service}'`);
  });

  it('passes only parameters the template declares, from azd environment values', () => {
    const parameters = (JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: unknown }> }).parameters;
    for (const [name, { value }] of Object.entries(parameters)) {
      expect(bicep, name).toMatch(new RegExp(`^param ${name} `, 'm'));
      expect(String(value)).toMatch(/^\$\{[A-Z_]+(=[^}]*)?\}$/);
    }
    expect(parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
  });
});

describe('local.settings.sample.json', () => {
  const sample = (JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> }).Values;

  it('loads through the settings schema as it is', () => {
    const settings = loadSettings(sample);
    expect(settings.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(settings.salesforceOrgs[0]?.clientSecret).toBe(sample.STEWARD_SALESFORCE_SECRET_CONTOSO);
    expect(settings.storageConnection).toEqual({ kind: 'connection-string', connectionString: 'UseDevelopmentStorage=true' });
  });

  it('holds only settings something reads, each a value rather than a description', () => {
    const known = new Set(Object.keys(settingsSchema.shape));
    for (const [name, value] of Object.entries(sample)) {
      expect(known.has(name) || platformSetting.test(name) || /^STEWARD_SALESFORCE_SECRET_[A-Z0-9_]+$/.test(name), name).toBe(true);
      expect(value, name).not.toMatch(/\.\.\.|…|\s(or|only|with|for)\s/);
    }
  });
});
