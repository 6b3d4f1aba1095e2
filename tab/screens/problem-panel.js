// Shows the current problem (words from problems.js) with its one action, and runs that action:
// the consent popup, signing in again, reloading, or trying again once Retry-After has passed.
// Screens run every API call through guard(), so each code is handled here and only here.

import { ApiProblem } from '../api.js';
import { explain } from '../problems.js';

export class ProblemPanel {
  #root;
  #title;
  #message;
  #extra;
  #button;
  #remedies;
  #pending = null;

  /**
   * remedies: consent(problem) -> Promise (the permission window; rejects with an ApiProblem
   * when it failed), signIn(problem) -> Promise (the sign-in window for a claims challenge),
   * adminConsentUrl() -> string | null, claimsToken(claims) -> Promise (silent SSO with claims).
   */
  constructor(root, remedies) {
    this.#root = root;
    this.#title = root.querySelector('[data-problem-title]');
    this.#message = root.querySelector('[data-problem-message]');
    this.#extra = root.querySelector('[data-problem-extra]');
    this.#button = root.querySelector('[data-problem-action]');
    this.#remedies = remedies;
  }

  /**
   * Runs action(options) until it succeeds, handling problems on the way. Rejects with the
   * problem when nothing a person can do here would help, or when a newer problem replaced it.
   */
  async guard(action) {
    let options = {};
    let triedClaimsSilently = false;
    for (;;) {
      try {
        const result = await action(options);
        this.clear();
        return result;
      } catch (error) {
        if (!(error instanceof ApiProblem)) throw error;
        if (error.code === 'interaction_required' && error.claims && !triedClaimsSilently) {
          // First ask Teams for a token that satisfies the challenge, without a window.
          triedClaimsSilently = true;
          options = { claims: error.claims };
          continue;
        }
        options = await this.#resolve(error);
      }
    }
  }

  /** Shows a problem that no retry can solve (e.g. the tab is not configured). */
  showFatal(title, message) {
    this.#cancelPending(null);
    this.#render({ title, message, action: null });
  }

  clear() {
    this.#root.hidden = true;
    this.#title.textContent = '';
    this.#message.textContent = '';
    this.#extra.replaceChildren();
    this.#button.hidden = true;
  }

  #cancelPending(reason) {
    if (this.#pending) {
      const { reject, timer } = this.#pending;
      clearInterval(timer);
      this.#pending = null;
      reject(reason);
    }
  }

  #render(explained, problem = null) {
    this.#root.hidden = false;
    this.#title.textContent = explained.title;
    this.#message.textContent = explained.message;
    this.#extra.replaceChildren();
    if (problem?.code === 'consent_needs_https' || problem?.code === 'consent_required') {
      const url = this.#remedies.adminConsentUrl?.();
      if (url) {
        const link = document.createElement('a');
        link.href = url;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        link.textContent = 'Administrator: grant the permissions for the whole organization';
        this.#extra.append(link);
      }
    }
    this.#button.hidden = explained.action === null;
    this.#button.disabled = false;
    if (explained.action) this.#button.textContent = explained.action.label;
  }

  /** Shows the problem; resolves with the options for the next attempt once its action ran. */
  #resolve(problem) {
    this.#cancelPending(problem);
    const explained = explain(problem);
    this.#render(explained, problem);
    if (explained.action === null) return Promise.reject(problem);
    return new Promise((resolve, reject) => {
      const pending = { reject, timer: null };
      this.#pending = pending;
      if (explained.waitSeconds) this.#countDown(pending, explained);
      this.#button.onclick = async () => {
        if (this.#pending !== pending) return;
        this.#button.disabled = true;
        try {
          const options = await this.#act(explained.action.kind, problem);
          if (this.#pending !== pending) return;
          this.#pending = null;
          this.#button.onclick = null;
          resolve(options);
        } catch (failure) {
          if (this.#pending !== pending) return;
          this.#pending = null;
          // The remedy itself failed (window closed, not https): show why, and offer it again.
          const next = failure instanceof ApiProblem ? failure : new ApiProblem({ code: 'consent_declined', detail: String(failure?.message ?? failure) });
          this.#resolve(next).then(resolve, reject);
        }
      };
    });
  }

  /** Honours the wait: the message says it once (the alert region announces it once); the
   * button counts down, disabled, and is enabled when the wait is over. */
  #countDown(pending, explained) {
    let left = explained.waitSeconds;
    const label = explained.action.label;
    this.#message.textContent = `${explained.message} Wait ${left} seconds, then try again.`;
    const show = () => {
      this.#button.textContent = left > 0 ? `${label} (${left} s)` : label;
      this.#button.disabled = left > 0;
    };
    show();
    pending.timer = setInterval(() => {
      left -= 1;
      show();
      if (left <= 0) clearInterval(pending.timer);
    }, 1000);
  }

  async #act(kind, problem) {
    switch (kind) {
      case 'consent':
        await this.#remedies.consent(problem);
        return { consentRetry: true };
      case 'sign-in':
        await this.#remedies.signIn(problem);
        return {};
      case 'reload':
        window.location.reload();
        return new Promise(() => {});
      case 'retry':
      default:
        return problem.code === 'consent_needs_https' ? { consentRetry: true } : {};
    }
  }
}
