// The contacts answer's `warnings` (docs/api.md, GET /api/contacts) in words for the person
// searching (tab/screens/search.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { searchNote } from '../../tab/screens/search.js';

test('no warning, no note', () => {
  assert.equal(searchNote(), '');
  assert.equal(searchNote([]), '');
});

test('each source left out is named, and a guest is told why', () => {
  assert.match(searchNote(['people_unavailable', 'directory_unavailable']), /guest accounts/);
  assert.match(searchNote(['directory_unavailable']), /directory/);
  assert.match(searchNote(['people_unavailable']), /no mailbox/);
});
