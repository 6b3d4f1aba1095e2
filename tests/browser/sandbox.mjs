// Starts `cargo run -p sandbox` (the built binary) for the browser tests and opens pages in
// Debian's Chromium through playwright-core. Only loopback addresses are contacted: every other
// request a page makes is refused and recorded (tests assert none happened), and origins the
// tests invent (https://…sandbox.test, https://teams.microsoft.com) are answered by routing.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
export const SANDBOX_BIN = path.join(TARGET, 'debug', 'sandbox');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT = path.join(ROOT, 'tests', 'browser', 'output');

/** Every wait in these tests is bounded by this, or less. */
export const WAIT_MS = 15_000;

/** Starts the sandbox on free ports; resolves with its --tokens-json line. */
export async function startSandbox(extraArgs = []) {
  if (!existsSync(SANDBOX_BIN)) {
    throw new Error(`${SANDBOX_BIN} is missing: run cargo build -p sandbox first (scripts/tab/test-browser.sh does).`);
  }
  const child = spawn(SANDBOX_BIN, ['--port', '0', '--tokens-json', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, RUST_LOG: 'warn' },
  });
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox printed nothing in ${WAIT_MS} ms: ${Buffer.concat(stderr)}`)), WAIT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch (error) {
        reject(new Error(`not JSON: ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`the sandbox exited (${code}): ${Buffer.concat(stderr)}`)));
  });
  return {
    info,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** TeamsJS's list of valid host domains on Microsoft's CDN, which every tab page asks for at
 * start (the tab's policy allows it, as in production). Here it fails as it does offline. */
export const TEAMS_JS_CDN = 'https://res.cdn.office.net/teams-js/validDomains/';

/** The console errors a page shows for that offline fetch, and only for it. */
export const OFFLINE_CDN_ERROR = /^Failed to load resource: net::ERR_INTERNET_DISCONNECTED/;

/**
 * A browser context in which only loopback is reachable. `routes` maps an invented origin to
 * a loopback one: requests to it are fetched from there (so https pages can be tested without
 * certificates). Returns { context, refused, consoleErrors }: refused lists every other URL a
 * page asked for (TeamsJS's CDN fetch fails as offline and is not listed); consoleErrors every
 * error any page of the context wrote to its console, or threw, as { text, url }.
 */
export async function isolatedContext(browser, routes = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1700 } });
  context.setDefaultTimeout(WAIT_MS);
  const refused = [];
  const consoleErrors = [];
  context.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
  });
  context.on('weberror', (error) => consoleErrors.push({ text: `uncaught: ${error.error()}`, url: error.page()?.url() ?? '' }));
  await context.route('**/*', async (route) => {
    if (route.request().url().startsWith(TEAMS_JS_CDN)) {
      await route.abort('internetdisconnected');
      return;
    }
    const url = new URL(route.request().url());
    const target = routes[url.origin];
    if (target) {
      const upstream = new URL(url.pathname + url.search, target);
      const response = await route.fetch({ url: upstream.href, maxRedirects: 0 });
      const headers = { ...response.headers() };
      if (headers.location) {
        // keep redirects inside the invented origin
        headers.location = headers.location.replace(target, url.origin);
      }
      await route.fulfill({ response, headers });
      return;
    }
    if (LOOPBACK.has(url.hostname) || url.protocol === 'blob:' || url.protocol === 'data:') {
      await route.continue();
      return;
    }
    refused.push(url.href);
    await route.abort('blockedbyclient');
  });
  return { context, refused, consoleErrors };
}

/** The console errors not matched by any of `expected` (RegExps on "text (url)"; the offline
 * CDN fetch of TeamsJS is always expected). */
export function unexpectedConsoleErrors(consoleErrors, expected = []) {
  const allowed = [OFFLINE_CDN_ERROR, ...expected];
  return consoleErrors
    .map((error) => `${error.text} (${error.url})`)
    .filter((line) => !allowed.some((pattern) => pattern.test(line)));
}

/** The error Chromium writes to the console for an API answer with `status` on a path that
 * matches `path` (a RegExp source): the tab expects and handles such answers. */
export function apiAnswered(status, path) {
  return new RegExp(`^Failed to load resource: the server responded with a status of ${status} .*\\(https?://[^/]+${path}\\)$`);
}

export async function graphState(info) {
  const response = await fetch(info.graphStateUrl, { signal: AbortSignal.timeout(WAIT_MS) });
  return response.json();
}
