// Resource logs to the Log Analytics workspace of monitoring.bicep:
//
//   Key Vault     AuditEvent       every secret read and every failed access (who, from where,
//                                  which secret): the record an incident needs
//   Function App  FunctionAppLogs  the Functions host's own log (starts, function runs, errors),
//                                  also when Application Insights is sampled or unreachable
//
// Its own module, deployed after the vault and the site: a diagnostic setting is an extension
// resource scoped to the resource it reads, and monitoring.bicep must run before the Function App
// (which takes the Application Insights connection string from it), so the settings cannot live
// there without a cycle. Category names: "Supported resource log categories for Azure Monitor"
// (Microsoft.KeyVault/vaults: AuditEvent; Microsoft.Web/sites, kind functionapp: FunctionAppLogs).
// scripts/ci/check_bicep.py checks that both settings exist, name their category and point at the
// workspace main.bicep passes in.

@description('Resource id of the Log Analytics workspace (monitoring.bicep output logAnalyticsWorkspaceId).')
param workspaceId string

param keyVaultName string
param functionAppName string

@description('Name of the diagnostic setting on each resource.')
param settingName string = 'to-log-analytics'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource vaultAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: settingName
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

resource functionAppLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: settingName
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}
