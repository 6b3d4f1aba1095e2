// Role assignments of the Function App's user-assigned identity. Each one is scoped to the single
// resource that needs it, never to the resource group.

@description('Principal (object) id of the managed identity.')
param principalId string

param storageAccountName string
param keyVaultName string
param applicationInsightsName string

@description('Name of the ACS resource; Contributor is granted on it only when grantAcsContributor is true.')
param communicationServiceName string

@description('True when the handler authenticates to ACS with the managed identity instead of an access key.')
param grantAcsContributor bool = false

@description('Optional: object id of the administrator who stores entra-client-secret (Key Vault Secrets Officer on the vault). azd passes the signed-in user.')
param vaultAdministratorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultAdministratorPrincipalType string = 'User'

// Built-in role definition ids (the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

// Host storage and the Flex deployment container (read the package, keep host state).
resource storageBlobOwnerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// entra-client-secret and acs-connection-string.
resource vaultSecretsUserAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry with Entra auth (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource metricsPublisherAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ACS with Entra auth: the role Microsoft's "Use Microsoft Entra ID in Communication Services"
// quickstart assigns, limited to this one resource.
resource acsContributorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantAcsContributor) {
  name: guid(acs.id, principalId, contributor)
  scope: acs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The vault is RBAC-only, so even its creator cannot write a secret without a data-plane role.
// This lets the administrator run `az keyvault secret set ... --name entra-client-secret`.
resource vaultAdministratorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(vaultAdministratorPrincipalId)) {
  name: guid(vault.id, vaultAdministratorPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: vaultAdministratorPrincipalId
    principalType: vaultAdministratorPrincipalType
  }
}
