// The tab's start: configuration, TeamsJS, who am I; then the screens, all calling the API
// through the problem panel.

import { createApi, ApiProblem } from './api.js';
import { loadConfig, ConfigError } from './config.js';
import * as teams from './teams.js';
import { ProblemPanel } from './screens/problem-panel.js';
import { showIdentity, showProfile } from './screens/identity.js';
import { SearchScreen } from './screens/search.js';
import { SessionScreen } from './screens/session.js';
import { CallingScreen } from './screens/calling.js';
import { MeetingScreen } from './screens/meeting.js';

const status = document.getElementById('status');
/** One polite live region for everything the tab says in passing. */
function announce(text) {
  status.textContent = text;
}

/** The permission window: auth-start.html, then Entra, then auth-end.html. */
async function openConsentWindow(params) {
  const url = new URL('auth-start.html', document.baseURI);
  for (const [name, value] of Object.entries(params)) {
    if (value) url.searchParams.set(name, value);
  }
  try {
    await teams.openAuthWindow(url.href);
  } catch (error) {
    const reason = String(error?.message ?? error);
    if (/https/i.test(reason)) {
      throw new ApiProblem({ code: 'consent_needs_https', detail: reason });
    }
    throw new ApiProblem({ code: 'consent_declined', detail: reason });
  }
}

async function main() {
  const panel = new ProblemPanel(document.getElementById('problem'), {});
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      panel.showFatal('This tab is not configured', error.message);
      return;
    }
    throw error;
  }
  document.getElementById('sandbox-note').hidden = !config.sandbox;

  let context;
  try {
    context = await teams.start(config.validMessageOrigins);
  } catch (error) {
    panel.showFatal('Open Remote Expert in Teams', error.message);
    return;
  }
  document.documentElement.dataset.theme = context.theme;
  document.body.dataset.frame = context.frameContext;

  const remedies = {
    consent: (problem) => openConsentWindow({ scopes: (problem.scopes ?? []).join(' ') }),
    signIn: (problem) => openConsentWindow({ claims: problem.claims }),
    adminConsentUrl: () => context.tenantId
      ? `${config.authority}/${encodeURIComponent(context.tenantId)}/adminconsent?client_id=${encodeURIComponent(config.clientId)}`
      : null,
  };
  const problems = new ProblemPanel(document.getElementById('problem'), remedies);
  const guard = (action) => problems.guard(action);
  const api = createApi({ baseUrl: config.apiBaseUrl, getToken: teams.ssoToken });

  const session = new SessionScreen(document.getElementById('session'), { api, guard, announce });
  const search = new SearchScreen(document.getElementById('find'), {
    api,
    guard,
    announce,
    partnerExperts: config.partnerExperts,
    onChange: (people) => session.peopleChanged(people),
  });
  const calling = new CallingScreen(document.getElementById('calling'), { api, guard, announce });
  const meeting = new MeetingScreen(document.getElementById('meeting'), { api, guard, announce });
  // Opened in a meeting (a side panel): the meeting exists, so the tab works in it instead of
  // offering to create another. The personal tab keeps the whole flow.
  const inMeeting = Boolean(context.meetingId && context.chatId);

  const identity = document.getElementById('identity');
  let me;
  try {
    me = await guard((options) => api.whoAmI(options));
  } catch {
    // The problem panel says why; nothing else can work without a sign-in.
    document.getElementById('signing-in').textContent = 'Not signed in.';
    return;
  }
  showIdentity(identity, me, context);
  document.getElementById('signing-in').hidden = true;
  document.getElementById('screens').hidden = false;
  announce(`Signed in as ${me.name ?? me.userPrincipalName ?? me.objectId}.`);
  calling.enable();
  if (inMeeting) {
    document.getElementById('find').hidden = true;
    document.getElementById('session').hidden = true;
    document.getElementById('calling-heading').textContent = '2. Calling identity';
    await meeting.show(me, context, await teams.meetingDetails());
  } else {
    search.enable(me.tenantId);
    session.enable();
  }
  // The first call on the user's behalf to Microsoft Graph: a missing consent shows up here,
  // before the person starts searching.
  try {
    showProfile(identity, await guard((options) => api.profile('me', options)));
  } catch {
    // shown by the problem panel
  }
}

main();
