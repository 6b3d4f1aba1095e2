// The Teams tab (tab/): Azure Static Web Apps, Free plan. `azd deploy` uploads the staged tab
// (scripts/deploy/stage_tab.py: the pages, config.json and staticwebapp.config.json with the tab's
// Content-Security-Policy) with the SWA CLI and the site's deployment token; no repository is
// linked. A custom domain can be added to the site later; pass it as tabHost then.

param name string

@description('Static Web Apps regions only (the site is global; this is where its metadata lives).')
@allowed([
  'centralus'
  'eastus2'
  'eastasia'
  'westeurope'
  'westus2'
])
param location string

param tags object = {}

@description('azd finds the site by this tag; must match the tab service in azure.yaml.')
param azdServiceName string = 'tab'

resource site 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': azdServiceName
  })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // Content comes from azd (SWA CLI), not from a linked repository and its workflow.
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output name string = site.name
@description('e.g. nice-sand-0a1b2c3d4.5.azurestaticapps.net (no scheme).')
output defaultHostName string = site.properties.defaultHostname
