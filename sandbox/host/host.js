// An emulated Teams host: frames the tab as Teams does and answers what TeamsJS asks its host
// (initialize, getContext, authentication.getAuthToken, authentication.authenticate, and in a
// meeting side panel meeting.getMeetingDetails), as the person picked on the page. The meeting
// is one the sandbox's emulated Graph holds, with its chat. Tokens come from the sandbox's emulated Entra ID. This page is a
// test double of Teams, not Teams: it implements only what the Remote Expert tab uses.

const frame = document.getElementById('tab');
const log = document.getElementById('log');
const status = document.getElementById('host-status');

let config;
let persona;
let frameContext = 'content';
let tabOrigin;
let tabUrl;
let popup = null;
let pendingAuth = null;
let popupWatch = null;

function note(text) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.append(item);
  while (log.children.length > 200) log.firstElementChild.remove();
}

function uuid() {
  return crypto.randomUUID();
}

/** The context TeamsJS maps into app.Context (its "legacy" flat shape). */
function legacyContext(inPopup) {
  return {
    entityId: 'remote-expert',
    locale: 'en-us',
    theme: 'default',
    frameContext: inPopup ? 'authentication' : frameContext,
    hostClientType: 'web',
    hostName: 'Teams',
    userObjectId: persona.objectId,
    tid: persona.tenantId,
    loginHint: persona.upn,
    userPrincipalName: persona.upn,
    appSessionId: sessionId,
    ...(frameContext === 'sidePanel' ? { meetingId: config.meeting.id, chatId: config.meeting.chatId } : {}),
  };
}

let sessionId = uuid();

// Teams keeps the SSO token it handed out and gives the same one again until it nears its
// expiry; a request with claims gets a new token from a sign-in that satisfies them.
let cachedToken = null;

async function ssoToken(withClaims) {
  if (cachedToken && cachedToken.persona === persona.id && !withClaims) return cachedToken.token;
  const query = withClaims ? '?claims=1' : '';
  const response = await fetch(`personas/${encodeURIComponent(persona.id)}/token${query}`, { method: 'POST' });
  if (!response.ok) throw new Error(`token for ${persona.id}: HTTP ${response.status}`);
  const { token } = await response.json();
  cachedToken = { persona: persona.id, token };
  return token;
}

function answerAuth(args) {
  if (pendingAuth) {
    pendingAuth(args);
    pendingAuth = null;
  }
  clearInterval(popupWatch);
}

window.addEventListener('message', async (event) => {
  const fromTab = event.source === frame.contentWindow;
  const fromPopup = popup !== null && event.source === popup;
  if ((!fromTab && !fromPopup) || event.origin !== tabOrigin) return;
  const message = event.data;
  if (!message || typeof message.func !== 'string') return;
  const reply = (args) => event.source.postMessage({ id: message.id, uuidAsString: message.uuidAsString, args }, event.origin);
  const who = fromPopup ? 'sign-in window' : 'tab';
  switch (message.func) {
    case 'initialize':
      note(`${who}: initialize`);
      reply([fromPopup ? 'authentication' : frameContext, 'web', JSON.stringify({ apiVersion: 4, supports: {} }), '2.0.0']);
      break;
    case 'getContext':
      note(`${who}: getContext`);
      reply([legacyContext(fromPopup)]);
      break;
    case 'authentication.getAuthToken':
      try {
        const withClaims = Boolean(message.args?.[1]);
        const token = await ssoToken(withClaims);
        note(`${who}: getAuthToken → an SSO token for ${persona.name}${withClaims ? ' (with claims)' : ''}`);
        reply([true, token]);
      } catch (error) {
        note(`${who}: getAuthToken failed: ${error.message}`);
        reply([false, 'resourceRequiresConsent']);
      }
      break;
    case 'authentication.authenticate': {
      const [url, width, height] = message.args ?? [];
      let target;
      try {
        target = new URL(url);
      } catch {
        target = null;
      }
      // Teams opens only pages of the app's validDomains.
      if (!target || target.origin !== tabOrigin) {
        note(`${who}: authenticate refused for ${url}`);
        reply([false, 'The URL is not in the app\'s valid domains.']);
        break;
      }
      note(`${who}: authenticate → opening ${target.pathname}`);
      answerAuth([false, 'Superseded by a new sign-in window.']);
      pendingAuth = reply;
      popup = window.open(target.href, 'remote-expert-auth', `width=${width || 600},height=${height || 535}`);
      if (!popup) {
        answerAuth([false, 'FailedToOpenWindow']);
        break;
      }
      clearInterval(popupWatch);
      popupWatch = setInterval(() => {
        if (popup && popup.closed) {
          note('sign-in window closed');
          answerAuth([false, 'CancelledByUser']);
        }
      }, 500);
      break;
    }
    case 'meeting.getMeetingDetails': {
      // TeamsJS's callback gets (error, details); outside a meeting Teams answers an error.
      const m = config.meeting;
      if (frameContext !== 'sidePanel') {
        note(`${who}: getMeetingDetails refused (not in a meeting)`);
        reply([{ errorCode: 100, message: 'Not in a meeting.' }, null]);
        break;
      }
      note(`${who}: getMeetingDetails → ${m.subject}`);
      reply([null, {
        details: { id: m.id, title: m.subject, joinUrl: m.joinUrl, type: 'Scheduled', scheduledStartTime: m.startDateTime, scheduledEndTime: m.endDateTime },
        conversation: { id: m.chatId },
        organizer: { id: m.organizer.id, tenantId: m.organizer.tenantId },
      }]);
      break;
    }
    case 'authentication.authenticate.success':
      note('sign-in window: success');
      answerAuth([true, message.args?.[0]]);
      break;
    case 'authentication.authenticate.failure':
      note(`sign-in window: failure (${message.args?.[0]})`);
      answerAuth([false, message.args?.[0]]);
      break;
    default:
      // appInitialization.*, registerHandler and the like need no answer from this host.
      note(`${who}: ${message.func} (not emulated)`);
  }
});

