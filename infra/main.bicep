// Remote expert backend: the Rust custom handler on Azure Functions Flex Consumption, with its
// storage, identity, Key Vault, Azure Communication Services, monitoring and (optionally) the
// multitenant Entra app registration.
//
// Deploy with `azd up` (azure.yaml, main.parameters.json) or
// `az deployment group create -g <rg> -f infra/main.bicep -p ...` (docs/deployment.md).
// Resource-group scope, so both paths deploy the same template into a group you choose.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name.')
param environmentName string

@description('Region of the Function App and its resources (must offer Flex Consumption).')
param location string = resourceGroup().location

@description('Host the Teams tab is served from, lower case, no scheme, e.g. tab.contoso.example (a custom domain you add to the Static Web App). Empty: the Static Web App\'s own host name. The identifier URI is api://<tab host>/<client id>.')
param tabHost string = ''

@allowed([
  'centralus'
  'eastus2'
  'eastasia'
  'westeurope'
  'westus2'
])
@description('Region of the Static Web App that serves the tab (Static Web Apps offers only these).')
param staticWebAppLocation string = 'westeurope'

@description('Extra origins for the platform CORS settings (full origins, e.g. https://tab2.contoso.example).')
param extraCorsOrigins array = []

@description('false leaves the site CORS settings empty (see docs/deployment.md, CORS on Flex Consumption).')
param enablePlatformCors bool = true

// --- Entra app registration -------------------------------------------------------------------

@description('Client id of an existing multitenant app registration (SaaS path, or an app made by hand). Empty: this template creates one (public cloud only: outside it this is required).')
param existingClientId string = ''

@description('Application ID URI of that existing app registration, e.g. api://tab.contoso.example/<client id>.')
param existingAppIdUri string = ''

@description('uniqueName of the app registration this template creates (immutable).')
param appRegistrationUniqueName string = 'remote-expert-${environmentName}'

@description('Client id of the app registration that an earlier provision of this template created (azd passes the ENTRA_CLIENT_ID output it stored). Set: the app exists, so pass 1 of the app registration module is skipped and nothing is ever sent without its identifier URI and Teams pre-authorizations. Empty: first provision.')
param previousClientId string = ''

param appRegistrationDisplayName string = 'Remote Expert (${environmentName})'

@description('More SPA redirect URIs for the tab\'s consent popup; https://<tab host>/auth-end.html is always registered.')
param consentRedirectUris array = []

@description('"*" for every tenant that consented, or comma-separated tenant ids.')
param allowedTenants string = '*'

@description('Client ids (comma-separated GUIDs) of the apps allowed to call the API (the token\'s azp/appid), or "*" for any. Empty: the handler\'s default, the Teams / Microsoft 365 / Outlook clients of infra/teams-client-apps.json plus the app\'s own client id.')
param allowedClientApps string = ''

@allowed([
  'secret'
  'managed-identity'
])
@description('secret: the admin stores entra-client-secret in the vault. managed-identity: federated credential, no secret.')
param entraClientCredential string = 'secret'

// --- Azure Communication Services ---------------------------------------------------------------

@description('Geography where ACS keeps data at rest.')
param acsDataLocation string = 'United States'

@allowed([
  'accessKey'
  'managedIdentity'
])
@description('accessKey: HMAC with the connection string from the vault. managedIdentity: Entra token, Contributor on the ACS resource.')
param acsAuthMode string = 'accessKey'

// --- Scale --------------------------------------------------------------------------------------

@allowed([
  512
  2048
  4096
])
@description('Memory of each instance; the handler idles at under 10 MiB.')
param instanceMemoryMB int = 512

// Platform range 1..1000 ("Limit scale-out", https://learn.microsoft.com/azure/azure-functions/event-driven-scaling#limit-scale-out,
// 2026-08). Until the 2026 roll-out the lowest maximum was 40, and a region that lags may still refuse
// values below 40 (docs/deployment.md, "What is checked here"). scripts/ci/check_bicep.py holds every
// maximumInstanceCount parameter to this range.
@minValue(1)
@maxValue(1000)
@description('Cap on on-demand instances of the HTTP function group. Below 40 only where the region accepts it (docs/deployment.md).')
param maximumInstanceCount int = 100

@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance. The handler is async and mostly waits on Graph and Entra, so far more than the platform default fits.')
param httpPerInstanceConcurrency int = 64

// --- Security -----------------------------------------------------------------------------------

@allowed([
  'Enabled'
  'Disabled'
])
@description('Public network access of the Function App, the storage account and the vault. Disabled needs VNet integration and private endpoints, which this template does not create.')
param publicNetworkAccess string = 'Enabled'

