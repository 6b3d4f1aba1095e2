// Start a session: POST /api/meetings with the chosen people (people of another organization
// with their tenant id), show the join link; then POST /api/notifications/chat to tell them and
// show what was sent. The chat id the first message returns is reused for the rest of the
// session (Graph would start a new group chat each time otherwise), until the people change.

import { httpsUrl } from '../links.js';

export class SessionScreen {
  #form;
  #meetingOut;
  #notifyForm;
  #sentList;
  #api;
  #guard;
  #announce;
  #people = [];
  #meeting = null;
  #chatId = null;

  constructor(root, { api, guard, announce }) {
    this.#form = root.querySelector('[data-meeting-form]');
    this.#meetingOut = root.querySelector('[data-meeting]');
    this.#notifyForm = root.querySelector('[data-notify-form]');
    this.#sentList = root.querySelector('[data-sent]');
    this.#api = api;
    this.#guard = guard;
    this.#announce = announce;
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#createMeeting();
    });
    this.#notifyForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#notify();
    });
    this.peopleChanged([]);
  }

  enable() {
    this.#form.querySelector('button').disabled = this.#people.length === 0;
  }

  /** The chosen people changed: a new chat is needed for the next message. */
  peopleChanged(people) {
    this.#people = people;
    this.#chatId = null;
    const createButton = this.#form.querySelector('button');
    createButton.disabled = people.length === 0;
    this.#form.querySelector('[data-who]').textContent = people.length
      ? `With ${people.map((p) => p.displayName).join(', ')}.`
      : 'Choose at least one person first.';
    this.#notifyForm.querySelector('button').disabled = people.length === 0;
  }

  async #createMeeting() {
    const button = this.#form.querySelector('button');
    const subject = this.#form.elements.subject.value.trim();
    const minutes = Number(this.#form.elements.duration.value);
    const start = new Date();
    start.setSeconds(0, 0);
    const end = new Date(start.getTime() + minutes * 60 * 1000);
    const meeting = {
      subject,
      startDateTime: start.toISOString(),
      endDateTime: end.toISOString(),
      participants: this.#people.map((p) => ({
        userId: p.userId,
        ...(p.tenantId ? { tenantId: p.tenantId } : {}),
        role: 'presenter',
      })),
    };
    button.disabled = true;
    this.#announce('Creating the meeting…');
    try {
      this.#meeting = await this.#guard((options) => this.#api.createMeeting(meeting, options));
      this.#showMeeting();
      this.#announce('Meeting created.');
      const message = this.#notifyForm.elements.message;
      if (!message.value) {
        message.value = `Can you join a remote-assist session? ${this.#meeting.subject}. The meeting link is below.`;
      }
    } catch {
      this.#announce('The meeting was not created.');
    } finally {
      button.disabled = this.#people.length === 0;
    }
  }

  #showMeeting() {
    const m = this.#meeting;
    const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const subject = document.createElement('p');
    subject.className = 'meeting-subject';
    subject.textContent = `${m.subject}, ${time(m.startDateTime)} to ${time(m.endDateTime)}`;
    const parts = [subject];
    const joinUrl = httpsUrl(m.joinWebUrl);
    if (joinUrl) {
      const link = document.createElement('a');
      link.href = joinUrl;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      link.className = 'join';
      link.textContent = 'Join the meeting in Teams';
      parts.push(link);
    } else {
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = 'The meeting was created, but Teams gave no usable join link: open it from your Teams calendar.';
      parts.push(note);
    }
    for (const warning of m.warnings ?? []) {
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = warning === 'lobby_not_applied'
        ? 'The lobby setting could not be applied: people from other organizations may wait in the lobby.'
        : `Note: ${warning}`;
      parts.push(note);
    }
    this.#meetingOut.replaceChildren(...parts);
    this.#meetingOut.hidden = false;
  }

  async #notify() {
    const button = this.#notifyForm.querySelector('button');
    const text = this.#notifyForm.elements.message.value.trim();
    if (!text) {
      this.#announce('Write a message first.');
      this.#notifyForm.elements.message.focus();
      return;
    }
    const notification = {
      message: text,
      ...(this.#chatId
        ? { chatId: this.#chatId }
        : {
            recipients: this.#people.map((p) => (p.tenantId ? { userId: p.userId, tenantId: p.tenantId } : p.userId)),
          }),
      ...(httpsUrl(this.#meeting?.joinWebUrl) ? { link: { url: httpsUrl(this.#meeting.joinWebUrl), title: 'Join the session' } } : {}),
    };
    const to = this.#people.map((p) => p.displayName).join(', ');
    button.disabled = true;
    this.#announce('Sending…');
    try {
      const sent = await this.#guard((options) => this.#api.notifyChat(notification, options));
      this.#chatId = sent.chatId;
      const item = document.createElement('li');
      const head = document.createElement('span');
      head.className = 'sent-head';
      head.textContent = `To ${to}, ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
      const body = document.createElement('span');
      body.className = 'sent-body';
      body.textContent = text;
      item.append(head, body);
      if (notification.link) {
        const link = document.createElement('span');
        link.className = 'person-details';
        link.textContent = `With the link “${notification.link.title}”.`;
        item.append(link);
      }
      this.#sentList.append(item);
      this.#sentList.hidden = false;
      this.#notifyForm.elements.message.value = '';
      this.#announce(`Message sent to ${to}.`);
    } catch {
      this.#announce('The message was not sent.');
    } finally {
      button.disabled = this.#people.length === 0;
    }
  }
}
