// The tab and docs/openapi.json agree: every request tab/api.js makes is an operation of the
// document, with documented parameters and headers and a body its schema accepts; the tab uses
// every protected operation; every problem code the document lists has words in tab/problems.js;
// and what the tab reads of a problem answer is in the Problem schema.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createApi } from '../../tab/api.js';
import { explain } from '../../tab/problems.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCUMENT = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
const SCHEMAS = DOCUMENT.components.schemas;

/** The operation serving `method` on the concrete `pathname`, with its path template. */
function operationFor(method, pathname) {
  for (const [template, item] of Object.entries(DOCUMENT.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(pathname) && item[method.toLowerCase()]) {
      return { template, operation: item[method.toLowerCase()] };
    }
  }
  return null;
}

/** What `schema` finds wrong with `value` (a small JSON Schema subset: what the document uses). */
function problemsOf(schema, value, where = 'body') {
  if (schema.$ref) return problemsOf(SCHEMAS[schema.$ref.split('/').pop()], value, where);
  const found = [];
  for (const part of schema.allOf ?? []) found.push(...problemsOf(part, value, where));
  for (const [keyword, atLeast, atMost] of [['anyOf', 1, Infinity], ['oneOf', 1, 1]]) {
    if (!schema[keyword]) continue;
    const matching = schema[keyword].filter((part) => problemsOf(part, value, where).length === 0).length;
    if (matching < atLeast || matching > atMost) found.push(`${where}: ${keyword} matched ${matching}`);
  }
  if (schema.not && problemsOf(schema.not, value, where).length === 0) found.push(`${where}: matches not`);
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length && !types.includes(typeOf(value)) && !(types.includes('number') && typeof value === 'number')) {
    return [...found, `${where}: ${typeOf(value)} is not ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) found.push(`${where}: ${JSON.stringify(value)} not in ${schema.enum}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) found.push(`${where}: too short`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) found.push(`${where}: too long`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) found.push(`${where}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) found.push(`${where}: too few items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) found.push(`${where}: too many items`);
    value.forEach((item, i) => schema.items && found.push(...problemsOf(schema.items, item, `${where}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) found.push(`${where}.${name}: missing`);
    }
    for (const [name, item] of Object.entries(value)) {
      const property = schema.properties?.[name];
      if (property) found.push(...problemsOf(property, item, `${where}.${name}`));
      else if (schema.additionalProperties === false) found.push(`${where}.${name}: not a property`);
    }
  }
  return found;
}

/** tab/api.js with a fetch that records each request and answers 200 with an empty object. */
function recordingApi() {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: new URL(url), ...init });
    return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
  };
  const api = createApi({ baseUrl: 'https://api.example', getToken: async () => 'token', fetch });
  return { api, calls };
}

const EXPERT = '0b1d0000-0000-4000-8000-000000000002';
const EXPERT_TENANT = 'e4e4e000-0000-4000-8000-00000000e4e4';

/** Every call of tab/api.js, with arguments as the screens build them. */
async function everyCall(api) {
  await api.whoAmI();
  await api.searchContacts('pump', 8);
  await api.profile('me');
  await api.profile('robin@experts.example');
  await api.photo(EXPERT);
  // screens/session.js: the chosen people as presenters, the window in ISO form.
  await api.createMeeting({
    subject: 'Pump 7 vibration',
    startDateTime: new Date('2026-11-26T14:00:00Z').toISOString(),
    endDateTime: new Date('2026-11-26T14:30:00Z').toISOString(),
    participants: [{ userId: EXPERT, tenantId: EXPERT_TENANT, role: 'presenter' }],
  });
  // screens/session.js: the first message to the people, the next ones into the returned chat.
  await api.notifyChat(
    { recipients: [{ userId: EXPERT, tenantId: EXPERT_TENANT }], message: 'Can you join?', link: { url: 'https://teams.microsoft.com/l/meetup-join/x', title: 'Join' } },
    { consentRetry: true },
  );
  await api.notifyChat({ chatId: '19:meeting_abc@thread.v2', message: 'Joining in 5 minutes' });
  await api.acsToken();
}

test('every request of the tab is an operation of the document, as the document describes it', async () => {
  const { api, calls } = recordingApi();
  await everyCall(api);
  assert.ok(calls.length >= 9);
  for (const call of calls) {
    const label = `${call.method} ${call.url.pathname}`;
    const found = operationFor(call.method, call.url.pathname);
    assert.ok(found, `${label} is no operation of docs/openapi.json`);
    const { operation } = found;
    const parameters = operation.parameters ?? [];
    for (const [name, value] of call.url.searchParams) {
      const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
      assert.ok(parameter, `${label}: query parameter ${name} is not documented`);
      const typed = parameter.schema.type === 'integer' ? Number(value) : value;
      assert.deepEqual(problemsOf(parameter.schema, typed, name), [], label);
    }
    for (const name of Object.keys(call.headers)) {
      if (name === 'Authorization') {
        assert.ok(operation.security?.length, `${label} sends a token to an anonymous operation`);
        continue;
      }
      if (name === 'Content-Type') continue;
      assert.ok(
        parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === name.toLowerCase()),
        `${label}: header ${name} is not documented`,
      );
    }
    const content = operation.requestBody?.content?.['application/json'];
    if (call.body !== undefined) {
      assert.ok(content, `${label} sends a body the operation does not take`);
      assert.equal(call.headers['Content-Type'], 'application/json');
      assert.deepEqual(problemsOf(content.schema, JSON.parse(call.body)), [], label);
    } else {
      assert.ok(!operation.requestBody?.required, `${label} needs a body`);
    }
  }
});

test('the tab uses every operation that needs a token', async () => {
  const { api, calls } = recordingApi();
  await everyCall(api);
  const used = new Set(calls.map((c) => operationFor(c.method, c.url.pathname)?.operation.operationId));
  for (const item of Object.values(DOCUMENT.paths)) {
    for (const operation of Object.values(item)) {
      if (operation.security?.length) assert.ok(used.has(operation.operationId), `${operation.operationId} is not used by the tab`);
    }
  }
});

test('the values the screens write into bodies are the document\'s', () => {
  const session = readFileSync(path.join(ROOT, 'tab', 'screens', 'session.js'), 'utf8');
  const roles = [...session.matchAll(/role: '([a-z]+)'/g)].map((m) => m[1]);
  assert.ok(roles.length > 0, 'screens/session.js sets a participant role');
  for (const role of roles) assert.ok(SCHEMAS.MeetingRole.enum.includes(role), role);
});

test('every problem code of the document has words in the tab', () => {
  const generic = explain({ code: 'something_new' });
  for (const code of SCHEMAS.ProblemCode.enum) {
    const words = explain({ code, status: 500 });
    assert.ok(words.title && words.message, code);
    if (!['method_not_allowed', 'internal'].includes(code)) {
      assert.notEqual(words.title, generic.title, `${code} has words of its own`);
    }
  }
});

test('what the tab reads of a problem answer is in the Problem schema', () => {
  const api = readFileSync(path.join(ROOT, 'tab', 'api.js'), 'utf8');
  const read = [...api.matchAll(/body\.([a-z]+)/g)].map((m) => m[1]);
  assert.ok(read.includes('code'));
  for (const field of new Set(read)) assert.ok(field in SCHEMAS.Problem.properties, `Problem.${field}`);
  const retryAfter = ['Throttled', 'Unavailable'].map((name) => DOCUMENT.components.responses[name].headers['Retry-After']);
  assert.ok(retryAfter.every((header) => header?.required), 'Retry-After is documented where the tab reads it');
});