// Key Vault after `azd down`: the vault is only soft-deleted, and `azd down --purge` skips vaults
// with purge protection, so for up to the retention period (90 days) its name stays taken and a
// new vault of that name fails ("a vault with the same name already exists in deleted state").
// Three ways out, all parameters azd fills from the environment (docs/deployment.md, "azd down and
// up again"): recover the deleted vault (keyVaultCreateMode 'recover', once), give the new vault
// another name (keyVaultNameSuffix), or, for throw-away environments, create it without purge
// protection in the first place (a vault that has it cannot lose it again).
@description('Key Vault purge protection (cannot be turned off later). Set false only for throw-away environments (azd: KEY_VAULT_PURGE_PROTECTION=false).')
param keyVaultPurgeProtection bool = true

@allowed([
  'default'
  'recover'
])
@description('default: create or update the vault. recover: bring back the soft-deleted vault of the same name (after azd down), with its secrets; fails when there is none, so set it for one provision only (azd: KEY_VAULT_CREATE_MODE).')
param keyVaultCreateMode string = 'default'

@maxLength(8)
@description('Appended to the vault name kv-<token>, e.g. "2": a new name when the old vault is soft-deleted and should stay so (azd: KEY_VAULT_NAME_SUFFIX). Letters and digits.')
param keyVaultNameSuffix string = ''

@description('Object id that gets Key Vault Secrets Officer on the vault, to store entra-client-secret. azd fills in the signed-in user (AZURE_PRINCIPAL_ID); empty grants nobody.')
param vaultAdministratorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultAdministratorPrincipalType string = 'User'

param tags object = {}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, {
  'azd-env-name': environmentName
})
// The tab's host: the custom domain when given, else the Static Web App's own host name. It goes
// into the app registration's identifier URI and consent redirect URI, the Function App's CORS
// and the outputs that scripts/deploy/package_teams_app.py puts into the Teams manifest.
var normalizedTabHost = empty(tabHost) ? toLower(tabSite.outputs.defaultHostName) : toLower(tabHost)
var tabOrigin = 'https://${normalizedTabHost}'
// The tab's consent window ends on this page (tab/auth-end.html).
var tabConsentRedirectUris = union(['${tabOrigin}/auth-end.html'], consentRedirectUris)
var clientCredentialVaultEntry = 'entra-client-secret'
var acsVaultEntry = 'acs-connection-string'
// The Microsoft Graph Bicep extension deploys in the public cloud only ("Microsoft Graph Bicep
// feature limitations": "Deployments are supported for the public cloud only",
// https://learn.microsoft.com/graph/templates/limitations). Elsewhere (Azure Government, Azure
// operated by 21Vianet) the app registration must exist and existingClientId is required: fail()
// stops the deployment at once with this message instead of a Graph error half-way.
// fail(): https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-flow-control
// (Bicep 0.33 or later; the Graph extension already needs 0.36.1). It stays inside the ternary,
// which short-circuits: fail() is evaluated only when no client id was given outside the public
// cloud, never when existingClientId is set.
var isPublicCloud = toLower(environment().name) == 'azurecloud'
var createAppRegistration = empty(existingClientId) ? (isPublicCloud ? true : fail('The Microsoft Graph Bicep extension deploys only in the public cloud, not in ${environment().name}: this template cannot create the app registration here. Create it by hand (docs/deployment.md, "Sovereign clouds") and set existingClientId (azd env set EXISTING_CLIENT_ID <client id>).')) : false
// The app registration exists when an earlier provision stored its client id (previousClientId).
var appRegistrationExists = !empty(previousClientId)

// Known Teams / Microsoft 365 host origins, plus the tab's own origin. The browser sends the
// tab's origin on the tab's own calls; the host origins cover pages that Teams or Microsoft 365
// serve themselves. Exact origins only, no wildcards.
var corsOrigins = union(
  [
    tabOrigin
    'https://teams.microsoft.com'
    'https://teams.cloud.microsoft'
    'https://outlook.office.com'
    'https://outlook.office365.com'
    'https://www.office.com'
    'https://m365.cloud.microsoft'
  ],
  extraCorsOrigins
)

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module tabSite 'modules/staticwebapp.bicep' = {
  name: 'tab'
  params: {
    name: 'stapp-${resourceToken}'
    location: staticWebAppLocation
    tags: allTags
    azdServiceName: 'tab'
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: allTags
    publicNetworkAccess: publicNetworkAccess
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${resourceToken}${toLower(keyVaultNameSuffix)}'
    location: location
    tags: allTags
    enablePurgeProtection: keyVaultPurgeProtection
    createMode: keyVaultCreateMode
    publicNetworkAccess: publicNetworkAccess
  }
}

