// Every problem code of the contract has words and an action for a person (tab/problems.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { explain, readableScope, FALLBACK_RETRY_SECONDS } from '../../tab/problems.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The codes of docs/api.md's error table (Errors), read from the handler's own list when present. */
const CONTRACT_CODES = [
  'bad_request', 'invalid_token', 'interaction_required', 'tenant_not_allowed', 'insufficient_scope',
  'consent_required', 'not_found', 'method_not_allowed', 'payload_too_large', 'throttled',
  'upstream_error', 'unavailable', 'upstream_timeout', 'internal',
];

test('every code of the contract has its own words', () => {
  const generic = explain({ code: 'something_new' });
  for (const code of CONTRACT_CODES) {
    const words = explain({ code, status: 500 });
    assert.ok(words.title && words.message, code);
    if (!['method_not_allowed', 'internal'].includes(code)) {
      assert.notEqual(words.title, generic.title, `${code} has words of its own`);
    }
  }
});

test('the handler answers no code the tab does not explain', () => {
  // ProblemCode::as_str in handler/src/error/code.rs: `ProblemCode::… => "code",`.
  const source = readFileSync(path.join(ROOT, 'handler', 'src', 'error', 'code.rs'), 'utf8');
  const codes = [...source.matchAll(/ProblemCode::\w+[^\n]*=>\s*"([a-z_]+)",/g)].map((m) => m[1]);
  assert.ok(codes.length >= CONTRACT_CODES.length, `found the handler's codes: ${codes}`);
  const generic = explain({ code: 'something_new' }).title;
  const unexplained = codes.filter((code) => !['method_not_allowed', 'internal'].includes(code) && explain({ code }).title === generic);
  assert.deepEqual(unexplained, [], 'codes handler/src/error/code.rs answers that tab/problems.js does not explain');
});

test('consent is a button that names the permissions', () => {
  const words = explain({ code: 'consent_required', scopes: ['https://graph.microsoft.com/Chat.Create', 'https://auth.msft.communication.azure.com/Teams.ManageCalls'] });
  assert.deepEqual(words.action, { kind: 'consent', label: 'Grant permissions' });
  assert.match(words.message, /Chat\.Create, Teams\.ManageCalls/);
  assert.equal(readableScope('User.Read'), 'User.Read');
});

test('a claims challenge asks to sign in again', () => {
  assert.equal(explain({ code: 'interaction_required', claims: '{}' }).action.kind, 'sign-in');
});

test('throttling waits for Retry-After, or a safe default when the header cannot be read', () => {
  assert.equal(explain({ code: 'throttled', retryAfter: 7 }).waitSeconds, 7);
  assert.equal(explain({ code: 'throttled', retryAfter: null }).waitSeconds, FALLBACK_RETRY_SECONDS.throttled);
  assert.equal(explain({ code: 'unavailable', retryAfter: null }).waitSeconds, FALLBACK_RETRY_SECONDS.unavailable);
});

test('an organization that is not allowed, or a wrong calling app, gets no pointless retry', () => {
  assert.equal(explain({ code: 'tenant_not_allowed' }).action, null);
  assert.match(explain({ code: 'tenant_not_allowed' }).message, /IT administrator/);
  assert.equal(explain({ code: 'insufficient_scope' }).action, null);
  assert.equal(explain({ code: 'invalid_token' }).action.kind, 'reload');
  assert.equal(explain({ code: 'upstream_timeout' }).action.kind, 'retry');
});
