#!/usr/bin/env sh
# azd postprovision hook: print the steps that Bicep cannot do, with this environment's values.
# It reads only names and URLs from the azd environment (outputs of infra/main.bicep) and
# changes nothing.
set -eu

vault="${KEY_VAULT_NAME:-<vault>}"
client_id="${ENTRA_CLIENT_ID:-<client id>}"
credential="${ENTRA_CLIENT_CREDENTIAL:-secret}"
env_name="${AZURE_ENV_NAME:-<env>}"
tab_url="${TAB_URL:-https://${TAB_HOST:-<tab host>}/}"

cat <<INFO

== Remote Expert: after provisioning (docs/deployment.md)
Function App:  ${FUNCTION_APP_URL:-?}
Teams tab:     $tab_url  (Static Web App ${STATIC_WEB_APP_NAME:-?}; azd deploy tab publishes it)
Client id:     $client_id
App ID URI:    ${ENTRA_APP_ID_URI:-?}

INFO
if [ "$credential" = "secret" ]; then
  cat <<'STEP'
1. Store the app registration's client secret in the vault (once, and after each rotation):
STEP
  printf '     az ad app credential reset --id %s --append --display-name functions --years 1 --query password -o tsv \\\n' "$client_id"
  printf "       | tr -d '\\\\r\\\\n' | az keyvault secret set --vault-name %s --name entra-client-secret --file /dev/stdin --query id -o tsv\n" "$vault"
  echo "   (or: azd env set ENTRA_CLIENT_CREDENTIAL managed-identity && azd provision: no secret at all)"
else
  echo "1. Federated credential mode: no client secret is needed."
fi
cat <<INFO
2. Each customer tenant's administrator grants consent once:
     https://login.microsoftonline.com/<tenant id>/adminconsent?client_id=$client_id
3. Build the Teams app package and upload it (Teams admin center > Teams apps > Manage apps > Upload):
     python3 scripts/deploy/package_teams_app.py --env-file .azure/$env_name/.env --tab-url $tab_url

INFO
