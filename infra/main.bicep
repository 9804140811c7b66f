// Steward on Azure Functions Flex Consumption: storage (tables, queues, claim-check blobs),
// Application Insights, a Key Vault for the Salesforce secrets, and a system-assigned managed
// identity that calls Graph, the Power Platform admin API and Dataverse.
// Not deployed from the development machine (no Azure access there): review before use.
// After deployment, grant the identity its Graph application permissions (User.ReadWrite.All,
// Group.ReadWrite.All, Directory.Read.All, RoleManagement.Read.Directory), register it as a
// Power Platform management application, and create it as an application user with the
// System Administrator role in each environment it manages.

@description('Short name used for every resource.')
param name string = 'steward'
param location string = resourceGroup().location
@description('Entra tenant Steward manages.')
param tenantId string = subscription().tenantId
@description('Logic App HTTP trigger URL for alerts (a secret: it carries a SAS signature).')
@secure()
param alertUrl string = ''
@description('NCRONTAB schedule of the nightly audit (UTC).')
param auditSchedule string = '0 0 2 * * *'
@description('JSON list of Salesforce orgs (see README); secrets as Key Vault references.')
param salesforceOrgs string = '[]'

var suffix = uniqueString(resourceGroup().id, name)
var storageName = toLower(take('st${name}${suffix}', 24))
var deploymentContainer = 'app-package'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // Steward's stores take a connection string today (see README, "Known gaps"); the Functions
    // host itself uses the managed identity.
    allowSharedKeyAccess: true
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
  name: 'log-${name}-${suffix}'
  location: location
  properties: { retentionInDays: 30, sku: { name: 'PerGB2018' } }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}-${suffix}'
  location: location
  kind: 'web'
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id, DisableLocalAuth: true }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('kv-${name}-${suffix}', 24)
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${name}-${suffix}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
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
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'STEWARD_TENANT_ID', value: tenantId }
        // Table Storage for findings, runs, idempotency and the operation log.
        { name: 'STEWARD_STORAGE_CONNECTION', value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}' }
        { name: 'STEWARD_AUDIT_SCHEDULE', value: auditSchedule }
        { name: 'STEWARD_ALERT_URL', value: alertUrl }
        { name: 'STEWARD_PUBLIC_BASE_URL', value: 'https://func-${name}-${suffix}.azurewebsites.net' }
        { name: 'STEWARD_SALESFORCE_ORGS', value: salesforceOrgs }
        { name: 'STEWARD_REQUIRE_APP_ROLES', value: 'false' }
      ]
    }
  }
}

// The app's identity reads and writes its own storage (tables, queues, blobs) and reads secrets.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, app.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = app.name
output principalId string = app.identity.principalId
