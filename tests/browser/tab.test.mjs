// The Teams tab in a real browser (Debian's Chromium, headless), against `cargo run -p sandbox`:
// the emulated Teams host page frames the tab, which calls the real handler across origins.
// Screenshots of the key screens land in tests/browser/output/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { OUTPUT, WAIT_MS, graphState, isolatedContext, launchBrowser, startSandbox, unexpectedConsoleErrors, apiAnswered } from './sandbox.mjs';

/** Colleagues without a photo: the API answers 404 and the tab shows initials. */
const NO_PHOTO = apiAnswered(404, '/api/users/[^/]+/photo');

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * A fresh sandbox and browser context for one story; both end with it. The story fails if any
 * page wrote an error to its console (or threw) that `expectedConsoleErrors` (RegExps) does not
 * name: a problem the person does not see is a problem all the same.
 */
async function story(t, { sandboxArgs = [], routes = () => ({}), expectedConsoleErrors = [] } = {}) {
  const sandbox = await startSandbox(sandboxArgs);
  const { context, refused, consoleErrors } = await isolatedContext(browser, routes(sandbox.info));
  t.after(async () => {
    await context.close();
    await sandbox.stop();
  });
  const checkConsole = () => assert.deepEqual(unexpectedConsoleErrors(consoleErrors, expectedConsoleErrors), [], 'console errors');
  return { info: sandbox.info, context, refused, checkConsole };
}

/** Opens the host page as `persona`; returns the page and the tab's frame. */
async function openTab(context, hostUrl, { persona, frame = 'content', tab = null }) {
  const page = await context.newPage();
  const url = new URL(hostUrl);
  url.searchParams.set('persona', persona);
  url.searchParams.set('frame', frame);
  if (tab) url.searchParams.set('tab', tab);
  await page.goto(url.href);
  return { page, tab: page.frameLocator('#tab') };
}

async function signedIn(tab) {
  await tab.locator('#identity').waitFor({ state: 'visible' });
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
}

/** axe-core in the tab's frame: no serious or critical violation. */
async function assertAccessible(page, label) {
  const frame = page.frames().find((f) => f !== page.mainFrame() && f.url() !== 'about:blank');
  assert.ok(frame, 'the tab frame is there');
  await frame.evaluate(AXE_SOURCE);
  const results = await frame.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const severe = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `axe on ${label}`,
  );
}

async function pickPerson(tab, query, name) {
  const search = tab.getByRole('combobox', { name: 'Name or email' });
  await search.fill(query);
  const option = tab.getByRole('option', { name: new RegExp(name) });
  await option.waitFor();
  await search.press('ArrowDown');
  // Walk to the wanted option with the keyboard, as a person would.
  for (let i = 0; i < 10; i += 1) {
    if ((await option.getAttribute('aria-selected')) === 'true') break;
    await search.press('ArrowDown');
  }
  await search.press('Enter');
  await tab.locator('[data-chosen] li.person', { hasText: name }).waitFor();
}

