// Find an expert: a WAI-ARIA combobox (list autocomplete) over GET /api/contacts (the caller's
// organization, debounced) and the partner organization's experts from config.json (Graph cannot
// search another tenant). Picking someone adds them to the session, with their profile details.

import { avatar, describe, personText } from './people.js';

const DEBOUNCE_MS = 300;

/** What the API's `warnings` mean to the person searching (docs/api.md, GET /api/contacts). */
export function searchNote(warnings = []) {
  const people = warnings.includes('people_unavailable');
  const directory = warnings.includes('directory_unavailable');
  if (people && directory) {
    return "Your account can't search this organization's people (guest accounts can't). Experts of partner organizations are still listed.";
  }
  if (directory) {
    return "Only people you work with are listed: your account can't search this organization's directory.";
  }
  if (people) {
    return 'Only the directory is searched: your account has no mailbox here to find the people you work with.';
  }
  return '';
}
const MIN_CHARACTERS = 2;
const TOP = 10;

export class SearchScreen {
  #input;
  #listbox;
  #note;
  #chosenList;
  #api;
  #guard;
  #partners;
  #announce;
  #onChange;
  #results = [];
  #active = -1;
  #timer = null;
  #inFlight = null;
  #chosen = new Map();

  constructor(root, { api, guard, partnerExperts, announce, onChange }) {
    this.#input = root.querySelector('[role="combobox"]');
    this.#listbox = root.querySelector('[role="listbox"]');
    this.#note = root.querySelector('[data-search-note]');
    this.#chosenList = root.querySelector('[data-chosen]');
    this.#api = api;
    this.#guard = guard;
    this.#announce = announce;
    this.#onChange = onChange;
    this.#partners = partnerExperts.map((expert) => ({
      key: `${expert.tenantId}/${expert.userId}`,
      userId: expert.userId,
      tenantId: expert.tenantId,
      displayName: expert.displayName,
      mail: expert.mail,
      jobTitle: expert.jobTitle,
      organization: expert.organization,
      external: true,
    }));
    this.#input.addEventListener('input', () => this.#scheduleSearch());
    this.#input.addEventListener('keydown', (event) => this.#onKey(event));
    this.#input.addEventListener('blur', () => setTimeout(() => this.#close(), 150));
    this.#render();
  }

  /** The people chosen for the session. */
  get chosen() {
    return [...this.#chosen.values()];
  }

  /** Signed in: experts of the caller's own organization are found in its directory instead. */
  enable(ownTenantId) {
    const own = (ownTenantId ?? '').toLowerCase();
    this.#partners = this.#partners.filter((p) => p.tenantId !== own);
    this.#input.disabled = false;
  }

  #scheduleSearch() {
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
    const query = this.#input.value.trim();
    if (query.length < MIN_CHARACTERS) {
      this.#show([]);
      return;
    }
    this.#timer = setTimeout(() => this.#search(query), DEBOUNCE_MS);
  }

  async #search(query) {
    const controller = new AbortController();
    this.#inFlight = controller;
    const lower = query.toLowerCase();
    const partners = this.#partners.filter(
      (p) => p.displayName.toLowerCase().includes(lower) || (p.mail ?? '').toLowerCase().includes(lower),
    );
    let found;
    try {
      found = await this.#guard((options) => this.#api.searchContacts(query, TOP, { ...options, signal: controller.signal }));
    } catch (error) {
      if (error?.name === 'AbortError' || controller.signal.aborted) return;
      found = { value: [] };
    }
    if (controller.signal.aborted) return;
    const note = searchNote(found.warnings);
    if (this.#note) {
      this.#note.textContent = note;
      this.#note.hidden = !note;
    }
    const colleagues = found.value.map((c) => ({
      key: `own/${c.id}`,
      userId: c.id,
      tenantId: null,
      displayName: c.displayName ?? c.userPrincipalName ?? c.mail ?? c.id,
      mail: c.mail,
      jobTitle: c.jobTitle,
      department: c.department,
      external: false,
    }));
    const results = [...colleagues, ...partners];
    this.#show(results);
    this.#announce(results.length === 1 ? '1 person found.' : `${results.length} people found.`);
  }

  #show(results) {
    this.#results = results;
    this.#active = -1;
    this.#listbox.replaceChildren(
      ...results.map((person, index) => {
        const option = document.createElement('li');
        option.id = `search-option-${index}`;
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        option.dataset.key = person.key;
        option.append(avatar(person, this.#api), personText(person.displayName, describe(person)));
        option.addEventListener('mousedown', (event) => event.preventDefault());
        option.addEventListener('click', () => this.#pick(index));
        return option;
      }),
    );
    const open = results.length > 0;
    this.#listbox.hidden = !open;
    this.#input.setAttribute('aria-expanded', String(open));
    this.#input.removeAttribute('aria-activedescendant');
  }

  #close() {
    this.#listbox.hidden = true;
    this.#input.setAttribute('aria-expanded', 'false');
    this.#input.removeAttribute('aria-activedescendant');
    this.#active = -1;
  }

  #moveTo(index) {
    const options = [...this.#listbox.children];
    if (options.length === 0) return;
    this.#active = (index + options.length) % options.length;
    options.forEach((option, i) => option.setAttribute('aria-selected', String(i === this.#active)));
    const current = options[this.#active];
    this.#input.setAttribute('aria-activedescendant', current.id);
    current.scrollIntoView?.({ block: 'nearest' });
  }

  #onKey(event) {
    const open = !this.#listbox.hidden;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open && this.#results.length) this.#show(this.#results);
        this.#moveTo(this.#active + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (open) this.#moveTo(this.#active - 1);
        break;
      case 'Enter':
        if (open && this.#active >= 0) {
          event.preventDefault();
          this.#pick(this.#active);
        }
        break;
      case 'Escape':
        if (open) {
          event.preventDefault();
          this.#close();
        } else {
          this.#input.value = '';
        }
        break;
      default:
    }
  }

  async #pick(index) {
    const person = this.#results[index];
    if (!person) return;
    // A search still waiting for its debounce or its answer is for text that is now gone: it
    // must not open the list again over the person just added.
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
    this.#close();
    this.#input.value = '';
    if (this.#chosen.has(person.key)) {
      this.#announce(`${person.displayName} is already chosen.`);
      return;
    }
    this.#chosen.set(person.key, { ...person });
    this.#render();
    this.#announce(`${person.displayName} added to the session.`);
    this.#onChange(this.chosen);
    if (!person.external) {
      try {
        const profile = await this.#guard((options) => this.#api.profile(person.userId, options));
        const entry = this.#chosen.get(person.key);
        if (entry) {
          Object.assign(entry, {
            jobTitle: profile.jobTitle ?? entry.jobTitle,
            department: profile.department ?? entry.department,
            officeLocation: profile.officeLocation,
            mail: profile.mail ?? entry.mail,
          });
          this.#render();
        }
      } catch {
        // the problem panel says why; the person stays chosen with what the search gave
      }
    }
  }

  #remove(key) {
    const person = this.#chosen.get(key);
    this.#chosen.delete(key);
    this.#render();
    this.#onChange(this.chosen);
    this.#announce(`${person?.displayName ?? 'Person'} removed.`);
    this.#input.focus();
  }

  #render() {
    if (this.#chosen.size === 0) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'Nobody yet: search above.';
      this.#chosenList.replaceChildren(empty);
      return;
    }
    this.#chosenList.replaceChildren(
      ...this.chosen.map((person) => {
        const item = document.createElement('li');
        item.className = 'person';
        item.dataset.key = person.key;
        const text = personText(person.displayName, describe(person), person.mail);
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'secondary';
        remove.textContent = 'Remove';
        remove.setAttribute('aria-label', `Remove ${person.displayName}`);
        remove.addEventListener('click', () => this.#remove(person.key));
        item.append(avatar(person, this.#api), text, remove);
        return item;
      }),
    );
  }
}