function open() {
  const form = document.getElementById('pick');
  persona = config.personas.find((p) => p.id === form.elements.persona.value) ?? config.personas[0];
  frameContext = form.elements.frame.value;
  document.body.dataset.frame = frameContext;
  sessionId = uuid();
  answerAuth([false, 'The tab was reopened.']);
  frame.src = tabUrl.href;
  status.textContent = `Tab opened as ${persona.name} (${persona.organization}), ${frameContext === 'sidePanel' ? 'meeting side panel' : 'personal tab'}.`;
  const query = new URLSearchParams({ persona: persona.id, frame: frameContext });
  if (tabUrl.href !== config.tabUrl) query.set('tab', tabUrl.href);
  history.replaceState(null, '', `?${query}`);
}

async function start() {
  config = await (await fetch('host-config.json')).json();
  const asked = new URLSearchParams(window.location.search);
  // ?tab=URL frames another copy of the tab (one in development, or behind an https proxy):
  // https, or http on this machine.
  tabUrl = new URL(config.tabUrl);
  if (asked.get('tab')) {
    const other = new URL(asked.get('tab'));
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(other.hostname);
    if (other.protocol === 'https:' || (other.protocol === 'http:' && loopback)) tabUrl = other;
  }
  tabOrigin = tabUrl.origin;
  document.getElementById('graph-state').href = config.graphStateUrl;
  document.getElementById('telemetry').href = config.telemetryUrl;
  const holder = document.getElementById('personas');
  for (const p of config.personas) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'persona';
    input.value = p.id;
    label.append(input, ` ${p.label}`);
    holder.append(label);
  }
  const form = document.getElementById('pick');
  const chosen = config.personas.some((p) => p.id === asked.get('persona')) ? asked.get('persona') : config.personas[0].id;
  form.elements.persona.value = chosen;
  if (asked.get('frame') === 'sidePanel') form.elements.frame.value = 'sidePanel';
  document.getElementById('throttle').addEventListener('click', async () => {
    const answer = await fetch('emulation/throttle-next-search', { method: 'POST' });
    status.textContent = answer.ok
      ? 'The emulated Graph will answer the next search with 429 Too Many Requests (Retry-After: 1), past the handler\'s retries.'
      : `The emulation refused: HTTP ${answer.status}`;
  });
  document.getElementById('challenge').addEventListener('click', async () => {
    const answer = await fetch('emulation/challenge-next-exchange', { method: 'POST' });
    status.textContent = answer.ok
      ? 'The emulated Entra ID will answer the next on-behalf-of exchange with interaction_required and a claims challenge.'
      : `The emulation refused: HTTP ${answer.status}`;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    open();
  });
  open();
}

start();
