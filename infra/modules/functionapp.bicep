// Flex Consumption plan and the Function App that runs the Rust custom handler.
//
// Every app setting the handler reads (handler/src/config/mod.rs SETTING_NAMES) is either set in
// `siteConfig.appSettings` below or deliberately left to the platform / local development;
// scripts/ci/check_bicep_settings.py compares the two lists in CI. Keep appSettings a literal
// array of { name: '...', value: ... } objects so that check can read it.

param name string
param planName string
param location string
param tags object = {}

@description('azd finds the app to deploy by this tag; must match the service name in azure.yaml.')
param azdServiceName string = 'handler'

// Identity
param identityId string
param identityClientId string

// Storage (host state and the deployment container)
param storageBlobEndpoint string
param deploymentContainerName string

// Monitoring
param applicationInsightsConnectionString string

@description('Fraction of the handler\'s traces sent to Application Insights, 0 to 1 (TELEMETRY_SAMPLING_RATIO); decided per trace, so a request keeps its dependency calls.')
param telemetrySamplingRatio string = '1'

// Scale
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

// Same range as main.bicep (platform: 1..1000 since the 2026 roll-out, 40..1000 before it);
// scripts/ci/check_bicep.py keeps the two in step.
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Concurrent HTTP requests one instance takes before Flex adds another instance.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 64

// Network
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Origins allowed by the platform CORS settings.')
param corsAllowedOrigins array = []

@description('Set false to leave the site CORS settings empty (see docs/deployment.md, CORS).')
param enableCors bool = true

// Handler settings
param entraClientId string
@description('Application ID URI accepted as audience; empty means "not set".')
param entraAppIdUri string = ''
param entraAllowedTenants string = '*'
@description('ENTRA_ALLOWED_CLIENT_APPS: comma-separated client ids of the calling apps, or "*"; empty means the handler\'s default (infra/teams-client-apps.json plus the app itself).')
param entraAllowedClientApps string = ''

@allowed([
  'secret'
  'managed-identity'
])
param entraClientCredential string = 'secret'

param keyVaultUri string
param acsEndpoint string
@description('Vault entry holding the app registration\'s client secret (ENTRA_CLIENT_SECRET_NAME).')
param vaultEntryForClientCredential string = 'entra-client-secret'
@description('Vault entry holding the ACS connection string (ACS_CONNECTION_STRING_NAME).')
param vaultEntryForAcs string = 'acs-connection-string'

// environment() gives these with a trailing slash; the handler wants scheme and host only.
var loginEndpoint = environment().authentication.loginEndpoint
var entraAuthorityHost = endsWith(loginEndpoint, '/') ? substring(loginEndpoint, 0, length(loginEndpoint) - 1) : loginEndpoint
var graphEndpointRaw = environment().graph
var graphEndpoint = endsWith(graphEndpointRaw, '/') ? substring(graphEndpointRaw, 0, length(graphEndpointRaw) - 1) : graphEndpointRaw

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': azdServiceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: publicNetworkAccess
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
    // Flex Consumption rejects some siteConfig properties outright (ARM error 51021, "... for Flex
    // Consumption sites is invalid"), ftpsState among them; FTP is off through the ftp
    // basicPublishingCredentialsPolicies below instead. The list ("Flex Consumption plan
    // deprecations", https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations)
    // is enforced by scripts/ci/check_bicep_settings.py.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      cors: {
        allowedOrigins: enableCors ? corsAllowedOrigins : []
        supportCredentials: false // the tab sends a bearer token, never cookies
      }
      appSettings: [
        // --- Functions host (platform settings) ---
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // --- The handler (handler/src/config/mod.rs SETTING_NAMES) ---
        {
          name: 'ENTRA_CLIENT_ID'
          value: entraClientId
        }
        {
          name: 'ENTRA_APP_ID_URI'
          value: entraAppIdUri
        }
        {
          name: 'ENTRA_ALLOWED_TENANTS'
          value: entraAllowedTenants
        }
        {
          name: 'ENTRA_ALLOWED_CLIENT_APPS'
          value: entraAllowedClientApps
        }
        {
          name: 'ENTRA_AUTHORITY_HOST'
          value: entraAuthorityHost
        }
        {
          name: 'ENTRA_CLIENT_CREDENTIAL'
          value: entraClientCredential
        }
        {
          name: 'GRAPH_ENDPOINT'
          value: graphEndpoint
        }
        {
          name: 'ACS_ENDPOINT'
          value: acsEndpoint
        }
        {
          name: 'KEY_VAULT_URI'
          value: keyVaultUri
        }
        {
          name: 'ENTRA_CLIENT_SECRET_NAME'
          value: vaultEntryForClientCredential
        }
        {
          name: 'ACS_CONNECTION_STRING_NAME'
          value: vaultEntryForAcs
        }
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'TELEMETRY_SAMPLING_RATIO'
          value: telemetrySamplingRatio
        }
      ]
    }
  }
}

// No publishing with user names and passwords: deployments use Entra tokens. The ftp policy is
// also what keeps FTP off (siteConfig.ftpsState is not accepted on Flex Consumption).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output planId string = plan.id
