// The calling identity: POST /api/acs/token gives an Azure Communication Services token of the
// signed-in Teams user, held by Microsoft's AzureCommunicationTokenCredential (see
// ../calling-credential.js), which keeps it fresh. This screen shows whose it is and until when,
// as the credential itself reads it from the token. The token is never shown or stored outside
// memory.

import { createCallingCredential } from '../calling-credential.js';

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** The credential renews a token this long before it expires (AzureCommunicationTokenCredential). */
const RENEWS_BEFORE_MS = 10 * 60 * 1000;

export class CallingScreen {
  #root;
  #button;
  #api;
  #guard;
  #announce;
  #credential = null;

  constructor(root, { api, guard, announce }) {
    this.#root = root;
    this.#button = root.querySelector('button');
    this.#api = api;
    this.#guard = guard;
    this.#announce = announce;
    this.#button.addEventListener('click', () => this.#start());
  }

  enable() {
    this.#button.disabled = false;
  }

  /** The credential a calling or chat client of ACS takes (CallClient.createCallAgent, ChatClient). */
  get credential() {
    return this.#credential;
  }

  async #start() {
    this.#button.disabled = true;
    this.#credential?.dispose();
    this.#credential = null;
    this.#announce('Getting your calling identity…');
    try {
      const { credential, teamsUserId } = await createCallingCredential({
        firstToken: () => this.#guard((options) => this.#api.acsToken(options)),
        refreshToken: (options) => this.#api.acsToken(options),
        onToken: () => {
          this.#renewed = Date.now();
          // The credential stores a refreshed token once the refresher has returned it.
          setTimeout(() => this.#credential && this.#show(), 0);
        },
        onRefreshError: () => this.#announce('Renewing the calling identity failed; it will be tried again.'),
      });
      this.#credential = credential;
      this.#teamsUserId = teamsUserId;
      await this.#show();
      this.#announce('Calling identity ready.');
    } catch {
      this.#announce('No calling identity.');
      this.#button.disabled = false;
    }
  }

  #renewed = null;
  #teamsUserId = null;

  /** What the credential holds now: getToken() answers from memory until the token expires. */
  async #show() {
    const { expiresOnTimestamp } = await this.#credential.getToken();
    const out = this.#root.querySelector('[data-acs]');
    out.querySelector('[data-teams-user]').textContent = this.#teamsUserId;
    out.querySelector('[data-expires]').textContent = time(expiresOnTimestamp);
    out.querySelector('[data-renewed]').textContent = time(this.#renewed);
    out.querySelector('[data-next]').textContent = `automatically, from ${time(Math.max(Date.now(), expiresOnTimestamp - RENEWS_BEFORE_MS))}`;
    out.hidden = false;
    this.#button.textContent = 'Renew now';
    this.#button.disabled = false;
  }
}
