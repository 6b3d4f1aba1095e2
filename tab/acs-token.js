// Keeps the calling identity's ACS token fresh through POST /api/acs/token.
//
// It follows @azure/communication-common's AzureCommunicationTokenCredential with
// `{ tokenRefresher, refreshProactively: true }` (AutoRefreshTokenCredential, 2.4.2): a token is
// "expiring soon" in its last 10 minutes; the next refresh is scheduled for the start of that
// window, or, when a token is already inside it, after half of its remaining lifetime;
// getToken() waits for a refresh only when the token has expired. tests/tab/acs-token.test.mjs
// runs both side by side on one clock and expects the same refreshes. It differs in one way:
// the expiry is the API's `expiresOn`, not the token's own `exp`, so the token stays opaque.

const EXPIRING_SOON_MS = 10 * 60 * 1000;
const REFRESH_AFTER_LIFETIME = 0.5;
/** After a failed proactive refresh, try again this much later (while the token still works). */
const RETRY_AFTER_FAILURE_MS = 30 * 1000;

export class AcsTokenKeeper {
  #fetchToken;
  #onUpdate;
  #onError;
  #now;
  #timers;
  #current = null;
  #timer = null;
  #updating = null;
  #disposed = false;

  /**
   * fetchToken(): Promise<{ token, expiresOn, teamsUserId }> (the route's answer).
   * onUpdate(current) after every refresh; onError(error) when a background refresh fails.
   */
  constructor({ fetchToken, onUpdate = () => {}, onError = () => {}, now = () => Date.now(), timers = globalThis }) {
    this.#fetchToken = fetchToken;
    this.#onUpdate = onUpdate;
    this.#onError = onError;
    this.#now = now;
    this.#timers = timers;
  }

  /** The current token, refreshed first when it has expired (as the SDK's getToken). */
  async getToken() {
    if (this.#disposed) throw new Error('The ACS token keeper is disposed.');
    if (this.#current && !this.#expiringSoon(this.#current)) return this.#current;
    if (!this.#current || !this.#valid(this.#current)) await this.#update();
    return this.#current;
  }

  /** When the next proactive refresh is due (ms since the epoch), or null. */
  get nextRefreshAt() {
    return this.#nextRefreshAt;
  }

  #nextRefreshAt = null;

  dispose() {
    this.#disposed = true;
    this.#current = null;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #valid(entry) {
    return this.#now() < entry.expiresOnTimestamp;
  }

  #expiringSoon(entry) {
    return this.#now() >= entry.expiresOnTimestamp - EXPIRING_SOON_MS;
  }

  async #update() {
    if (this.#updating) return this.#updating;
    this.#updating = (async () => {
      const answer = await this.#fetchToken();
      const entry = { ...answer, expiresOnTimestamp: Date.parse(answer.expiresOn) };
      if (Number.isNaN(entry.expiresOnTimestamp) || !this.#valid(entry)) {
        throw new Error('The ACS token returned by the API has already expired.');
      }
      if (this.#disposed) return;
      this.#current = entry;
      this.#schedule();
      this.#onUpdate(entry);
    })();
    try {
      await this.#updating;
    } finally {
      this.#updating = null;
    }
  }

  #schedule() {
    if (this.#disposed) return;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    const ttl = this.#current.expiresOnTimestamp - this.#now();
    const delay = this.#expiringSoon(this.#current) ? ttl * REFRESH_AFTER_LIFETIME : ttl - EXPIRING_SOON_MS;
    this.#arm(delay);
  }

  #arm(delay) {
    this.#nextRefreshAt = this.#now() + delay;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#update().catch((error) => {
        this.#onError(error);
        if (!this.#disposed && this.#current && this.#valid(this.#current)) {
          this.#arm(Math.min(RETRY_AFTER_FAILURE_MS, this.#current.expiresOnTimestamp - this.#now()));
        }
      });
    }, delay);
  }
}
