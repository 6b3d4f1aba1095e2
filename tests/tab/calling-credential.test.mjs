// tab/calling-credential.js hands Microsoft's AzureCommunicationTokenCredential the route's
// tokens: the first one at once, the next ones through tokenRefresher, which the credential
// calls by itself before expiry (refreshProactively). A mocked clock shows when.

import { mock, test } from 'node:test';
import assert from 'node:assert/strict';

import { createCallingCredential } from '../../tab/calling-credential.js';

const MINUTE = 60_000;
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The route's answer: a JWT-shaped ACS token (the credential reads `exp`) and the same expiry. */
function answer(lifetimeMs) {
  const expires = Math.floor((Date.now() + lifetimeMs) / 1000) * 1000;
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ skypeid: 'orgid:u', exp: expires / 1000 })}.c2ln`,
    expiresOn: new Date(expires).toISOString(),
    teamsUserId: 'u',
  };
}

async function withClock(run) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  try {
    await run();
  } finally {
    mock.timers.reset();
  }
}

async function advance(minutes) {
  for (let i = 0; i < minutes * 4; i += 1) {
    mock.timers.tick(MINUTE / 4);
    await flush();
  }
}

test('an hour-long token is renewed by the credential ten minutes before it expires', () => withClock(async () => {
  const start = Date.now();
  const refreshes = [];
  const { credential, teamsUserId } = await createCallingCredential({
    firstToken: async () => answer(60 * MINUTE),
    refreshToken: async () => {
      refreshes.push((Date.now() - start) / MINUTE);
      return answer(60 * MINUTE);
    },
  });
  try {
    assert.equal(teamsUserId, 'u');
    assert.equal((await credential.getToken()).expiresOnTimestamp, start + 60 * MINUTE);
    await advance(160);
    assert.deepEqual(refreshes.map(Math.round), [50, 100, 150]);
    assert.ok((await credential.getToken()).expiresOnTimestamp > Date.now());
  } finally {
    credential.dispose();
  }
}));

test('a failed background refresh keeps the working token and is tried again', () => withClock(async () => {
  const errors = [];
  let fail = true;
  let refreshes = 0;
  const { credential } = await createCallingCredential({
    firstToken: async () => answer(60 * MINUTE),
    refreshToken: async () => {
      refreshes += 1;
      if (fail) throw new Error('throttled');
      return answer(60 * MINUTE);
    },
    onRefreshError: (error) => errors.push(error.message),
  });
  try {
    const first = await credential.getToken();
    await advance(51);
    assert.deepEqual(errors, ['throttled']);
    assert.equal((await credential.getToken()).token, first.token, 'the token that still works is kept');
    fail = false;
    // The credential tries again after half of the remaining ten minutes.
    await advance(5);
    assert.equal(refreshes, 2);
    assert.notEqual((await credential.getToken()).token, first.token);
  } finally {
    credential.dispose();
  }
}));
