// Steward's alerts to Teams (README "Alerts"): a Logic App (Consumption) whose HTTP Request trigger
// takes the alert document (schemas/alert.schema.json, simplified for the designer in
// alert-trigger.schema.json, which test/unit/deployment-files.test.ts keeps in step), drops a
// repeated deliveryId, posts the document's ready Adaptive Card to a Teams channel and, when
// `mailTo` is set, mails a short notice. Its trigger URL goes into the Key Vault as a secret that
// the Function App's STEWARD_ALERT_URL references (main.bicep).
//
// Dropping repeats (issue 12 D4, delivery is at least once): the first action inserts an entity
// keyed by the deliveryId into a table with Table Storage's Insert Entity, which answers 409 Conflict
// when the entity exists (https://learn.microsoft.com/rest/api/storageservices/insert-entity), so a
// repeat is answered 200 without posting. The call is the HTTP action signed in with the workflow's
// managed identity (authentication type ManagedServiceIdentity, audience https://storage.azure.com/:
// https://learn.microsoft.com/azure/logic-apps/authenticate-with-managed-identity), because the
// account allows no shared key (main.bicep) and the Azure Tables connector would need one. If
// posting to Teams fails, the entity is deleted again and Steward is answered 502, so its next
// attempt is not taken for a repeat.
//
// The Teams and Office 365 connections are Microsoft.Web/connections of the managed APIs `teams` and
// `office365` (https://learn.microsoft.com/azure/logic-apps/logic-apps-deploy-azure-resource-manager-templates);
// they sign in as a person, so after the first deployment someone authorizes each once in the
// portal (API connections > Edit API connection > Authorize); until then posting fails and
// Steward keeps the alert in its outbox. The card action is the Teams connector's "Post card in a
// chat or channel" (PostCardToConversation, https://learn.microsoft.com/connectors/teams/), posted
// as the Flow bot, as the Microsoft Sentinel playbooks do (Azure/Azure-Sentinel,
// Solutions/SentinelSOARessentials/Playbooks/Notify-IncidentReopened).
// Not deployed from the development machine (no Azure access there): review before use.

param location string
param tags object
@description('Part of every resource name (main.bicep\'s suffix).')
param suffix string
@description('The storage account of Steward (shared keys off): the table of delivered ids goes there.')
param storageAccountName string
@description('The Key Vault that receives the trigger URL as a secret.')
param vaultName string
@description('Name of the Key Vault secret holding the trigger URL (STEWARD_ALERT_URL references it).')
param alertUrlSecretName string
@description('Id of the team (its Microsoft 365 group id) whose channel receives the alerts.')
param teamsGroupId string
@description('Id of the channel, e.g. 19:…@thread.tacv2.')
param teamsChannelId string
@description('Also mail a notice to these addresses (semicolon-separated) through Office 365 Outlook; empty: no mail.')
param mailTo string = ''

var deliveriesTableName = 'stewardalertdeliveries'
var teamsConnectionName = 'teams-steward-${suffix}'
var office365ConnectionName = 'office365-steward-${suffix}'
var withMail = !empty(mailTo)
// Built-in role: Storage Table Data Contributor (the same id in every tenant).
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deliveries 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: deliveriesTableName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource teams 'Microsoft.Web/connections@2016-06-01' = {
  name: teamsConnectionName
  location: location
  tags: tags
  properties: {
    displayName: 'Steward alerts (Microsoft Teams)'
    api: { id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'teams') }
  }
}

resource office365 'Microsoft.Web/connections@2016-06-01' = if (withMail) {
  name: office365ConnectionName
  location: location
  tags: tags
  properties: {
    displayName: 'Steward alerts (Office 365 Outlook)'
    api: { id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'office365') }
  }
}

// Expressions of the workflow definition language, kept apart from Bicep's own quoting.
var deliveryId = '@{triggerBody()?[\'deliveryId\']}'
var deliveryEntityUri = '${storage.properties.primaryEndpoints.table}${deliveriesTableName}(PartitionKey=\'steward\',RowKey=\'@{encodeURIComponent(triggerBody()?[\'deliveryId\'])}\')'
var storageHeaders = {
  Accept: 'application/json;odata=nometadata'
  'Content-Type': 'application/json'
  'x-ms-version': '2019-02-02'
  'x-ms-date': '@{utcNow(\'R\')}'
}
var signedInAsWorkflow = { type: 'ManagedServiceIdentity', audience: 'https://storage.azure.com/' }

