//! What the sandbox prints at start: loudly a sandbox, then everything needed to try it.

use test_support::directory::{EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};

pub fn text(
    host_url: &str,
    tab_url: &str,
    url: &str,
    state_url: &str,
    field_token: &str,
    expert_token: &str,
    hours: i64,
) -> String {
    let rule = "=".repeat(78);
    format!(
        r#"{rule}
  REMOTE EXPERT SANDBOX - OFFLINE EMULATION, NOT MICROSOFT
  Entra ID, Microsoft Graph, Azure Communication Services, Key Vault and the
  managed identity are emulated on this machine. The tokens below are only
  accepted here, and nothing is sent to Microsoft.
{rule}

Open the Teams tab in the emulated Teams host:   {host_url}
  (pick who you are: field worker, remote expert, a user whose organization has
  not consented yet, or a user of an organization that is not allowed)
The tab itself (served like Azure Static Web Apps): {tab_url}
Handler (the real one, configured as in Azure): {url}
API reference (its OpenAPI description):         {url}/docs/
Telemetry (each request and its dependency calls, as Application Insights
  gets them from the handler):                   {url}/telemetry/
Emulated Graph state (meetings, chats):          {state_url}

Field worker:   Avery Field, avery@fieldworks.example  (Fieldworks, tenant {FIELD_TENANT})
Remote expert:  Robin Expert, robin@experts.example    (Experts Inc., tenant {EXPERT_TENANT})
Their SSO tokens are valid for {hours} h:

export SANDBOX={url}
export FIELD_WORKER_TOKEN={field_token}
export EXPERT_TOKEN={expert_token}

# Who am I?
curl -s -X POST $SANDBOX/api/token/validate -H "Authorization: Bearer $FIELD_WORKER_TOKEN"

# Find an expert (your own organization's directory and people)
curl -s "$SANDBOX/api/contacts?q=pump" -H "Authorization: Bearer $FIELD_WORKER_TOKEN"

# A meeting with the expert from the other organization
curl -s -X POST $SANDBOX/api/meetings -H "Authorization: Bearer $FIELD_WORKER_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{{"subject":"Pump 7 vibration","startDateTime":"2026-11-26T14:00:00Z","endDateTime":"2026-11-26T15:00:00Z","participants":[{{"userId":"{EXPERT_OID}","tenantId":"{EXPERT_TENANT}","role":"presenter"}}]}}'

# Tell the expert, in a chat across the two organizations
curl -s -X POST $SANDBOX/api/notifications/chat -H "Authorization: Bearer $FIELD_WORKER_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{{"recipients":[{{"userId":"{EXPERT_OID}","tenantId":"{EXPERT_TENANT}"}}],"message":"Pump 7 needs you"}}'
# ...and the next messages of the session into the same chat: Graph reuses only one-on-one
# chats, so keep the "chatId" that call returned (several recipients make a new group each time)
#   -d '{{"chatId":"<chatId from above>","message":"Joining in 5 minutes"}}'

# The expert's ACS token, to call as themselves
curl -s -X POST $SANDBOX/api/acs/token -H "Authorization: Bearer $EXPERT_TOKEN"

# Profiles and photos
curl -s $SANDBOX/api/users/me -H "Authorization: Bearer $EXPERT_TOKEN"
curl -s -o avery.jpg $SANDBOX/api/users/{FIELD_WORKER_OID}/photo -H "Authorization: Bearer $FIELD_WORKER_TOKEN"

Stop with Ctrl-C."#
    )
}
