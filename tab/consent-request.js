// What the permission window (auth-start.html) may ask Entra for. Its query string comes from
// the tab (a consent_required answer's `scopes`, an interaction_required answer's `claims`), but
// anyone can craft a link to the page: so it asks only for the permissions the API can name and
// passes on only a claims challenge shaped as Entra writes one.

/**
 * Every permission a consent_required answer can list: the least-privilege Graph permissions
 * (handler/src/graph/mod.rs, GRAPH_SCOPES) and the ACS Teams permissions (handler/src/acs.rs,
 * ACS_SCOPES). tests/tab/consent-request.test.mjs holds this list to the handler's.
 */
export const CONSENT_SCOPES = Object.freeze([
  'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
  'https://graph.microsoft.com/Calendars.ReadWrite',
  'https://graph.microsoft.com/Chat.Create',
  'https://graph.microsoft.com/ChatMessage.Send',
  'https://graph.microsoft.com/People.Read',
  'https://graph.microsoft.com/User.Read',
  'https://graph.microsoft.com/User.ReadBasic.All',
  'https://auth.msft.communication.azure.com/Teams.ManageCalls',
  'https://auth.msft.communication.azure.com/Teams.ManageChats',
]);

/** The members a claims request may have (OpenID Connect Core 5.5, plus Entra's access_token). */
const CLAIMS_TARGETS = new Set(['access_token', 'id_token', 'userinfo']);
/** Entra's challenges are a few hundred characters; anything far longer is not one. */
const MAX_CLAIMS_LENGTH = 4000;

export class ConsentRequestError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConsentRequestError';
  }
}

/**
 * `{ scopes: [...], claims: string | null }` from the window's query string, or a
 * ConsentRequestError: scopes only from CONSENT_SCOPES; claims only a JSON object whose members
 * are token names with object values; never both at once (the tab asks for one or the other).
 */
export function consentRequest(searchParams) {
  const scopes = (searchParams.get('scopes') ?? '').split(/\s+/).filter(Boolean);
  const claims = searchParams.get('claims');
  const unknown = scopes.filter((scope) => !CONSENT_SCOPES.includes(scope));
  if (unknown.length > 0) {
    throw new ConsentRequestError(`permissions Remote Expert never asks for: ${unknown.join(', ')}`);
  }
  if (claims !== null && scopes.length > 0) {
    throw new ConsentRequestError('both permissions and a claims challenge');
  }
  if (claims !== null && !isClaimsChallenge(claims)) {
    throw new ConsentRequestError('a claims challenge that is not one');
  }
  return { scopes, claims };
}

function isClaimsChallenge(text) {
  if (text.length === 0 || text.length > MAX_CLAIMS_LENGTH) return false;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(parsed)) return false;
  const members = Object.entries(parsed);
  return members.length > 0 && members.every(([name, value]) => CLAIMS_TARGETS.has(name) && isObject(value));
}
