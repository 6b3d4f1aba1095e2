// The tab keeps to its module table (tab/README.md): one module per concern.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TAB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tab');
const modules = [
  ...readdirSync(TAB).filter((f) => f.endsWith('.js')),
  ...readdirSync(path.join(TAB, 'screens')).filter((f) => f.endsWith('.js')).map((f) => `screens/${f}`),
].map((name) => ({ name, text: readFileSync(path.join(TAB, name), 'utf8') }));

const using = (pattern) => modules.filter((m) => pattern.test(m.text)).map((m) => m.name);

test('api.js is the only module that calls fetch', () => {
  assert.deepEqual(using(/\bfetch\(/), ['api.js']);
});

test('teams.js is the only module that touches TeamsJS', () => {
  assert.deepEqual(using(/microsoftTeams/), ['teams.js']);
});

test('nothing renders markup from strings', () => {
  assert.deepEqual(using(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/), []);
});

test('no token is written to storage or to the console', () => {
  assert.deepEqual(using(/localStorage|console\./), []);
  for (const m of modules.filter((m) => /sessionStorage/.test(m.text))) {
    assert.ok(['auth-start.js', 'auth-end.js'].includes(m.name), `${m.name} uses sessionStorage`);
    assert.doesNotMatch(m.text, /sessionStorage\.setItem\([^)]*(token|code)/i, m.name);
  }
});
