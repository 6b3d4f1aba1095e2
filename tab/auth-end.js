// The permission window's last page: Entra redirected here with the outcome in the fragment.
// Checks the state, tells the tab (notifySuccess / notifyFailure), and Teams closes the window.
// The authorization code is dropped unread (see auth-start.js).

import { loadConfig } from './config.js';
import * as teams from './teams.js';

const STORAGE_KEY = 'remote-expert.auth';

async function finish() {
  const status = document.getElementById('auth-status');
  const outcome = new URLSearchParams(window.location.hash.slice(1));
  // Nothing of the answer stays in the address bar or the history.
  history.replaceState(null, '', window.location.pathname);
  let expected = null;
  try {
    expected = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null')?.state ?? null;
  } catch {
    expected = null;
  }
  sessionStorage.removeItem(STORAGE_KEY);

  const config = await loadConfig();
  await teams.start(config.validMessageOrigins);
  if (outcome.get('error')) {
    const reason = outcome.get('error_description') || outcome.get('error');
    status.textContent = `Not granted: ${reason}`;
    teams.notifyFailure(reason);
  } else if (!expected || outcome.get('state') !== expected) {
    status.textContent = 'This answer does not belong to a request of this window.';
    teams.notifyFailure('state_mismatch');
  } else if (outcome.get('code')) {
    status.textContent = 'Done. This window closes by itself.';
    teams.notifySuccess('consented');
  } else {
    status.textContent = 'The answer carried no result.';
    teams.notifyFailure('no_result');
  }
}

finish().catch((error) => {
  document.getElementById('auth-status').textContent = `Could not finish: ${error.message}`;
});
