// In a meeting side panel: the meeting is already there, so the tab offers no new one. It shows
// the meeting (meeting.getMeetingDetails), the people it can look up (the organizer when they
// are of the person's own organization, and the person), and posts notifications into the
// meeting's own chat (the chat id Teams gives the tab) through POST /api/notifications/chat.

import { avatar, describe, personText } from './people.js';

export class MeetingScreen {
  #root;
  #api;
  #guard;
  #announce;
  #form;
  #sentList;
  #chatId = null;

  constructor(root, { api, guard, announce }) {
    this.#root = root;
    this.#api = api;
    this.#guard = guard;
    this.#announce = announce;
    this.#form = root.querySelector('[data-meeting-notify-form]');
    this.#sentList = root.querySelector('[data-meeting-sent]');
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#notify();
    });
  }

  /** `me`: the validate answer; `context`: teams.start()'s; `details`: teams.meetingDetails()'s. */
  async show(me, context, details) {
    this.#chatId = context.chatId;
    this.#root.querySelector('[data-meeting-subject]').textContent = details?.title ?? 'The meeting this tab is open in.';
    this.#root.hidden = false;
    const you = { userId: me.objectId, displayName: me.name ?? me.userPrincipalName ?? 'You', you: true, details: 'Signed in here' };
    const people = [you];
    const organizer = details?.organizer;
    if (organizer && organizer.id.toLowerCase() === me.objectId.toLowerCase()) {
      you.details = 'Organizer, signed in here';
    } else if (organizer && (organizer.tenantId ?? '').toLowerCase() === me.tenantId.toLowerCase()) {
      people.unshift(await this.#colleague(organizer.id, 'Organizer'));
    } else if (organizer) {
      // Graph does not show this backend a user of another organization; Teams shows their name.
      people.unshift({ userId: organizer.id, displayName: 'Organizer', initials: '?', external: true, details: 'Of another organization: Teams shows their name' });
    }
    this.#render(people);
  }

  /** A person of the caller's organization, with their profile; a placeholder when it fails. */
  async #colleague(id, role) {
    try {
      const profile = await this.#guard((options) => this.#api.profile(id, options));
      const person = { userId: id, displayName: profile.displayName ?? id, jobTitle: profile.jobTitle, department: profile.department, officeLocation: profile.officeLocation };
      return { ...person, details: `${role} · ${describe(person)}` };
    } catch {
      return { userId: id, displayName: role, initials: '?', details: 'Could not be looked up' };
    }
  }

  #render(people) {
    this.#root.querySelector('[data-meeting-people]').replaceChildren(
      ...people.map((person) => {
        const item = document.createElement('li');
        item.className = 'person';
        const name = person.you ? `${person.displayName} (you)` : person.displayName;
        item.append(avatar(person, this.#api), personText(name, person.details));
        return item;
      }),
    );
  }

  async #notify() {
    const button = this.#form.querySelector('button');
    const text = this.#form.elements.message.value.trim();
    if (!text) {
      this.#announce('Write a message first.');
      this.#form.elements.message.focus();
      return;
    }
    button.disabled = true;
    this.#announce('Sending…');
    try {
      await this.#guard((options) => this.#api.notifyChat({ chatId: this.#chatId, message: text }, options));
      const item = document.createElement('li');
      const head = document.createElement('span');
      head.className = 'sent-head';
      head.textContent = `To the meeting chat, ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
      const body = document.createElement('span');
      body.className = 'sent-body';
      body.textContent = text;
      item.append(head, body);
      this.#sentList.append(item);
      this.#sentList.hidden = false;
      this.#form.elements.message.value = '';
      this.#announce('Message sent to the meeting chat.');
    } catch {
      this.#announce('The message was not sent.');
    } finally {
      button.disabled = false;
    }
  }
}