var deliveryActions = {
  // Insert Entity: 201 the first time; 409 Conflict when this deliveryId was recorded before.
  Record_delivery: {
    type: 'Http'
    runAfter: {}
    inputs: {
      method: 'POST'
      uri: '${storage.properties.primaryEndpoints.table}${deliveriesTableName}'
      headers: union(storageHeaders, { Prefer: 'return-no-content' })
      body: {
        PartitionKey: 'steward'
        RowKey: deliveryId
        RunId: '@{triggerBody()?[\'runId\']}'
        ReceivedAt: '@{utcNow()}'
      }
      authentication: signedInAsWorkflow
    }
  }
  Repeat_or_failure: {
    type: 'If'
    runAfter: { Record_delivery: ['Failed'] }
    expression: { and: [{ equals: ['@outputs(\'Record_delivery\')[\'statusCode\']', 409] }] }
    actions: {
      Drop_repeat: {
        type: 'Response'
        kind: 'Http'
        inputs: { statusCode: 200, body: { deliveryId: deliveryId, repeat: true } }
      }
    }
    else: {
      actions: {
        // The id could not be recorded: answer 503 so Steward keeps the alert and tries again.
        Not_recorded: {
          type: 'Response'
          kind: 'Http'
          inputs: { statusCode: 503, body: { deliveryId: deliveryId, error: 'the delivery could not be recorded' } }
        }
      }
    }
  }
  Post_card: {
    type: 'ApiConnection'
    runAfter: { Record_delivery: ['Succeeded'] }
    inputs: {
      host: { connection: { name: '@parameters(\'$connections\')[\'teams\'][\'connectionId\']' } }
      method: 'post'
      path: '/v1.0/teams/conversation/adaptivecard/poster/Flow bot/location/@{encodeURIComponent(\'Channel\')}'
      body: {
        recipient: { groupId: teamsGroupId, channelId: teamsChannelId }
        // The connector takes the card as a JSON string.
        messageBody: '@{string(triggerBody()?[\'card\'])}'
      }
    }
  }
  // Teams refused or failed: forget the id, so Steward's next attempt is posted, not dropped.
  Forget_delivery: {
    type: 'Http'
    runAfter: { Post_card: ['Failed', 'TimedOut'] }
    inputs: {
      method: 'DELETE'
      uri: deliveryEntityUri
      headers: union(storageHeaders, { 'If-Match': '*' })
      authentication: signedInAsWorkflow
    }
  }
  Not_delivered: {
    type: 'Response'
    kind: 'Http'
    runAfter: { Forget_delivery: ['Succeeded', 'Failed'] }
    inputs: { statusCode: 502, body: { deliveryId: deliveryId, error: 'posting to Teams failed' } }
  }
  Delivered: {
    type: 'Response'
    kind: 'Http'
    // With mail, after it whatever it did: Teams has the alert, a failed mail does not post it again.
    runAfter: withMail ? { Send_mail: ['Succeeded', 'Failed', 'TimedOut'] } : { Post_card: ['Succeeded'] }
    inputs: { statusCode: 200, body: { deliveryId: deliveryId, repeat: false } }
  }
}

var mailActions = withMail
  ? {
      // Office 365 Outlook "Send an email (V2)": the card's fallback text and a link to the report.
      Send_mail: {
        type: 'ApiConnection'
        runAfter: { Post_card: ['Succeeded'] }
        inputs: {
          host: { connection: { name: '@parameters(\'$connections\')[\'office365\'][\'connectionId\']' } }
          method: 'post'
          path: '/v2/Mail'
          body: {
            To: mailTo
            Subject: '@{triggerBody()?[\'card\']?[\'fallbackText\']}'
            Body: '<p>@{triggerBody()?[\'card\']?[\'fallbackText\']}</p><p>@{triggerBody()?[\'links\']?[\'report\']}</p>'
            Importance: 'Normal'
          }
        }
      }
    }
  : {}

var teamsConnection = {
  teams: {
    id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'teams')
    connectionId: teams.id
    connectionName: teamsConnectionName
  }
}
var office365Connection = withMail
  ? {
      office365: {
        id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'office365')
        connectionId: resourceId('Microsoft.Web/connections', office365ConnectionName)
        connectionName: office365ConnectionName
      }
    }
  : {}

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: 'logic-steward-alerts-${suffix}'
  location: location
  tags: tags
  // Signs in to Table Storage (the delivered ids).
  identity: { type: 'SystemAssigned' }
  dependsOn: [office365]
  properties: {
    state: 'Enabled'
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      parameters: {
        '$connections': { type: 'Object', defaultValue: {} }
      }
      triggers: {
        manual: {
          type: 'Request'
          kind: 'Http'
          inputs: {
            method: 'POST'
            schema: loadJsonContent('alert-trigger.schema.json')
          }
        }
      }
      actions: union(deliveryActions, mailActions)
      outputs: {}
    }
    parameters: {
      '$connections': { value: union(teamsConnection, office365Connection) }
    }
  }
}

// The workflow's identity writes and deletes the delivered ids, in that table only.
resource deliveriesRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deliveries.id, workflow.id, storageTableDataContributor)
  scope: deliveries
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: workflow.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The trigger URL carries its SAS signature: a secret. It goes straight into the vault (never an
// output or a plain app setting); listCallbackUrl is the trigger's "List Callback Url" operation
// (https://learn.microsoft.com/rest/api/logic/workflow-triggers/list-callback-url).
resource alertUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: alertUrlSecretName
  properties: {
    value: listCallbackUrl('${workflow.id}/triggers/manual', '2019-05-01').value
    contentType: 'Logic App trigger URL (STEWARD_ALERT_URL)'
  }
}

output workflowName string = workflow.name
output alertUrlSecretName string = alertUrl.name
