// The calling identity: POST /api/acs/token gives an Azure Communication Services token of the
// signed-in Teams user; this screen shows whose it is and until when, and keeps it fresh. The
// token itself is never shown or stored outside memory.

import { AcsTokenKeeper } from '../acs-token.js';

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class CallingScreen {
  #root;
  #button;
  #api;
  #guard;
  #announce;
  #keeper = null;

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

  /** The keeper, for a calling SDK's credential (getToken) once one is added. */
  get keeper() {
    return this.#keeper;
  }

  async #start() {
    this.#button.disabled = true;
    this.#keeper?.dispose();
    this.#keeper = new AcsTokenKeeper({
      fetchToken: () => this.#guard((options) => this.#api.acsToken(options)),
      onUpdate: (current) => this.#show(current),
      onError: () => this.#announce('Renewing the calling identity failed; it will be tried again.'),
    });
    this.#announce('Getting your calling identity…');
    try {
      await this.#keeper.getToken();
      this.#announce('Calling identity ready.');
    } catch {
      this.#announce('No calling identity.');
      this.#button.disabled = false;
    }
  }

  #show(current) {
    const out = this.#root.querySelector('[data-acs]');
    out.querySelector('[data-teams-user]').textContent = current.teamsUserId;
    out.querySelector('[data-expires]').textContent = time(current.expiresOnTimestamp);
    out.querySelector('[data-renewed]').textContent = time(Date.now());
    const next = this.#keeper?.nextRefreshAt;
    out.querySelector('[data-next]').textContent = next ? time(next) : 'not scheduled';
    out.hidden = false;
    this.#button.textContent = 'Renew now';
    this.#button.disabled = false;
  }
}
