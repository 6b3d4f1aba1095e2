// tab/consent-request.js lets the permission window ask for exactly the permissions the API
// can name in a consent_required answer: the handler's own consent lists, read from its source.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CONSENT_SCOPES, consentRequest } from '../../tab/consent-request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `consent: &[...]` list of the ScopeSet constant `name` in a handler source file. */
function consentList(file, name) {
  const source = readFileSync(path.join(ROOT, 'handler', 'src', file), 'utf8');
  const start = source.indexOf(`pub const ${name}: ScopeSet`);
  assert.ok(start >= 0, `${name} in ${file}`);
  const list = source.slice(start).match(/consent:\s*&\[([\s\S]*?)\]/)[1];
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

test('the window accepts exactly the permissions the handler can ask consent for', () => {
  const handler = [...consentList('graph/mod.rs', 'GRAPH_SCOPES'), ...consentList('acs.rs', 'ACS_SCOPES')];
  assert.deepEqual([...CONSENT_SCOPES].sort(), handler.sort());
});

test('a consent request names known permissions, or a claims challenge, never both', () => {
  const asked = (params) => consentRequest(new URLSearchParams(params));
  assert.deepEqual(asked({ scopes: CONSENT_SCOPES.join(' ') }), { scopes: [...CONSENT_SCOPES], claims: null });
  assert.deepEqual(asked({}), { scopes: [], claims: null });
  const claims = '{"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"acrs":{"essential":true,"value":"c1"}}}';
  assert.equal(asked({ claims }).claims, claims);
  for (const bad of [
    { scopes: 'https://graph.microsoft.com/.default' },
    { scopes: 'https://graph.microsoft.com/chat.create' },
    { claims: '' },
    { claims: '{}' },
    { claims: 'null' },
    { claims: '{"access_token":"x"}' },
    { claims: `{"access_token":{"a":"${'x'.repeat(4000)}"}}` },
  ]) {
    assert.throws(() => asked(bad), { name: 'ConsentRequestError' }, JSON.stringify(bad).slice(0, 80));
  }
});
