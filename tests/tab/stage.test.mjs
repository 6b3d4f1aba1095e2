// scripts/deploy/stage_tab.py, the tab service's predeploy hook: what it stages is what the tab reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { validateConfig } from '../../tab/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'deploy', 'stage_tab.py');
const CLIENT = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';

test('the staged tab has its pages, a config.json the tab accepts and a strict CSP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stage-'));
  const experts = path.join(dir, 'experts.json');
  writeFileSync(experts, JSON.stringify([{ userId: '0b1d0000-0000-4000-8000-000000000002', tenantId: 'e4e4e000-0000-4000-8000-00000000e4e4', displayName: 'Robin Expert', organization: 'Experts Inc.' }]));
  const env = path.join(dir, '.env');
  writeFileSync(env, `FUNCTION_APP_URL="https://func-abc.azurewebsites.net"\nENTRA_CLIENT_ID="${CLIENT}"\n`);
  const out = path.join(dir, 'build');
  execFileSync('python3', [SCRIPT, '--out', out, '--env-file', env, '--partner-experts', experts], {
    env: { PATH: process.env.PATH },
  });

  for (const page of ['index.html', 'auth-start.html', 'auth-end.html', 'configure.html', 'main.js', 'auth-start.js', 'styles.css', 'vendor/teams-js/MicrosoftTeams.min.js', 'vendor/teams-js/LICENSE', 'THIRD-PARTY-NOTICES.txt']) {
    assert.ok(existsSync(path.join(out, page)), page);
  }
  assert.ok(!existsSync(path.join(out, 'README.md')), 'only what the tab serves');
  assert.ok(!existsSync(path.join(out, 'screens')), 'the modules are bundled into each page\'s script');
  // The bundle carries Microsoft's credential, with nothing left to resolve at run time.
  const main = readFileSync(path.join(out, 'main.js'), 'utf8');
  assert.doesNotMatch(main, /from\s*["']@azure/);
  assert.match(main, /The token returned from the tokenRefresher is expired/);
  assert.match(readFileSync(path.join(out, 'THIRD-PARTY-NOTICES.txt'), 'utf8'), /@azure\/communication-common 2\.4\.2 \(MIT\)/);
  const config = validateConfig(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')));
  assert.equal(config.apiBaseUrl, 'https://func-abc.azurewebsites.net');
  assert.equal(config.clientId, CLIENT);
  assert.equal(config.partnerExperts[0].displayName, 'Robin Expert');

  const csp = JSON.parse(readFileSync(path.join(out, 'staticwebapp.config.json'), 'utf8')).globalHeaders['Content-Security-Policy'];
  assert.match(csp, /connect-src 'self' https:\/\/func-abc\.azurewebsites\.net https:\/\/res\.cdn\.office\.net;/);
  assert.match(csp, /frame-ancestors https:\/\/teams\.microsoft\.com .*https:\/\/\*\.cloud\.microsoft/);
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe|\*;|http:|\$/);
});

test('staging refuses an http API or a client id that is not a GUID', () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'stage-')), 'build');
  for (const args of [['--api-url', 'http://func.example', '--client-id', CLIENT], ['--api-url', 'https://func.example', '--client-id', 'nope'], []]) {
    const run = spawnSync('python3', [SCRIPT, '--out', out, ...args], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(run.status, 1, `${args}: ${run.stderr}`);
    assert.match(run.stderr, /refused/);
  }
});
