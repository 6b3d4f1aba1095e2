// The permission window's first page (tab/auth-start.html) in Chromium, with a stand-in for
// TeamsJS: it sends the person to Entra with prompt=consent only for the permissions the API can
// name in a consent_required answer, and passes on a claims challenge only when it is the
// claims-request JSON object Entra writes. Anything else in its query string (a link someone
// crafted) is refused before Entra is asked.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, WAIT_MS, isolatedContext, launchBrowser, unexpectedConsoleErrors } from './sandbox.mjs';

const ORIGIN = 'https://tab.sandbox.test';
const AUTHORITY = 'https://login.sandbox.test';
const TENANT = 'f1e1d000-0000-4000-8000-00000000f1e1';
const GRAPH = 'https://graph.microsoft.com';
const ACS = 'https://auth.msft.communication.azure.com';

/** What the page needs of TeamsJS, answering as Teams does in a sign-in window. */
const TEAMS_JS_STAND_IN = `globalThis.microsoftTeams = {
  app: {
    initialize: async () => {},
    getContext: async () => ({ page: { frameContext: 'authentication' }, user: { id: 'u', loginHint: 'avery@fieldworks.example', tenant: { id: '${TENANT}' } } }),
  },
  authentication: {
    notifyFailure: (reason) => { globalThis.reportedFailure = reason; },
    notifySuccess: () => {},
  },
};`;

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Opens auth-start.html?QUERY; resolves with { authorize: URL | null, failure, status }: where
 * the page sent the browser (Entra's authorize endpoint), or what it reported instead.
 */
async function openAuthStart(t, query) {
  const { context, consoleErrors } = await isolatedContext(browser);
  t.after(() => context.close());
  let reachedEntra;
  const entra = new Promise((resolve) => {
    reachedEntra = resolve;
  });
  await context.route(`${AUTHORITY}/**`, (route) => {
    reachedEntra(new URL(route.request().url()));
    return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>Entra</title><p>Entra</p>' });
  });
  await context.route(`${ORIGIN}/**`, (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/config.json') {
      return route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ apiBaseUrl: 'https://api.sandbox.test', clientId: '5a4db0c5-0000-4000-8000-000000000001', authority: AUTHORITY }),
      });
    }
    if (pathname === '/vendor/teams-js/MicrosoftTeams.min.js') {
      return route.fulfill({ contentType: 'text/javascript', body: TEAMS_JS_STAND_IN });
    }
    const type = pathname.endsWith('.html') ? 'text/html' : pathname.endsWith('.css') ? 'text/css' : 'text/javascript';
    return route.fulfill({ contentType: type, body: readFileSync(path.join(ROOT, 'tab', pathname)) });
  });
  const page = await context.newPage();
  await page.goto(`${ORIGIN}/auth-start.html?${query}`);
  const failed = page.waitForFunction(() => globalThis.reportedFailure, null, { timeout: WAIT_MS }).then(
    async () => ({ failure: await page.evaluate(() => globalThis.reportedFailure), status: await page.textContent('#auth-status') }),
  );
  const outcome = await Promise.race([entra.then((authorize) => ({ authorize })), failed]);
  assert.deepEqual(unexpectedConsoleErrors(consoleErrors), []);
  return { authorize: null, failure: null, ...outcome };
}

const query = (params) => new URLSearchParams(params).toString();

test('the permissions of a consent_required answer go to Entra with prompt=consent', async (t) => {
  const scopes = [`${GRAPH}/OnlineMeetings.ReadWrite`, `${GRAPH}/Chat.Create`, `${ACS}/Teams.ManageCalls`, `${ACS}/Teams.ManageChats`];
  const { authorize } = await openAuthStart(t, query({ scopes: scopes.join(' ') }));
  assert.ok(authorize, 'Entra was asked');
  assert.equal(authorize.pathname, `/${TENANT}/oauth2/v2.0/authorize`);
  assert.equal(authorize.searchParams.get('scope'), ['openid', 'profile', ...scopes].join(' '));
  assert.equal(authorize.searchParams.get('prompt'), 'consent');
});

test('a claims challenge as Entra writes it goes to Entra as it is', async (t) => {
  const claims = '{"access_token":{"capolids":{"essential":true,"values":["9ab03e19-ed42-4168-b6b7-7001fb3e933a"]}}}';
  const { authorize } = await openAuthStart(t, query({ claims }));
  assert.ok(authorize, 'Entra was asked');
  assert.equal(authorize.searchParams.get('claims'), claims);
  assert.equal(authorize.searchParams.get('prompt'), null);
});

for (const [what, params] of [
  ['a permission the API never asks for', { scopes: `${GRAPH}/Mail.ReadWrite` }],
  ['a known permission next to an unknown one', { scopes: `${GRAPH}/Chat.Create ${GRAPH}/Files.ReadWrite.All` }],
  ['offline_access', { scopes: 'offline_access' }],
  ['another API\'s .default', { scopes: 'https://evil.example/.default' }],
  ['claims that are not JSON', { claims: 'xms_cc' }],
  ['claims that are a JSON list', { claims: '["access_token"]' }],
  ['claims for something but tokens', { claims: '{"redirect_uri":"https://evil.example"}' }],
  ['scopes and claims at once', { scopes: `${GRAPH}/Chat.Create`, claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' }],
]) {
  test(`the window refuses ${what}, and Entra is never asked`, async (t) => {
    const { authorize, failure, status } = await openAuthStart(t, query(params));
    assert.equal(authorize, null, `Entra was asked: ${authorize}`);
    assert.equal(failure, 'invalid_request');
    assert.match(status, /not a request Remote Expert makes/);
  });
}
