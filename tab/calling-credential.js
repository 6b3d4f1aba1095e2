// The calling identity's credential: Microsoft's own AzureCommunicationTokenCredential
// (@azure/communication-common, bundled by scripts/tab/build-tab.mjs), the object every ACS calling
// and chat client takes. It reads the token's `exp` itself and, with refreshProactively, asks
// tokenRefresher for a new token ten minutes before expiry (or after half of what is left of a
// shorter one); tokenRefresher calls POST /api/acs/token.

import { AzureCommunicationTokenCredential } from '@azure/communication-common';

/**
 * Gets the first token with `firstToken()` (which may involve the person: consent, sign-in),
 * then hands the credential the refreshes through `refreshToken()` (in the background).
 * Both resolve with the route's answer { token, expiresOn, teamsUserId }.
 *
 * `onToken(answer)` runs for every token the API gave; `onRefreshError(error)` when a background
 * refresh failed while the current token still works: the credential then keeps it and tries
 * again after half of its remaining lifetime, instead of failing a call that would still work.
 */
export async function createCallingCredential({ firstToken, refreshToken, onToken = () => {}, onRefreshError = () => {} }) {
  let current = await firstToken();
  onToken(current);
  const credential = new AzureCommunicationTokenCredential({
    token: current.token,
    refreshProactively: true,
    tokenRefresher: async (abortSignal) => {
      try {
        current = await refreshToken({ signal: abortSignal });
        onToken(current);
      } catch (error) {
        if (Date.parse(current.expiresOn) <= Date.now()) throw error;
        onRefreshError(error);
      }
      return current.token;
    },
  });
  return { credential, teamsUserId: current.teamsUserId };
}
