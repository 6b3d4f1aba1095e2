// The session screen (tab/screens/session.js) in Chromium, on its own: Graph's `joinWebUrl`
// becomes a link only when it is https. The API passes Graph's value on, so a tampered or
// buggy answer must not turn into a javascript: or data: link in the tab.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, isolatedContext, launchBrowser, unexpectedConsoleErrors } from './sandbox.mjs';

const ORIGIN = 'https://unit.sandbox.test';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A page on ORIGIN with the session screen's markup, serving tab/ modules as they are. */
async function sessionPage(t) {
  const { context, consoleErrors } = await isolatedContext(browser);
  t.after(() => context.close());
  const index = readFileSync(path.join(ROOT, 'tab', 'index.html'), 'utf8');
  const section = index.match(/<section id="session"[\s\S]*?<\/section>/)[0];
  await context.route(`${ORIGIN}/**`, (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/') {
      return route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>session</title><body>${section}</body>` });
    }
    return route.fulfill({ contentType: 'text/javascript', body: readFileSync(path.join(ROOT, 'tab', pathname)) });
  });
  const page = await context.newPage();
  await page.goto(`${ORIGIN}/`);
  return { page, consoleErrors };
}

/** Creates a meeting whose answer carries `joinWebUrl`, then sends a message; returns what the
 * page shows and what the tab sent. */
async function meetingWith(page, joinWebUrl) {
  return page.evaluate(async (joinWebUrl) => {
    const { SessionScreen } = await import('/screens/session.js');
    const sent = [];
    const api = {
      createMeeting: async (meeting) => ({ id: 'm1', subject: meeting.subject, startDateTime: meeting.startDateTime, endDateTime: meeting.endDateTime, joinWebUrl }),
      notifyChat: async (notification) => {
        sent.push(notification);
        return { chatId: '19:c', messageId: '1' };
      },
    };
    const root = document.getElementById('session');
    const screen = new SessionScreen(root, { api, guard: (action) => action({}), announce: () => {} });
    screen.enable();
    screen.peopleChanged([{ userId: '0b1d0000-0000-4000-8000-000000000002', tenantId: 'e4e4e000-0000-4000-8000-00000000e4e4', displayName: 'Robin Expert' }]);
    root.querySelector('[data-meeting-form] button').click();
    for (let i = 0; i < 50 && root.querySelector('[data-meeting]').hidden; i += 1) await new Promise((r) => setTimeout(r, 20));
    root.querySelector('[data-notify-form] button').click();
    for (let i = 0; i < 50 && sent.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    return {
      links: [...root.querySelectorAll('[data-meeting] a')].map((a) => a.getAttribute('href')),
      text: root.querySelector('[data-meeting]').textContent,
      sentLink: sent[0]?.link ?? null,
    };
  }, joinWebUrl);
}

test('an https join link from Graph is shown and sent with the message', async (t) => {
  const { page, consoleErrors } = await sessionPage(t);
  const url = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0';
  const shown = await meetingWith(page, url);
  assert.deepEqual(shown.links, [url]);
  assert.equal(shown.sentLink?.url, url);
  assert.deepEqual(unexpectedConsoleErrors(consoleErrors), []);
});

for (const url of ['javascript:alert(document.domain)', 'data:text/html,<script>alert(1)</script>', 'http://teams.microsoft.com/l/meetup-join/x', 'not a url']) {
  test(`a join link that is not https (${url.slice(0, 16)}…) is neither linked nor sent`, async (t) => {
    const { page, consoleErrors } = await sessionPage(t);
    const shown = await meetingWith(page, url);
    assert.deepEqual(shown.links, []);
    assert.match(shown.text, /no usable join link/);
    assert.equal(shown.sentLink, null);
    assert.deepEqual(unexpectedConsoleErrors(consoleErrors), []);
  });
}
