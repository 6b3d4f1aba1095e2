// Azure Communication Services resource, and the vault secret the handler reads for it.
//
// The connection string goes straight from listKeys() into Key Vault: it never appears in an
// output, an app setting or the deployment's parameters.
//
// accessKey mode       the secret holds the primary connection string (endpoint + access key);
//                      the handler signs the Teams-token exchange with HMAC.
// managedIdentity mode the secret holds only `endpoint=https://<host>/` (no key): the handler
//                      then authenticates to ACS with the managed identity, which needs
//                      Contributor on this resource (roles.bicep). The handler reads the vault
//                      secret whenever KEY_VAULT_URI is set, so the secret is written in both modes.

param name string

@description('Geography where ACS stores data at rest, e.g. "United States", "Europe".')
param dataLocation string = 'United States'

@allowed([
  'accessKey'
  'managedIdentity'
])
param authMode string = 'accessKey'

@description('Name of the vault that receives the connection string.')
param keyVaultName string

@description('Vault entry name; must match ACS_CONNECTION_STRING_NAME.')
param vaultEntryName string = 'acs-connection-string'

param tags object = {}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource connectionString 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: vaultEntryName
  properties: {
    contentType: authMode == 'accessKey' ? 'ACS connection string' : 'ACS endpoint (managed identity, no key)'
    value: authMode == 'accessKey' ? acs.listKeys().primaryConnectionString : 'endpoint=https://${acs.properties.hostName}/'
  }
}

output id string = acs.id
output name string = acs.name
output endpoint string = 'https://${acs.properties.hostName}'
output vaultEntryName string = connectionString.name
