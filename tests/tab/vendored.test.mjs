// The TeamsJS the tab serves (tab/vendor/teams-js) is byte for byte the pinned npm package's,
// installed by `npm ci` from package-lock.json (whose integrity hash npm checks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VENDOR = path.join(ROOT, 'tab', 'vendor', 'teams-js');
const PACKAGE = path.dirname(require.resolve('@microsoft/teams-js/package.json'));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

test('the vendored TeamsJS is the pinned package, byte for byte', () => {
  const pinned = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies['@microsoft/teams-js'];
  const installed = JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')).version;
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  assert.equal(installed, pinned, 'node_modules holds the pinned version (run npm ci)');
  assert.equal(lock.packages['node_modules/@microsoft/teams-js'].version, pinned);

  for (const [vendored, original] of [
    ['MicrosoftTeams.min.js', 'dist/umd/MicrosoftTeams.min.js'],
    ['LICENSE', 'LICENSE'],
  ]) {
    assert.equal(
      sha256(readFileSync(path.join(VENDOR, vendored))),
      sha256(readFileSync(path.join(PACKAGE, original))),
      `tab/vendor/teams-js/${vendored} differs from ${original} of @microsoft/teams-js ${pinned}`,
    );
  }
  const version = readFileSync(path.join(VENDOR, 'VERSION'), 'utf8');
  assert.match(version, new RegExp(`@microsoft/teams-js ${pinned.replace(/\./g, '\\.')} `));
  assert.ok(version.includes(lock.packages['node_modules/@microsoft/teams-js'].integrity), 'VERSION names the locked tarball');
});

test('the tab loads the vendored TeamsJS, not a copy from the network', () => {
  for (const page of ['index.html', 'auth-start.html', 'auth-end.html', 'configure.html']) {
    const html = readFileSync(path.join(ROOT, 'tab', page), 'utf8');
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(scripts.includes('vendor/teams-js/MicrosoftTeams.min.js'), page);
    assert.ok(scripts.every((src) => !/^[a-z]+:|^\/\//i.test(src)), `${page} loads scripts from its own origin only`);
  }
});
