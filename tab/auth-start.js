// The permission window's first page: sends the person to the Microsoft Entra authorize endpoint
// of their own organization, signed in as themselves (login_hint), asking for the permissions
// the API named (consent_required's scopes) or answering a claims challenge.
//
// It uses the authorization code flow with PKCE, as a single-page app redirect URI requires.
// auth-end.html never redeems the code: the tab holds no token but the SSO token Teams gives it;
// the window exists so that Entra records the consent. What it asks for is checked first
// (consent-request.js): a crafted link cannot make it ask for other permissions.

import { loadConfig } from './config.js';
import { ConsentRequestError, consentRequest } from './consent-request.js';
import * as teams from './teams.js';

const STORAGE_KEY = 'remote-expert.auth';

function base64Url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes = 32) {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function start() {
  const status = document.getElementById('auth-status');
  try {
    const config = await loadConfig();
    const context = await teams.start(config.validMessageOrigins);
    if (!context.tenantId) throw new Error('Teams did not say which organization you are in.');
    const { scopes, claims } = consentRequest(new URL(window.location.href).searchParams);

    const state = randomText();
    const verifier = randomText();
    const challenge = base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ state }));

    const authorize = new URL(`${config.authority}/${encodeURIComponent(context.tenantId)}/oauth2/v2.0/authorize`);
    const query = authorize.searchParams;
    query.set('client_id', config.clientId);
    query.set('response_type', 'code');
    query.set('response_mode', 'fragment');
    query.set('redirect_uri', new URL('auth-end.html', window.location.href).href);
    query.set('scope', ['openid', 'profile', ...scopes].join(' '));
    query.set('state', state);
    query.set('code_challenge', challenge);
    query.set('code_challenge_method', 'S256');
    if (context.loginHint) query.set('login_hint', context.loginHint);
    if (claims) {
      query.set('claims', claims);
    } else {
      query.set('prompt', 'consent');
    }
    window.location.assign(authorize.href);
  } catch (error) {
    const refused = error instanceof ConsentRequestError;
    status.textContent = refused
      ? `This is not a request Remote Expert makes (${error.message}), so the sign-in page was not opened.`
      : `The sign-in page could not be opened: ${error.message}`;
    try {
      teams.notifyFailure(refused ? 'invalid_request' : String(error.message));
    } catch {
      // not opened by Teams: nothing to tell
    }
  }
}

start();
