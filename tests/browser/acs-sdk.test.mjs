// Microsoft's own ACS credential against the sandbox, as a tab or calling client would use it:
// the expert's token from POST /api/acs/token goes into @azure/communication-common's
// AzureCommunicationTokenCredential, given directly and through tokenRefresher. Every calling
// and chat client of ACS takes this credential, so this is what "the sandbox's ACS tokens work
// with the SDK" means. (No browser: the credential runs in node as it does in the tab.)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';

import { WAIT_MS, startSandbox } from './sandbox.mjs';

let sandbox;
before(async () => {
  sandbox = await startSandbox();
});
after(async () => {
  await sandbox?.stop();
});

async function expertAcsToken() {
  const response = await fetch(`${sandbox.info.url}/api/acs/token`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${sandbox.info.expert.token}` },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.equal(response.status, 200);
  return response.json();
}

test('the expert\'s ACS token, given directly, is read by AzureCommunicationTokenCredential', async () => {
  const answer = await expertAcsToken();
  assert.equal(answer.teamsUserId, sandbox.info.expert.objectId);
  const credential = new AzureCommunicationTokenCredential(answer.token);
  try {
    const token = await credential.getToken();
    assert.equal(token.token, answer.token);
    assert.equal(token.expiresOnTimestamp, Date.parse(answer.expiresOn));
    assert.ok(token.expiresOnTimestamp > Date.now());
  } finally {
    credential.dispose();
  }
});

test('the credential gets the expert\'s token through tokenRefresher, refreshing proactively', async () => {
  const answers = [];
  const credential = new AzureCommunicationTokenCredential({
    refreshProactively: true,
    tokenRefresher: async () => {
      const answer = await expertAcsToken();
      answers.push(answer);
      return answer.token;
    },
  });
  try {
    const token = await credential.getToken();
    assert.ok(answers.length >= 1, 'the refresher was called');
    const last = answers.at(-1);
    assert.equal(token.token, last.token);
    assert.equal(token.expiresOnTimestamp, Date.parse(last.expiresOn));
    // The token is good for an hour: asked again, the credential answers from memory.
    const again = await credential.getToken();
    assert.equal(again.token, token.token);
    assert.equal(answers.length, 1);
  } finally {
    credential.dispose();
  }
});
