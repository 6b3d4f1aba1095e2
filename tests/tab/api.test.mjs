// tab/api.js: a fresh SSO token per call, the consent-retry header, and one error type.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ApiProblem, createApi, parseRetryAfter } from '../../tab/api.js';

function fakeFetch(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, ...init });
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetch, calls };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const problem = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/problem+json', ...headers } });

test('every call asks Teams for a token and sends it as a bearer token', async () => {
  const { fetch, calls } = fakeFetch([json(200, { name: 'Avery' }), json(200, { value: [] })]);
  let issued = 0;
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => `token-${(issued += 1)}`, fetch });
  await api.whoAmI();
  await api.searchContacts('pump & co', 5);
  assert.equal(calls[0].url, 'https://api.example/api/token/validate');
  assert.equal(calls[0].method, 'POST');
  assert.equal(calls[0].headers.Authorization, 'Bearer token-1');
  assert.equal(calls[1].url, 'https://api.example/api/contacts?q=pump+%26+co&top=5');
  assert.equal(calls[1].headers.Authorization, 'Bearer token-2', 'a fresh token, not a stored one');
  assert.equal(calls[1].credentials, 'omit');
});

test('after consent the call says so with x-consent-retry', async () => {
  const { fetch, calls } = fakeFetch([json(201, { chatId: 'c', messageId: 'm' })]);
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => 't', fetch });
  await api.notifyChat({ recipients: ['x'], message: 'hi' }, { consentRetry: true });
  assert.equal(calls[0].headers['x-consent-retry'], '1');
  assert.equal(calls[0].headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(calls[0].body), { recipients: ['x'], message: 'hi' });
});

test('a claims challenge is passed to Teams when asking for the token', async () => {
  const { fetch } = fakeFetch([json(200, {})]);
  const asked = [];
  const api = createApi({ baseUrl: 'https://api.example', getToken: async (o) => { asked.push(o); return 't'; }, fetch });
  await api.profile('me', { claims: '{"access_token":{}}' });
  assert.deepEqual(asked, [{ claims: '{"access_token":{}}' }]);
});

test('problem+json answers become an ApiProblem with their code and extras', async () => {
  const { fetch } = fakeFetch([
    problem(403, { code: 'consent_required', title: 'Consent required', detail: 'd', scopes: ['https://graph.microsoft.com/Chat.Create'] }),
    problem(401, { code: 'interaction_required', claims: '{"access_token":{"acrs":{"essential":true}}}' }, { 'WWW-Authenticate': 'Bearer error="insufficient_claims"' }),
    problem(429, { code: 'throttled' }, { 'Retry-After': '7' }),
  ]);
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => 't', fetch });
  const consent = await api.acsToken().catch((e) => e);
  assert.ok(consent instanceof ApiProblem);
  assert.equal(consent.code, 'consent_required');
  assert.deepEqual(consent.scopes, ['https://graph.microsoft.com/Chat.Create']);
  const claims = await api.acsToken().catch((e) => e);
  assert.equal(claims.code, 'interaction_required');
  assert.equal(claims.claims, '{"access_token":{"acrs":{"essential":true}}}');
  const throttled = await api.acsToken().catch((e) => e);
  assert.equal(throttled.retryAfter, 7);
});

test('an unreachable API, a refused SSO token and a non-problem answer get codes of their own', async () => {
  const { fetch } = fakeFetch([new TypeError('Failed to fetch'), new Response('', { status: 404 })]);
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => 't', fetch });
  assert.equal((await api.whoAmI().catch((e) => e)).code, 'network');
  assert.equal((await api.whoAmI().catch((e) => e)).code, 'unexpected_response');
  const refusing = createApi({ baseUrl: 'https://api.example', getToken: async () => { throw new Error('resourceRequiresConsent'); }, fetch });
  const sso = await refusing.whoAmI().catch((e) => e);
  assert.equal(sso.code, 'sso_failed');
  assert.match(sso.detail, /resourceRequiresConsent/);
});

test('user ids are encoded into the path', async () => {
  const { fetch, calls } = fakeFetch([new Response(new Uint8Array([1]), { status: 200, headers: { 'Content-Type': 'image/png' } })]);
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => 't', fetch });
  const blob = await api.photo('ann@contoso.example/../x');
  assert.equal(blob.size, 1);
  assert.equal(calls[0].url, 'https://api.example/api/users/ann%40contoso.example%2F..%2Fx/photo');
});

test('Retry-After is read as seconds or as a date', () => {
  assert.equal(parseRetryAfter('12'), 12);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) >= 4, true);
});
