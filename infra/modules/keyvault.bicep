// Key Vault for the handler's secrets, RBAC only (no access policies).
//
// Secrets in it:
//   acs-connection-string  written by acs.bicep from the ACS resource's keys
//   entra-client-secret    NOT written by Bicep: the administrator stores the app registration's
//                          client secret with `az keyvault secret set` (docs/deployment.md), or
//                          chooses the federated credential and needs no secret at all.

param name string
param location string
param tags object = {}

@description('Purge protection cannot be turned off again once on. Leave it on for production.')
param enablePurgeProtection bool = true

@allowed([
  'default'
  'recover'
])
@description('recover brings back a soft-deleted vault of this name (and its secrets); default creates or updates.')
param createMode string = 'default'

@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    createMode: createMode
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The service accepts only true or "not set" here.
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