module acs 'modules/acs.bicep' = {
  name: 'acs'
  params: {
    name: 'acs-${resourceToken}'
    dataLocation: acsDataLocation
    authMode: acsAuthMode
    keyVaultName: keyVault.outputs.name
    vaultEntryName: acsVaultEntry
    tags: allTags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    communicationServiceName: acs.outputs.name
    grantAcsContributor: acsAuthMode == 'managedIdentity'
    vaultAdministratorPrincipalId: vaultAdministratorPrincipalId
    vaultAdministratorPrincipalType: vaultAdministratorPrincipalType
  }
}

// Pass 1 creates the application and gets its appId; pass 2 adds what needs that appId.
// See modules/app-registration.bicep for why there are two passes. Pass 1 leaves the identifier
// URI and the pre-authorized Teams clients out (omitted, so an existing application keeps them:
// the Graph extension's upsert is a PATCH), and it runs only while the application is not known
// to exist; afterwards the lookup reads the appId and pass 2 alone upserts the complete
// application. On a new machine or CI runner without the stored ENTRA_CLIENT_ID, pass 1 runs again
// and is harmless; docs/deployment.md shows how to share the azd environment (remote state).
module appRegistration 'modules/app-registration.bicep' = if (createAppRegistration && !appRegistrationExists) {
  name: 'app-registration'
  params: {
    uniqueName: appRegistrationUniqueName
    displayName: appRegistrationDisplayName
    tabHost: normalizedTabHost
    consentRedirectUris: tabConsentRedirectUris
    finalize: false
  }
}

module appRegistrationLookup 'modules/app-registration-lookup.bicep' = if (createAppRegistration && appRegistrationExists) {
  name: 'app-registration-lookup'
  params: {
    uniqueName: appRegistrationUniqueName
  }
}

// The appId as Entra has it: read back by uniqueName when the app exists (a stale
// previousClientId cannot end up in the identifier URI), else the one pass 1 just got.
var registeredAppId = appRegistrationExists ? appRegistrationLookup.outputs.appId : appRegistration.outputs.appId

module appRegistrationFinal 'modules/app-registration.bicep' = if (createAppRegistration) {
  name: 'app-registration-final'
  params: {
    uniqueName: appRegistrationUniqueName
    displayName: appRegistrationDisplayName
    tabHost: normalizedTabHost
    consentRedirectUris: tabConsentRedirectUris
    finalize: true
    appId: registeredAppId
    createFederatedCredential: entraClientCredential == 'managed-identity'
    managedIdentityPrincipalId: identity.outputs.principalId
  }
}

var entraClientId = createAppRegistration ? appRegistrationFinal.outputs.appId : existingClientId
var entraAppIdUri = createAppRegistration ? appRegistrationFinal.outputs.identifierUri : existingAppIdUri

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: allTags
    azdServiceName: 'handler'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    publicNetworkAccess: publicNetworkAccess
    corsAllowedOrigins: corsOrigins
    enableCors: enablePlatformCors
    entraClientId: entraClientId
    entraAppIdUri: entraAppIdUri
    entraAllowedTenants: allowedTenants
    entraAllowedClientApps: allowedClientApps
    entraClientCredential: entraClientCredential
    keyVaultUri: keyVault.outputs.uri
    acsEndpoint: acs.outputs.endpoint
    vaultEntryForClientCredential: clientCredentialVaultEntry
    vaultEntryForAcs: acsVaultEntry
  }
  // The host reads its storage and the package with the identity: grant first, then start.
  dependsOn: [
    roles
  ]
}

// Key Vault AuditEvent and the Function App's FunctionAppLogs to the workspace monitoring.bicep
// created (modules/diagnostics.bicep says why this is a module of its own).
module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    workspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    keyVaultName: keyVault.outputs.name
    functionAppName: functionApp.outputs.name
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd writes them into .azure/<env>/.env). Names and URLs only: no keys, no secrets.
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output KEY_VAULT_NAME string = keyVault.outputs.name
output KEY_VAULT_URI string = keyVault.outputs.uri
output ACS_RESOURCE_NAME string = acs.outputs.name
output ACS_ENDPOINT string = acs.outputs.endpoint
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output ENTRA_CLIENT_ID string = entraClientId
output ENTRA_APP_ID_URI string = entraAppIdUri
output ENTRA_CLIENT_CREDENTIAL string = entraClientCredential
output TAB_HOST string = normalizedTabHost
output TAB_URL string = '${tabOrigin}/'
output STATIC_WEB_APP_NAME string = tabSite.outputs.name
output ENTRA_AUTHORITY_HOST string = endsWith(environment().authentication.loginEndpoint, '/') ? substring(environment().authentication.loginEndpoint, 0, length(environment().authentication.loginEndpoint) - 1) : environment().authentication.loginEndpoint
output ADMIN_CONSENT_URL string = '${environment().authentication.loginEndpoint}{tenant}/adminconsent?client_id=${entraClientId}'
