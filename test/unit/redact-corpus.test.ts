/**
 * The redaction corpus (test/helpers/secret-corpus.ts) against the redactors themselves: every
 * probe's secret is gone, public data is kept. The integration suites check the same corpus
 * through every entry point and broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor, createTextRedactor, createValueRedactor } from '../../src/events/redact.js';
import { normalize } from '../../src/events/event.js';
import { ALL_PROBES, corpusEvent, corpusState, EVENT_PROBES, leaks, PUBLIC_VALUE, STATE_PROBES } from '../helpers/secret-corpus.js';

test('the corpus holds at least 100 probes, each with its own secret', () => {
  assert.ok(ALL_PROBES.length >= 100, `${ALL_PROBES.length} probes`);
  assert.equal(new Set(ALL_PROBES.map((p) => p.secret)).size, ALL_PROBES.length);
  // Each probe really is in the input: a probe that never reaches the redactor proves nothing.
  const input = JSON.stringify(corpusEvent('u')) + JSON.stringify(corpusState);
  assert.deepEqual(ALL_PROBES.filter((p) => !input.includes(p.secret)).map((p) => p.name), []);
});

test('every event probe is redacted, readable data is kept', () => {
  const out = JSON.stringify(createRedactor()(normalize(corpusEvent('u'))));
  assert.deepEqual(leaks(out, EVENT_PROBES), []);
  assert.ok(out.includes(PUBLIC_VALUE), 'the public SSH key stays');
  assert.match(out, /postgres:\/\/app:\[REDACTED\]@db\.example:5432\/app/, 'a URL keeps its user and host');
});

test('every entity-state probe is redacted', () => {
  const text = createTextRedactor();
  const out = JSON.stringify({ id: text(corpusState.id), state: text(corpusState.state), attributes: createValueRedactor()(corpusState.attributes) });
  assert.deepEqual(leaks(out, STATE_PROBES), []);
});
