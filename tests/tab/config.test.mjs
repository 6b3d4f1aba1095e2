// tab/config.js: config.json is checked before anything uses it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError, loadConfig, validateConfig } from '../../tab/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const good = {
  apiBaseUrl: 'https://func-abc.azurewebsites.net/',
  clientId: '3F2A1B4C-5D6E-4F70-8A9B-0C1D2E3F4A5B',
  partnerExperts: [{ userId: '0b1d0000-0000-4000-8000-000000000002', tenantId: 'e4e4e000-0000-4000-8000-00000000e4e4', displayName: 'Robin Expert' }],
};

test('a deployment config is accepted and normalized', () => {
  const config = validateConfig(good);
  assert.equal(config.apiBaseUrl, 'https://func-abc.azurewebsites.net');
  assert.equal(config.clientId, '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b');
  assert.equal(config.authority, 'https://login.microsoftonline.com');
  assert.equal(config.partnerExperts[0].organization, null);
  assert.equal(config.sandbox, false);
});

test('the example in tab/ is a valid config', () => {
  validateConfig(JSON.parse(readFileSync(path.join(ROOT, 'tab', 'config.example.json'), 'utf8')));
});

test('http is refused except on loopback, and so is anything odd', () => {
  assert.doesNotThrow(() => validateConfig({ ...good, apiBaseUrl: 'http://127.0.0.1:7071' }));
  for (const bad of [
    { ...good, apiBaseUrl: 'http://func-abc.azurewebsites.net' },
    { ...good, apiBaseUrl: 'https://x.example/?a=1' },
    { ...good, apiBaseUrl: 'javascript:alert(1)' },
    { ...good, clientId: 'not-a-guid' },
    { ...good, authority: 'http://login.example' },
    { ...good, validMessageOrigins: 'https://x' },
    { ...good, partnerExperts: [{ userId: 'x', tenantId: 'y', displayName: 'z' }] },
    [],
  ]) {
    assert.throws(() => validateConfig(bad), ConfigError, JSON.stringify(bad));
  }
});

test('a missing config.json says so', async () => {
  const fetch = async () => new Response('', { status: 404 });
  await assert.rejects(loadConfig('https://tab.example/', fetch), /config\.json is missing \(HTTP 404\)/);
});
