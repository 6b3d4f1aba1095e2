// Reads the application that an earlier provision of this template created, by its uniqueName,
// WITHOUT changing it. main.bicep uses it instead of app-registration.bicep's pass 1 once the app
// exists (the azd environment holds ENTRA_CLIENT_ID), so that re-provisioning never sends the
// weaker pass-1 object (no identifierUris, no preAuthorizedApplications) to a working app.
//
// `existing` by uniqueName: "Reference existing Microsoft Graph resources in Bicep templates"
// (https://learn.microsoft.com/graph/templates/how-to-reference-existing-resources). If the
// application was deleted, this fails with "not found": clear ENTRA_CLIENT_ID in the azd
// environment (azd env set ENTRA_CLIENT_ID "") and provision again (docs/deployment.md).

extension microsoftGraphV1

@description('uniqueName of the application an earlier provision created.')
param uniqueName string

resource app 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: uniqueName
}

output appId string = app.appId