describe('the Remote Expert tab', { timeout: 120_000 }, () => {
  test('field worker finds the expert in another organization and starts a session', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, { expectedConsoleErrors: [NO_PHOTO] });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'field-worker' });

    // Who am I, and which organization.
    await signedIn(tab);
    await assert.doesNotReject(tab.getByText('Avery Field').first().waitFor());
    assert.equal(await tab.locator('[data-tenant]').textContent(), info.fieldWorker.tenantId);
    await screenshot(page, '1-field-worker-signed-in');

    // Search: a colleague from the directory (with a photo) and the expert of Experts Inc.
    const search = tab.getByRole('combobox', { name: 'Name or email' });
    await search.fill('pump');
    await tab.getByRole('option', { name: /Jordan Pump/ }).waitFor();
    await tab.getByRole('option', { name: /Casey Pump Specialist/ }).waitFor();
    assert.equal(await search.getAttribute('aria-expanded'), 'true');
    await search.fill('rob');
    const expert = tab.getByRole('option', { name: /Robin Expert/ });
    await expert.waitFor();
    assert.match(await expert.textContent(), /Experts Inc\. \(external\)/);
    await screenshot(page, '2-search-shows-the-external-expert');
    await pickPerson(tab, 'rob', 'Robin Expert');
    await pickPerson(tab, 'avery', 'Avery Field');
    // Profile details of a colleague come from the directory; the photo replaces the initials.
    await tab.locator('[data-chosen] li', { hasText: 'Avery Field' }).getByText('Plant 3').waitFor();
    await tab.locator('[data-chosen] li', { hasText: 'Avery Field' }).locator('.avatar img').waitFor();
    await tab.getByRole('button', { name: 'Remove Avery Field' }).click();
    await tab.locator('[data-chosen] li', { hasText: 'Avery Field' }).waitFor({ state: 'detached' });

    // Create the meeting with the expert: the join link is shown.
    await tab.getByLabel('Subject').fill('Pump 7 vibration');
    await tab.getByRole('button', { name: 'Create the meeting' }).click();
    const join = tab.getByRole('link', { name: 'Join the meeting in Teams' });
    await join.waitFor();
    assert.match(await join.getAttribute('href'), /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\//);

    // Tell them, twice: the second message goes to the same chat.
    await tab.getByRole('button', { name: 'Send in a Teams chat' }).click();
    await tab.locator('[data-sent] li').first().waitFor();
    assert.match(await tab.locator('[data-sent] li').first().textContent(), /To Robin Expert.*Pump 7 vibration/s);
    await tab.locator('#session').getByLabel('Message').fill('Bring the vibration readings, please.');
    await tab.getByRole('button', { name: 'Send in a Teams chat' }).click();
    await tab.locator('[data-sent] li').nth(1).waitFor();

    // The calling identity.
    await tab.getByRole('button', { name: 'Get my calling identity' }).click();
    await tab.locator('[data-teams-user]').getByText(info.fieldWorker.objectId).waitFor();
    assert.notEqual((await tab.locator('[data-expires]').textContent()).trim(), '');
    assert.match(await tab.getByRole('status').textContent(), /Calling identity ready/);
    await screenshot(page, '3-field-worker-session-started');
    await assertAccessible(page, 'the field worker\'s session');

    // The emulated Graph holds the meeting, one chat with both messages, the expert a member
    // from their own tenant.
    const state = await graphState(info);
    // The sandbox's own meeting (for the side panel) and the new one.
    assert.equal(state.meetings.length, 2);
    const created = state.meetings.find((m) => m.subject === 'Pump 7 vibration');
    const attendees = created.participants.attendees.map((a) => a.identity.user);
    assert.equal(attendees.length, 1);
    assert.equal(attendees[0].id, info.expert.objectId);
    assert.equal(attendees[0].tenantId, info.expert.tenantId, 'the expert joins from their own tenant');
    const chats = Object.values(state.chats).filter((c) => c.messages.length > 0);
    assert.equal(chats.length, 1, 'the second message reused the chat');
    assert.equal(chats[0].messages.length, 2);
    assert.ok(chats[0].members.some((m) => m.userId === info.expert.objectId && m.tenantId === info.expert.tenantId));
    assert.match(chats[0].messages[0].body.content, /Pump 7 vibration/);

    // What an operator sees of that session: the sandbox's telemetry page, each request with
    // the calls it made, from what the emulated Application Insights accepted.
    const telemetry = await context.newPage();
    await telemetry.goto(info.telemetryUrl);
    const meetingRequest = telemetry.locator('section.request', { hasText: 'CreateMeeting' }).first();
    await meetingRequest.waitFor();
    assert.ok(await meetingRequest.locator('.row').count() >= 2, 'the request and at least one call it made');
    await telemetry.locator('section.request', { hasText: 'NotifyChat' }).first().waitFor();
    await telemetry.locator('section.request', { hasText: 'AcsToken' }).first().waitFor();
    await screenshot(telemetry, '3c-telemetry-after-the-session');

    assert.deepEqual(refused, [], 'only loopback addresses were contacted');
    checkConsole();
  });

  test('a field worker who is only a guest of the customer is told why the directory is not searched, and still runs the session', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, { expectedConsoleErrors: [NO_PHOTO] });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'guest' });
    await signedIn(tab);
    await tab.getByText('Quinn Valve Consultant').first().waitFor();
    // The guest's long #EXT# user principal name wraps beside its label, not below it.
    const signedInAs = tab.locator('#identity div').first();
    const label = await signedInAs.locator('dt').boundingBox();
    const value = await signedInAs.locator('dd').boundingBox();
    assert.ok(value.x > label.x + label.width && Math.abs(value.y - label.y) < 2, 'the name sits beside "Signed in as"');

    // A guest has no mailbox in Fieldworks and may not list its people: the search says so,
    // and the partner organization's experts are still offered.
    const search = tab.getByRole('combobox', { name: 'Name or email' });
    await search.fill('rob');
    await tab.getByRole('option', { name: /Robin Expert/ }).waitFor();
    const note = tab.locator('[data-search-note]');
    await note.waitFor({ state: 'visible' });
    assert.match(await note.textContent(), /guest accounts/);
    await screenshot(page, '5-guest-search-explains-itself');
    await pickPerson(tab, 'rob', 'Robin Expert');
    // The search typed again by pickPerson is still pending when the person is picked; it
    // must not reopen the list (debounce 300 ms, then the answer).
    await page.waitForTimeout(800);
    assert.equal(await tab.getByRole('listbox', { name: 'People found' }).isVisible(), false, 'the list stays closed after a pick');

    // The session as for anyone: meeting, chat, calling identity.
    await tab.getByLabel('Subject').fill('Valve 3 inspection');
    await tab.getByRole('button', { name: 'Create the meeting' }).click();
    await tab.getByRole('link', { name: 'Join the meeting in Teams' }).waitFor();
    await tab.getByRole('button', { name: 'Send in a Teams chat' }).click();
    await tab.locator('[data-sent] li').first().waitFor();
    await tab.getByRole('button', { name: 'Get my calling identity' }).click();
    await tab.locator('[data-teams-user]').getByText(info.guest.objectId).waitFor();
    await screenshot(page, '5b-guest-session-started');
    await assertAccessible(page, 'the guest\'s session');

    // Graph got the chat as it requires for a guest: a group chat, the guest as `guest`.
    const state = await graphState(info);
    const chats = Object.entries(state.chats).filter(([, c]) => c.messages.length > 0);
    assert.equal(chats.length, 1);
    const [chatId, chat] = chats[0];
    assert.match(chatId, /@thread\.v2$/, 'a group chat');
    assert.equal(chat.chatType, 'group');
    assert.ok(chat.members.some((m) => m.userId === info.guest.objectId));

    assert.deepEqual(refused, [], 'only loopback addresses were contacted');
    checkConsole();
  });

  test('in the meeting\'s side panel the field worker sees its people, tells its chat and gets a calling identity', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, { expectedConsoleErrors: [NO_PHOTO] });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'field-worker', frame: 'sidePanel' });
    await signedIn(tab);
    assert.match(await tab.locator('[data-where]').textContent(), /meeting side panel, in a meeting/);

    // The meeting is there already: nothing offers another one, or a search to fill one.
    const meeting = tab.getByRole('region', { name: '1. This meeting' });
    await meeting.getByText('Pump 7 vibration: remote assist').waitFor();
    assert.equal(await tab.getByRole('button', { name: 'Create the meeting' }).count(), 0, 'no new meeting offered');
    assert.equal(await tab.getByRole('button', { name: 'Create the meeting' }).isVisible().catch(() => false), false);
    assert.equal(await tab.getByRole('combobox', { name: 'Name or email' }).isVisible(), false);

    // Its people the tab can look up: the organizer, a colleague, with their role; and the person.
    // Another user's profile is the basic one (User.ReadBasic.All: no job, department or office),
    // so the line says what is known and leaves no gaps.
    const people = meeting.locator('[data-meeting-people] li');
    const organizer = people.filter({ hasText: 'Sam Supervisor' });
    await organizer.getByText(/^Organizer · Your organization$/).waitFor();
    assert.doesNotMatch(await organizer.textContent(), /null|undefined|· ·/);
    await people.filter({ hasText: 'Avery Field (you)' }).waitFor();

    // A message into the meeting's own chat.
    await meeting.getByLabel('Message').fill('At pump 7 now, camera on the bearing housing.');
    await meeting.getByRole('button', { name: 'Send in the meeting chat' }).click();
    await meeting.locator('[data-meeting-sent] li').getByText(/camera on the bearing housing/).waitFor();

    // The calling identity, as in the personal tab.
    await tab.getByRole('button', { name: 'Get my calling identity' }).click();
    await tab.locator('[data-teams-user]').getByText(info.fieldWorker.objectId).waitFor();
    await screenshot(page, '4-meeting-side-panel');
    await assertAccessible(page, 'the meeting side panel');

    const state = await graphState(info);
    const config = await (await fetch(`${info.hostUrl}host-config.json`, { signal: AbortSignal.timeout(WAIT_MS) })).json();
    const chat = state.chats[config.meeting.chatId];
    assert.equal(chat.messages.length, 1, 'the message went to the meeting chat');
    assert.equal(chat.messages[0].from.user.id, info.fieldWorker.objectId);
    assert.equal(state.meetings.length, 1, 'no meeting was created');
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('the expert from the other organization gets their own identity, and in the meeting its chat and a calling token', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, { expectedConsoleErrors: [NO_PHOTO] });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'expert' });
    await signedIn(tab);
    await tab.getByText('Robin Expert').first().waitFor();
    assert.equal(await tab.locator('[data-tenant]').textContent(), info.expert.tenantId);
    assert.equal(await tab.locator('[data-object]').textContent(), info.expert.objectId);
    // Their own colleagues come from their own directory, not from the partner list.
    await tab.getByRole('combobox', { name: 'Name or email' }).fill('casey');
    const colleague = tab.getByRole('option', { name: /Casey Pump Specialist/ });
    await colleague.waitFor();
    assert.match(await colleague.textContent(), /Your organization/);
    assert.equal(await tab.locator('#search-results [role="option"]').count(), 1, 'no partner duplicate');
    await tab.getByRole('combobox', { name: 'Name or email' }).press('Escape');

    // The same person in the meeting's side panel: the organizer is of another organization,
    // which Graph does not show them, so the tab says so instead of a name.
    await page.getByLabel('Meeting side panel').check();
    await page.getByRole('button', { name: 'Open the tab' }).click();
    await signedIn(tab);
    const meeting = tab.getByRole('region', { name: '1. This meeting' });
    await meeting.locator('[data-meeting-people] li').filter({ hasText: 'Organizer' }).getByText(/Of another organization/).waitFor();
    await meeting.locator('[data-meeting-people] li').filter({ hasText: 'Robin Expert (you)' }).waitFor();
    await meeting.getByLabel('Message').fill('Joining from Experts Inc.');
    await meeting.getByRole('button', { name: 'Send in the meeting chat' }).click();
    await meeting.locator('[data-meeting-sent] li').first().waitFor();
    await tab.getByRole('button', { name: 'Get my calling identity' }).click();
    await tab.locator('[data-teams-user]').getByText(info.expert.objectId).waitFor();
    await screenshot(page, '4b-expert-in-the-meeting-side-panel');
    await assertAccessible(page, 'the expert\'s side panel');
    const chats = Object.values((await graphState(info)).chats).filter((c) => c.messages.length > 0);
    assert.equal(chats.length, 1);
    assert.equal(chats[0].messages[0].from.user.tenantId, info.expert.tenantId);
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('a user of an organization that is not allowed is told so, and Graph is never called', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [apiAnswered(403, '/api/token/validate')],
    });
    const before = (await graphState(info)).requests;
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'not-allowed' });
    const alert = tab.getByRole('alert');
    await alert.getByRole('heading', { name: 'Your organization cannot use Remote Expert' }).waitFor();
    assert.match(await alert.textContent(), /Ask your IT administrator/);
    assert.equal(await tab.locator('#screens').isVisible(), false, 'nothing to use without a sign-in');
    await screenshot(page, '5-organization-not-allowed');
    await assertAccessible(page, 'the not-allowed message');
    assert.equal((await graphState(info)).requests, before, 'no Graph call was made');
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('a user whose organization has not consented grants permissions in the popup and carries on', async (t) => {
    // TeamsJS opens sign-in windows for https pages only: the host, the tab and the API are put
    // on https origins by request routing (no certificates), as in Azure. (The API cannot stay on
    // loopback: Chromium refuses an https page's request to a loopback address.)
    const TAB = 'https://tab.sandbox.test';
    const API = 'https://api.sandbox.test';
    const HOST = 'https://teams.microsoft.com';
    const { context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [apiAnswered(403, '/api/users/me')],
      sandboxArgs: ['--tab-origin', TAB, '--api-url', API],
      routes: (i) => ({ [TAB]: new URL(i.tabUrl).origin, [HOST]: new URL(i.hostUrl).origin, [API]: i.url }),
    });
    const { page, tab } = await openTab(context, `${HOST}/`, { persona: 'not-consented', tab: `${TAB}/` });
    const alert = tab.getByRole('alert');
    await alert.getByRole('heading', { name: 'Permissions needed' }).waitFor();
    await screenshot(page, '6-consent-needed');
    await assertAccessible(page, 'the consent prompt');

    const popupOpened = page.waitForEvent('popup');
    await alert.getByRole('button', { name: 'Grant permissions' }).click();
    const popup = await popupOpened;
    await popup.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    assert.match(await popup.textContent('body'), /SANDBOX: emulated Microsoft Entra ID/);
    assert.match(await popup.textContent('body'), /noor@newco\.example/);
    await popup.screenshot({ path: path.join(OUTPUT, '7-consent-popup.png') });
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Grant consent' }).click();
    await closed;

    // The call is retried (x-consent-retry) and succeeds.
    await signedIn(tab);
    await tab.getByText('Noor Newcomer').first().waitFor();
    await alert.waitFor({ state: 'hidden' });
    await screenshot(page, '8-after-consent');
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('over http a not-consented user is sent to the administrator consent page instead of a popup', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [apiAnswered(403, '/api/users/me')],
    });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'not-consented' });
    const alert = tab.getByRole('alert');
    await alert.getByRole('button', { name: 'Grant permissions' }).click();
    await alert.getByText(/only for pages served over https/).waitFor();
    await screenshot(page, '9-consent-over-http');
    const adminPage = context.waitForEvent('page');
    await alert.getByRole('link', { name: /Administrator: grant the permissions/ }).click();
    const admin = await adminPage;
    await admin.getByRole('button', { name: 'Grant consent for the organization' }).click();
    await admin.getByRole('heading', { name: 'Consent granted' }).waitFor();
    await admin.close();
    await alert.getByRole('button', { name: 'Try again' }).click();
    await signedIn(tab);
    await tab.getByText('Noor Newcomer').first().waitFor();
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('when Microsoft 365 throttles, the field worker is asked to wait before trying again', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [apiAnswered(429, '/api/contacts\\?q=pump&top=10')],
    });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'field-worker' });
    await signedIn(tab);
    await page.getByRole('button', { name: 'Make Microsoft Graph throttle the next search' }).click();
    await page.getByRole('status').getByText(/429 Too Many Requests/).waitFor();
    await tab.getByRole('combobox', { name: 'Name or email' }).fill('pump');
    const alert = tab.getByRole('alert');
    await alert.getByRole('heading', { name: 'Too many requests' }).waitFor();
    // Retry-After is not readable across origins (the platform's CORS does not expose it), so
    // the tab waits its own 30 s before it offers to try again.
    await alert.getByText(/Wait 30 seconds, then try again\./).waitFor();
    assert.equal(await alert.getByRole('button', { name: /^Try again \(\d+ s\)$/ }).isDisabled(), true);
    await screenshot(page, '11-throttled');
    await assertAccessible(page, 'the throttling message');
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('a Conditional Access challenge is answered by Teams without bothering the person', async (t) => {
    const { info, context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [apiAnswered(401, '/api/acs/token')],
    });
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'field-worker' });
    await signedIn(tab);
    await page.getByRole('button', { name: 'Make Entra ask for MFA at the next token exchange' }).click();
    await page.getByRole('status').getByText(/claims challenge/).waitFor();
    // The ACS token needs a new on-behalf-of exchange: Entra challenges it, the API answers 401
    // interaction_required with the claims, the tab asks Teams for a token with them and retries.
    await tab.getByRole('button', { name: 'Get my calling identity' }).click();
    await tab.locator('[data-teams-user]').getByText(info.fieldWorker.objectId).waitFor();
    assert.equal(await tab.getByRole('alert').isVisible(), false);
    const hostLog = await page.locator('#log').evaluate((log) => log.textContent);
    assert.match(hostLog, /getAuthToken → an SSO token for Avery Field \(with claims\)/);
    assert.deepEqual(refused, []);
    checkConsole();
  });

  test('the tab served from an origin the API does not allow cannot read its answers', async (t) => {
    // Chromium reports the answer it kept from the page (CORS) as a failed load.
    const { info, context, refused, checkConsole } = await story(t, {
      expectedConsoleErrors: [/^Failed to load resource: net::ERR_FAILED \(http:\/\/127\.0\.0\.1:\d+\/api\/token\/validate\)$/, /blocked by CORS policy/],
    });
    // The same tab, from the same server, under another name: a different origin.
    const elsewhere = info.tabUrl.replace('127.0.0.1', 'localhost');
    const { page, tab } = await openTab(context, info.hostUrl, { persona: 'field-worker', tab: elsewhere });
    const alert = tab.getByRole('alert');
    await alert.getByRole('heading', { name: 'Cannot reach Remote Expert' }).waitFor();
    assert.equal(await tab.locator('#identity').isVisible(), false);
    await screenshot(page, '10-origin-not-allowed-by-cors');

    // The API did answer; only the browser kept the answer from the page.
    const token = await page.evaluate(async () => (await (await fetch('personas/field-worker/token', { method: 'POST' })).json()).token);
    const direct = await fetch(`${info.url}/api/token/validate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, Origin: new URL(elsewhere).origin },
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('access-control-allow-origin'), null);
    assert.deepEqual(refused, []);
    checkConsole();
  });
});
