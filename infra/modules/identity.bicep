// User-assigned managed identity of the Function App.
//
// One identity does everything: it reads the deployment package and the host's storage
// (AzureWebJobsStorage__credential=managedidentity), reads secrets from Key Vault, sends
// telemetry to Application Insights with Entra auth, and, in the federated-credential mode, is
// the subject the app registration trusts. It is user-assigned because a federated identity
// credential cannot name a system-assigned identity.

@description('Name of the identity.')
param name string

param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
