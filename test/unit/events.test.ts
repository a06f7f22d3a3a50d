import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchProblems, createEvent, eventProblems, partitionKey } from '../../src/events/index.js';
import { ValidationError } from '../../src/errors.js';
import { waitFor } from '../helpers/wait.js';

test('createEvent fills id, time, severity and specversion once', () => {
  const e = createEvent({ source: 'svc/a', type: 'com.example.started', entity: { kind: 'cluster', id: 'c1' } });
  assert.equal(e.specversion, '1.0');
  assert.match(e.id, /^[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(e.time)));
  assert.equal(e.severity, 'info');
  assert.ok(Object.isFrozen(e));
  // The same input yields a different id, but the created event never changes.
  const again = createEvent({ source: 'svc/a', type: 'com.example.started' });
  assert.notEqual(again.id, e.id);
});

test('createEvent keeps given id and time, normalises time to UTC', () => {
  const e = createEvent({ id: 'x1', source: 's', type: 't', time: '2024-05-01T14:00:00+02:00' });
  assert.equal(e.id, 'x1');
  assert.equal(e.time, '2024-05-01T12:00:00.000Z');
});

test('flat CloudEvents entity attributes are accepted as entity', () => {
  const e = createEvent({ source: 's', type: 't', entitykind: 'host', entityid: 'h1' });
  assert.deepEqual(e.entity, { kind: 'host', id: 'h1' });
  assert.equal(partitionKey(e), 'host:h1');
});

test('partition key: explicit, else entity, else subject', () => {
  assert.equal(partitionKey(createEvent({ source: 's', type: 't', partitionkey: 'k', entity: { kind: 'a', id: 'b' } })), 'k');
  assert.equal(partitionKey(createEvent({ source: 's', type: 't', subject: 'sub' })), 'sub');
  assert.equal(partitionKey(createEvent({ source: 's', type: 't' })), undefined);
});

test('every problem is reported with its field path', () => {
  const problems = eventProblems({ source: 'a b', type: '', severity: 'loud', entity: { kind: '9' }, time: 'yesterday', extra: 1 });
  const paths = problems.map((p) => p.path).sort();
  assert.deepEqual([...new Set(paths)], ['entity.id', 'entity.kind', 'extra', 'severity', 'source', 'time', 'type']);
  assert.match(problems.find((p) => p.path === 'severity')!.message, /debug, info, warning, error, critical/);
});

test('createEvent throws a ValidationError naming the field', () => {
  assert.throws(() => createEvent({ type: 't' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.code, 'INVALID_EVENT');
    assert.deepEqual(err.details, [{ path: 'source', message: 'is required' }]);
    return true;
  });
  assert.deepEqual(eventProblems('text'), [{ path: '', message: 'must be a JSON object with at least source and type' }]);
});

test('batches: index in the path, size limits', () => {
  assert.deepEqual(batchProblems([{ source: 's', type: 't' }, { source: 's' }]), [{ path: '[1].type', message: 'is required' }]);
  assert.equal(batchProblems([])[0]!.message, 'a batch must hold at least one event');
  assert.match(batchProblems(Array.from({ length: 1001 }, () => ({ source: 's', type: 't' })))[0]!.message, /at most 1000/);
});

test('entity and entitykind together are refused', () => {
  const problems = eventProblems({ source: 's', type: 't', entity: { kind: 'a', id: 'b' }, entitykind: 'a', entityid: 'b' });
  assert.deepEqual(problems.map((p) => p.path), ['entity']);
  assert.deepEqual(eventProblems({ source: 's', type: 't', entitykind: 'a' }), [{ path: 'entityid', message: 'is required when entitykind is given' }]);
});

test('new ids are UUIDv7: unique across refills of the random pool, and ordered by creation time', async () => {
  const { newEventId } = await import('../../src/events/event.js');
  const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const first = Array.from({ length: 1000 }, () => newEventId()); // several refills of 256 ids
  assert.ok(first.every((id) => v7.test(id)), first.find((id) => !v7.test(id)));
  assert.equal(new Set(first).size, first.length);
  const madeBy = Date.now();
  await waitFor('the clock to pass the millisecond of the ids above', () => Date.now() > madeBy, 1_000, 1);
  const later = newEventId();
  // The first 48 bits are the creation time in ms: a later id sorts after every earlier one.
  assert.ok(first.every((id) => id.slice(0, 13) < later.slice(0, 13)), `${later} sorts after ${first.at(-1)}`);
  assert.equal(createEvent({ source: 's', type: 't' }).id.length, 36);
});
