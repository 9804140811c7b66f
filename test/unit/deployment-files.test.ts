import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, settingsSchema } from '../../lib/config/settings.js';

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
const platformSetting = /^(AzureWebJobsStorage__(credential|clientId|accountName|blobServiceUri|queueServiceUri|tableServiceUri)|APPLICATIONINSIGHTS_(CONNECTION|AUTHENTICATION)_STRING|FUNCTIONS_WORKER_RUNTIME|AzureWebJobsStorage)$/;

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
