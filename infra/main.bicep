// Steward on Azure Functions Flex Consumption (Node 22), deployed with `azd up` (azure.yaml):
// storage for the host and Steward (tables, queues, claim-check blobs) reached with the app's
// managed identity only (shared keys off), Application Insights with Entra authentication, and a
// Key Vault for the Salesforce secrets and the alert URL, read as whole-value Key Vault references.
// Not deployed from the development machine (no Azure access there): review before use. What to
// grant the identity in Entra ID, Power Platform, Dataverse and Salesforce: docs/setup.md.
// test/unit/infra.test.ts reads this file and checks the facts that must not regress.

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name and the azd-env-name tag.')
param environmentName string
param location string = resourceGroup().location
@description('Entra tenant Steward manages.')
param tenantId string = subscription().tenantId
@description('Object id of the deployer (azd sets AZURE_PRINCIPAL_ID): may write the Key Vault secrets.')
param principalId string = ''
@description('V8 old-space bound of the Node.js worker, in MB: every run of the 1,000,000-user benchmark completes under 1,200 (peak RSS 1,226 MB); under 800 its night of changes runs out of heap.')
param workerHeapMB int = 1200
@description('NCRONTAB schedule of the nightly audit (UTC).')
param auditSchedule string = '0 0 2 * * *'
@description('JSON list of Salesforce orgs (README): secrets by setting name (clientSecretSetting), never inline.')
param salesforceOrgs string = '[]'
@description('One entry per Salesforce secret: { setting: STEWARD_SALESFORCE_SECRET_<ORG>, secretName: its Key Vault secret }.')
param salesforceSecrets array = []
@description('Key Vault secret holding the trigger URL of a Logic App of your own (empty: no alerts, unless the shipped one is deployed: teamsGroupId).')
param alertUrlSecretName string = ''
@description('Deploys the shipped alert Logic App (alerts.bicep) when set with teamsChannelId: the team (Microsoft 365 group id) whose channel gets the alerts.')
param teamsGroupId string = ''
@description('The Teams channel id of the alerts, e.g. 19:…@thread.tacv2.')
param teamsChannelId string = ''
@description('The shipped Logic App also mails a notice to these addresses (semicolon-separated); empty: Teams only.')
param alertMailTo string = ''
@description('Refuse every mutation (409): a deployment that only audits and diagnoses.')
param readOnly bool = false

var suffix = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var appName = 'func-steward-${suffix}'
var deploymentContainer = 'app-package-${take(suffix, 7)}'
// The shipped Logic App writes its trigger URL into the vault under this name.
var shipsAlerts = !empty(teamsGroupId) && !empty(teamsChannelId)
var alertSecretName = shipsAlerts ? 'steward-alert-url' : alertUrlSecretName

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('ststeward${suffix}', 24)
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // Every client (the host and Steward's stores) signs in with the managed identity.
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-steward-${suffix}'
  location: location
  tags: tags
  properties: { retentionInDays: 30, sku: { name: 'PerGB2018' } }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-steward-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  // Local auth off: telemetry is accepted only with an Entra token (Monitoring Metrics Publisher below).
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id, DisableLocalAuth: true }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('kv-steward-${suffix}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-steward-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// A Key Vault reference is resolved only when it is the whole value of a setting.
func keyVaultReference(vaultName string, secretName string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

var appSettings = concat(
  [
    // The host's storage and Steward's own (lib/config/storage.ts falls back on the host's).
    { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
    { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
    { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
    { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
    { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
    { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
    { name: 'STEWARD_TENANT_ID', value: tenantId }
    { name: 'STEWARD_AUDIT_SCHEDULE', value: auditSchedule }
    { name: 'STEWARD_PUBLIC_BASE_URL', value: 'https://${appName}.azurewebsites.net' }
    { name: 'STEWARD_SALESFORCE_ORGS', value: salesforceOrgs }
    { name: 'STEWARD_READ_ONLY', value: string(readOnly) }
    { name: 'STEWARD_REQUIRE_APP_ROLES', value: 'false' }
    // The worker's V8 heap, bounded where the benchmark measured a million users' full, quiet and
    // changed nights (README "Benchmark"), leaving the rest of the instance's 2,048 MB to the host.
    // Arguments of the Node.js worker process: learn.microsoft.com/azure/azure-functions/
    // functions-reference-node ("languageWorkers__node__arguments").
    { name: 'languageWorkers__node__arguments', value: '--max-old-space-size=${workerHeapMB}' }
  ],
  // The Logic App's trigger URL carries a SAS signature: a secret, kept in the vault (README "Alerts"
  // on why a Key Vault reference rather than the URL itself as the setting).
  empty(alertSecretName) ? [] : [{ name: 'STEWARD_ALERT_URL', value: keyVaultReference(vault.name, alertSecretName) }],
  map(salesforceSecrets, secret => { name: secret.setting, value: keyVaultReference(vault.name, secret.secretName) })
)

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  // azure.yaml's service `api` deploys to the resource with this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  // STEWARD_ALERT_URL references the secret the alert module writes: it exists before the app starts.
  dependsOn: [alerts]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
  }
}

// Alerts to Teams: the shipped Logic App, its Teams (and Office 365) connections and the table of
// delivered ids; its trigger URL goes into the vault as the secret STEWARD_ALERT_URL references.
module alerts 'alerts.bicep' = if (shipsAlerts) {
  name: 'alerts'
  params: {
    location: location
    tags: tags
    suffix: suffix
    storageAccountName: storage.name
    vaultName: vault.name
    alertUrlSecretName: alertSecretName
    teamsGroupId: teamsGroupId
    teamsChannelId: teamsChannelId
    mailTo: alertMailTo
  }
}

// Role definition ids (built-in roles, the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// The app's identity reads and writes its storage: blobs (deployment package, claim-checks),
// queues (triggers, the audit's fan-out), tables (findings, runs, idempotency, operation log).
resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

// Telemetry with Entra authentication (local auth is off on the component).
resource metricsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault references resolve with the app's identity: read secrets only.
resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, app.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer writes the secrets (`az keyvault secret set`), never into a template or a setting.
resource deployerVaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: 'User'
  }
}

output AZURE_FUNCTION_NAME string = app.name
output AZURE_KEY_VAULT_NAME string = vault.name
output STEWARD_PRINCIPAL_ID string = app.identity.principalId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = insights.properties.ConnectionString
