// The multitenant Entra app registration, with the Microsoft Graph Bicep extension
// (infra/bicepconfig.json: microsoftGraphV1 -> microsoftgraph/v1.0:1.0.0).
//
// main.bicep deploys this module TWICE on the first provision, on purpose:
//
//   pass 1 (finalize = false)  creates the application: scope access_as_user, API permissions,
//                              token version 2. Entra assigns the appId (client id) here.
//   pass 2 (finalize = true)   upserts the same application (same uniqueName) and adds what needs
//                              that appId or the finished scope: identifierUris
//                              api://<tab host>/<appId>, preAuthorizedApplications for the Teams /
//                              Microsoft 365 / Outlook clients, the service principal and, when
//                              asked for, the federated identity credential for the managed identity.
//
// A resource cannot reference its own appId, and the Teams SSO identifier URI must contain it,
// hence the second pass. Pass 1 leaves identifierUris and preAuthorizedApplications out (an omitted
// property is left as it is by the Graph extension's PATCH upsert; an empty list would remove the
// App ID URI and the Teams pre-authorizations of an existing app until pass 2 restores them).
// main.bicep also runs pass 1 only while the application does not exist yet: once a provision has
// stored ENTRA_CLIENT_ID, later provisions read the appId with app-registration-lookup.bicep (no
// change to the application) and run only pass 2, which declares the complete object. If pass 2 ever fails on a tenant's policy,
// the equivalent manual step is in docs/deployment.md (`az ad app update --identifier-uris`).
//
// The deploying user needs rights to create applications in the tenant (e.g. Application
// Developer, or Application Administrator when the tenant restricts app creation).

extension microsoftGraphV1

@description('Immutable key of the application in Bicep; changing it creates a new application.')
param uniqueName string

param displayName string

@description('Host the Teams tab is served from, e.g. tab.contoso.example (lower case, no scheme).')
param tabHost string

@description('false: create (pass 1). true: add identifier URI, pre-authorized clients, service principal, FIC (pass 2).')
param finalize bool = false

@description('appId from pass 1; required when finalize is true.')
param appId string = ''

@description('Redirect URIs (SPA platform) of the tab\'s consent popup, e.g. https://tab.contoso.example/auth-end.')
param consentRedirectUris array = []

@description('Id of the access_as_user scope. Keep it fixed: a scope cannot be removed while enabled.')
param accessAsUserScopeId string = '9131438e-c127-47d0-8619-3faa821cb66c'

@description('Create a federated identity credential that trusts this managed identity (ENTRA_CLIENT_CREDENTIAL=managed-identity).')
param createFederatedCredential bool = false

@description('Principal (object) id of the user-assigned managed identity; the FIC subject.')
param managedIdentityPrincipalId string = ''

// Delegated permission ids. Microsoft Graph (resource app 00000003-0000-0000-c000-000000000000):
param graphScopeIds object = {
  'OnlineMeetings.ReadWrite': 'a65f2972-a4f8-4f5e-afd7-69ccb046d5dc'
  'Calendars.ReadWrite': '1ec239c2-d7c9-4623-a91a-a9775856bb36'
  'Chat.Create': '38826093-1258-4dea-98f0-00003be2b8d0'
  'ChatMessage.Send': '116b7235-7cc6-461e-b163-8e55691d839e'
  'People.Read': 'ba47897c-39ec-4d83-8086-ee8256fa737d'
  // The signed-in user's own job title, department and office (GET /me); User.ReadBasic.All
  // covers only the basic profile.
  'User.Read': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
  'User.ReadBasic.All': 'b340eb25-3456-403f-be2f-af7a0d370277'
}

// Azure Communication Services (resource app 1fd5118e-2576-4263-8130-9503064c837a):
param acsScopeIds object = {
  'Teams.ManageCalls': 'de8ec1df-066a-4817-bc5d-9a985b986262'
  'Teams.ManageChats': '6290af7f-b407-49f9-92d5-bf584fdc4019'
}

