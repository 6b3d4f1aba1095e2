// Log Analytics workspace and workspace-based Application Insights.
//
// Local (instrumentation-key) authentication is switched off: the Functions host sends telemetry
// with the managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), which needs the
// Monitoring Metrics Publisher role on this component (see roles.bicep).

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object = {}

@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output applicationInsightsId string = appInsights.id
output applicationInsightsName string = appInsights.name
// The connection string names the component and its ingestion endpoint. With local auth disabled
// it grants nothing by itself (ingestion needs an Entra token), so it is not a secret.
output applicationInsightsConnectionString string = appInsights.properties.ConnectionString
output logAnalyticsWorkspaceId string = workspace.id
