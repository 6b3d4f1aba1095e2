// tab/acs-token.js keeps the ACS token fresh exactly as @azure/communication-common's
// AzureCommunicationTokenCredential (2.4.2, with tokenRefresher and refreshProactively) does:
// both run side by side on one mocked clock and must refresh at the same moments.

import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';

import { AcsTokenKeeper } from '../../tab/acs-token.js';

const MINUTE = 60_000;
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A JWT-shaped ACS token (the SDK reads `exp`) and the route's answer for the same expiry. */
function issue(lifetimeMs) {
  const expires = Date.now() + lifetimeMs;
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(expires / 1000) })).toString('base64url');
  return { token: `eyJhbGciOiJub25lIn0.${payload}.sig`, expiresOn: new Date(expires).toISOString(), teamsUserId: 'u' };
}

async function refreshMoments(lifetimeMs, minutes) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  const start = Date.now();
  const sdkCalls = [];
  const ourCalls = [];
  const sdk = new AzureCommunicationTokenCredential({
    refreshProactively: true,
    tokenRefresher: async () => {
      sdkCalls.push((Date.now() - start) / MINUTE);
      return issue(lifetimeMs).token;
    },
  });
  const ours = new AcsTokenKeeper({
    fetchToken: async () => {
      ourCalls.push((Date.now() - start) / MINUTE);
      return issue(lifetimeMs);
    },
  });
  try {
    await Promise.all([sdk.getToken(), ours.getToken()]);
    for (let i = 0; i < minutes * 4; i += 1) {
      mock.timers.tick(MINUTE / 4);
      await flush();
    }
    // Both still hand out a valid token at the end.
    assert.ok((await sdk.getToken()).expiresOnTimestamp > Date.now());
    assert.ok((await ours.getToken()).expiresOnTimestamp > Date.now());
  } finally {
    sdk.dispose();
    ours.dispose();
    mock.timers.reset();
  }
  return { sdkCalls, ourCalls };
}

test('an hour-long token is renewed ten minutes before it expires, as the SDK does', async () => {
  const { sdkCalls, ourCalls } = await refreshMoments(60 * MINUTE, 180);
  assert.deepEqual(ourCalls.map(Math.round), [0, 50, 100, 150]);
  assert.deepEqual(ourCalls.map(Math.round), sdkCalls.map(Math.round));
});

test('a short-lived token is renewed after half of what is left, as the SDK does', async () => {
  const { sdkCalls, ourCalls } = await refreshMoments(8 * MINUTE, 12);
  assert.ok(ourCalls.length >= 3, `renewed ${ourCalls.length} times`);
  assert.deepEqual(ourCalls.map((m) => Math.round(m * 4)), sdkCalls.map((m) => Math.round(m * 4)));
});

test('an expired token is refreshed before getToken answers; concurrent callers share one refresh', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  let fetches = 0;
  const keeper = new AcsTokenKeeper({ fetchToken: async () => { fetches += 1; return issue(60 * MINUTE); } });
  try {
    const [a, b] = await Promise.all([keeper.getToken(), keeper.getToken()]);
    assert.equal(fetches, 1);
    assert.equal(a, b);
    assert.equal(keeper.nextRefreshAt, Date.now() + 50 * MINUTE);
  } finally {
    keeper.dispose();
    mock.timers.reset();
  }
});

test('a failed background refresh is reported and tried again while the token still works', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  const errors = [];
  let fail = false;
  let fetches = 0;
  const keeper = new AcsTokenKeeper({
    fetchToken: async () => {
      fetches += 1;
      if (fail) throw new Error('throttled');
      return issue(60 * MINUTE);
    },
    onError: (error) => errors.push(error.message),
  });
  try {
    await keeper.getToken();
    fail = true;
    mock.timers.tick(50 * MINUTE);
    await flush();
    assert.deepEqual(errors, ['throttled']);
    fail = false;
    mock.timers.tick(MINUTE / 2);
    await flush();
    assert.equal(fetches, 3, 'retried 30 s later');
    assert.equal(errors.length, 1);
  } finally {
    keeper.dispose();
    mock.timers.reset();
  }
});