var graphAppId = '00000003-0000-0000-c000-000000000000'
var acsAppId = '1fd5118e-2576-4263-8130-9503064c837a'
var identifierUri = 'api://${toLower(tabHost)}/${appId}'
// Teams / Microsoft 365 / Outlook clients that may request access_as_user without a consent
// prompt (Teams "Configure your tab app in Microsoft Entra ID", tab SSO). ONE list for the whole
// project: infra/teams-client-apps.json ([{clientId, name}]); the handler's default allow-list of
// calling apps (ENTRA_ALLOWED_CLIENT_APPS empty) is the same file plus the app's own client id.
var teamsClientApps = loadJsonContent('../teams-client-apps.json')
var preAuthorized = [for clientApp in teamsClientApps: {
  appId: clientApp.clientId
  delegatedPermissionIds: [
    accessAsUserScopeId
  ]
}]
var ficIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
// The token-exchange audience differs in the sovereign clouds.
var loginHost = toLower(environment().authentication.loginEndpoint)
var ficAudienceGov = contains(loginHost, 'microsoftonline.us') ? 'api://AzureADTokenExchangeUSGov' : ''
var ficAudienceChina = contains(loginHost, 'chinacloudapi.cn') ? 'api://AzureADTokenExchangeChina' : ''
var ficAudience = !empty(ficAudienceGov) ? ficAudienceGov : (!empty(ficAudienceChina) ? ficAudienceChina : 'api://AzureADTokenExchange')

// What both passes declare. Neither pass sends identifierUris or preAuthorizedApplications empty:
// pass 1 leaves them out. The Graph extension upserts an application by uniqueName with an HTTP
// PATCH, and "unlike PUT [PATCH] doesn't use a replacement semantic" ("Uniquely named resources",
// https://learn.microsoft.com/graph/templates/concept-uniquely-named-resources): a property the
// template omits keeps the value the application already has. So even when pass 1 runs against
// an application that exists (a new machine or CI runner whose azd environment has no
// ENTRA_CLIENT_ID yet), it leaves the identifier URI and the Teams pre-authorizations alone, and
// Teams SSO keeps working while the provision runs. scripts/ci/check_bicep.py proves that no
// application pass 1 deploys carries either property.
var accessAsUserScope = {
  id: accessAsUserScopeId
  value: 'access_as_user'
  type: 'User'
  isEnabled: true
  adminConsentDisplayName: 'Use the remote expert backend as the signed-in user'
  adminConsentDescription: 'Lets the Teams tab call the remote expert functions on behalf of the signed-in user.'
  userConsentDisplayName: 'Use the remote expert backend as you'
  userConsentDescription: 'Lets the Teams tab call the remote expert functions on your behalf.'
}
var requiredAccess = [
  {
    resourceAppId: graphAppId
    resourceAccess: map(items(graphScopeIds), scope => {
      id: scope.value
      type: 'Scope'
    })
  }
  {
    resourceAppId: acsAppId
    resourceAccess: map(items(acsScopeIds), scope => {
      id: scope.value
      type: 'Scope'
    })
  }
]

// Pass 1: creates the application (or leaves an existing one as it is but for the same values).
// No identifierUris, no api.preAuthorizedApplications: omitted, not [].
resource appCreate 'Microsoft.Graph/applications@v1.0' = if (!finalize) {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMultipleOrgs'
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      accessAsUserScope
    ]
  }
  requiredResourceAccess: requiredAccess
  spa: {
    redirectUris: consentRedirectUris
  }
}

// Pass 2: the complete application, with what needs the appId or the finished scope.
resource app 'Microsoft.Graph/applications@v1.0' = if (finalize) {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMultipleOrgs'
  identifierUris: [
    identifierUri
  ]
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      accessAsUserScope
    ]
    preAuthorizedApplications: preAuthorized
  }
  requiredResourceAccess: requiredAccess
  spa: {
    redirectUris: consentRedirectUris
  }

  // The managed identity's token for api://AzureADTokenExchange becomes the client assertion of
  // the on-behalf-of exchange: no client secret exists at all.
  resource federatedCredential 'federatedIdentityCredentials@v1.0' = if (createFederatedCredential) {
    name: '${app.uniqueName}/function-app-identity'
    description: 'User-assigned managed identity of the Function App'
    issuer: ficIssuer
    subject: managedIdentityPrincipalId
    audiences: [
      ficAudience
    ]
  }
}

// The service principal in the home tenant (other tenants get theirs at consent).
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = if (finalize) {
  appId: app.appId
}

output appId string = finalize ? app.appId : appCreate.appId
output objectId string = finalize ? app.id : appCreate.id
output identifierUri string = finalize ? identifierUri : ''
output accessAsUserScopeId string = accessAsUserScopeId
