// The sandbox's API reference page (sandbox/reference/, at /docs/ on the API's origin) in Debian's
// Chromium: it renders every operation of the document the handler serves, with the limits a tab
// developer needs, and asks nothing of any other origin. Screenshot in tests/browser/output/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { OUTPUT, ROOT, isolatedContext, launchBrowser, startSandbox, unexpectedConsoleErrors } from './sandbox.mjs';

const DOCUMENT = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
const OPERATIONS = Object.values(DOCUMENT.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));

let browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('a tab developer reads the API reference the sandbox renders from /api/openapi.json', async (t) => {
  const sandbox = await startSandbox();
  const { context, refused, consoleErrors } = await isolatedContext(browser);
  t.after(async () => {
    await context.close();
    await sandbox.stop();
  });
  const page = await context.newPage();

  await page.goto(sandbox.info.referenceUrl);
  await page.locator('#op-CreateMeeting').waitFor();

  assert.equal(await page.locator('h1').textContent(), DOCUMENT.info.title);
  const rendered = await page.locator('section.operation').evaluateAll((sections) => sections.map((s) => s.id));
  assert.deepEqual(rendered.sort(), OPERATIONS.map((id) => `op-${id}`).sort());
  const meeting = page.locator('#op-CreateMeeting');
  const subject = meeting.locator('tr', { has: page.locator('code', { hasText: /^subject$/ }) });
  assert.match(await subject.textContent(), /maxLength 255/);
  assert.match(await meeting.locator('pre').textContent(), /curl -s -X POST "\$SANDBOX\/api\/meetings"/);
  assert.match(await page.locator('#response-InvalidTokenOrInteractionRequired').textContent(), /WWW-Authenticate/);
  await page.screenshot({ path: path.join(OUTPUT, 'api-reference.png') });
  assert.deepEqual(unexpectedConsoleErrors(consoleErrors), [], 'console errors');
  assert.deepEqual(refused, [], 'the page asked nothing of any other origin');
});
