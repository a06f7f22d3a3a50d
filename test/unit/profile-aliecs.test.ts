import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES } from '../../src/events/entity-states.js';
import {
  aliecsProfile, decodeActiveRunsList, decodeNewStateNotification, encodeActiveRunsList, encodeNewStateNotification,
} from '../../src/profiles/aliecs.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';

// Test vectors from the AliECS facts.
const VECTOR = '0a340a0b326f44766965467256546910c0c4071a0750485953494353220752554e4e494e472a034954532a035450433080d095ffbc3110fbd095ffbc31';
const EMPTY_LIST = '10fbd095ffbc31';
const ctx: EncodeContext = { transport: 'kafka', topic: 'ignored' };

const transition = (type: string, data: Record<string, unknown>, time = '2023-11-14T22:13:20.123Z', source = 'aliecs-test') =>
  createEvent({ source, type, time, entity: { kind: 'environment', id: String(data.id) }, data: { kind: 'environment', ...data } });

const incoming = (topic: string, value: Buffer | null): IncomingMessage => ({ topic, value, headers: {} });

test('aliecs: the protobuf codec reproduces both test vectors exactly', () => {
  const bytes = encodeNewStateNotification({
    envInfo: { environmentId: '2oDvieFrVTi', runNumber: 123456, runType: 'PHYSICS', state: 'RUNNING', detectors: ['ITS', 'TPC'], enterStateTimestamp: 1700000000000 },
    timestamp: 1700000000123,
  });
  assert.equal(bytes.toString('hex'), VECTOR);
  assert.equal(encodeActiveRunsList({ activeRuns: [], timestamp: 1700000000123 }).toString('hex'), EMPTY_LIST);
  // Consumers tell the two messages apart by topic: one active run has the same bytes.
  const one = decodeActiveRunsList(Buffer.from(VECTOR, 'hex'));
  assert.equal(one.activeRuns.length, 1);
  assert.equal(one.activeRuns[0]!.environmentId, '2oDvieFrVTi');
});

test('aliecs: an enter-state event encodes to the test vector on aliecs.env_state.RUNNING, keyed by environment', () => {
  const event = transition(ENTITY_EVENT_TYPES.enter, {
    id: '2oDvieFrVTi', state: 'RUNNING', previous: 'CONFIGURED', enteredAt: '2023-11-14T22:13:20.000Z',
    attributes: { runNumber: 123456, runType: 'PHYSICS', detectors: ['ITS', 'TPC'], owner: 'not carried' },
  });
  const [msg, ...rest] = aliecsProfile.encode(event, ctx);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'aliecs.env_state.RUNNING');
  assert.equal(msg!.key, '2oDvieFrVTi');
  assert.equal(msg!.eventId, event.id);
  assert.equal(msg!.value!.toString('hex'), VECTOR);
  assert.equal(msg!.headers, undefined);
  assert.equal(msg!.contentType, undefined);
});

test('aliecs: leave carries the old state; run number only while RUNNING; other spellings accepted', () => {
  const leave = transition(ENTITY_EVENT_TYPES.leave, {
    id: 'env1', state: 'RUNNING', next: 'CONFIGURED', enteredAt: '2023-11-14T22:00:00.000Z',
    attributes: { run_number: '42', run_type: 'TECHNICAL', detectors: 'ITS, TPC' },
  });
  const [end] = aliecsProfile.encode(leave, ctx);
  assert.equal(end!.topic, 'aliecs.env_leave_state.RUNNING');
  const n = decodeNewStateNotification(end!.value!);
  assert.deepEqual(n.envInfo, { environmentId: 'env1', runNumber: 42, runType: 'TECHNICAL', state: 'RUNNING', detectors: ['ITS', 'TPC'], enterStateTimestamp: Date.parse('2023-11-14T22:00:00.000Z') });
  assert.equal(n.timestamp, 1700000000123);

  const configured = transition(ENTITY_EVENT_TYPES.enter, { id: 'env1', state: 'configured', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { runNumber: 42 } });
  const [msg] = aliecsProfile.encode(configured, ctx);
  assert.equal(msg!.topic, 'aliecs.env_state.CONFIGURED');
  assert.equal(decodeNewStateNotification(msg!.value!).envInfo.runNumber, undefined);
});

test('aliecs: a DESTROY request and unknown states are published as UNKNOWN', () => {
  for (const state of ['DESTROY', 'whatever']) {
    const [msg] = aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state, enteredAt: '2023-11-14T22:13:20.123Z', attributes: {} }), ctx);
    assert.equal(msg!.topic, 'aliecs.env_state.UNKNOWN');
    assert.equal(decodeNewStateNotification(msg!.value!).envInfo.state, 'UNKNOWN');
  }
});

test('aliecs: kafka_enabled=false opts an environment out, also from the active list', () => {
  for (const off of [false, 'false', 'FALSE']) {
    assert.deepEqual(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { kafka_enabled: off } }), ctx), []);
  }
  assert.equal(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { kafka_enabled: 'true' } }), ctx).length, 1);
});

test('aliecs: the list event becomes an ActiveRunsList on aliecs.env_list.RUNNING, sorted by id', () => {
  const list = createEvent({
    source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.list, time: '2023-11-14T22:13:20.123Z', entity: { kind: 'environment', id: '*' },
    data: {
      kind: 'environment', state: 'RUNNING',
      entities: [
        { id: 'zeta', state: 'RUNNING', enteredAt: '2023-11-14T22:00:00.000Z', attributes: { runNumber: 2 } },
        { id: 'hidden', state: 'RUNNING', enteredAt: '2023-11-14T22:00:00.000Z', attributes: { kafka_enabled: false } },
        { id: 'alpha', state: 'RUNNING', enteredAt: '2023-11-14T21:00:00.000Z', attributes: { runNumber: 1, detectors: ['TPC'] } },
      ],
    },
  });
  const [msg] = aliecsProfile.encode(list, ctx);
  assert.equal(msg!.topic, 'aliecs.env_list.RUNNING');
  assert.equal(msg!.key, 'RUNNING');
  const decoded = decodeActiveRunsList(msg!.value!);
  assert.deepEqual(decoded.activeRuns.map((r) => [r.environmentId, r.runNumber]), [['alpha', 1], ['zeta', 2]]);
  assert.equal(decoded.timestamp, 1700000000123);
  // A list of another state than the watched one is not AliECS's.
  const other = createEvent({ source: 's', type: ENTITY_EVENT_TYPES.list, data: { kind: 'environment', state: 'ERROR', entities: [] } });
  assert.deepEqual(aliecsProfile.encode(other, ctx), []);
  assert.equal(aliecsProfile.encode(other, { ...ctx, options: { watchedState: 'error' } })[0]!.topic, 'aliecs.env_list.ERROR');
});

test('aliecs: other kinds, other types and attribute-only updates from the registry are not carried', () => {
  assert.deepEqual(aliecsProfile.encode(createEvent({ source: 's', type: ENTITY_EVENT_TYPES.enter, entity: { kind: 'cluster', id: 'c' }, data: { kind: 'cluster', id: 'c', state: 'RUNNING', attributes: {} } }), ctx), []);
  assert.deepEqual(aliecsProfile.encode(createEvent({ source: 's', type: 'com.example.other', entity: { kind: 'environment', id: 'e' } }), ctx), []);
  // The registry's own transition: entered at the event's time → published.
  const t = '2023-11-14T22:13:20.123Z';
  assert.equal(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: t, attributes: {} }, t, ENTITY_EVENT_SOURCE), ctx).length, 1);
  // The registry's attribute update: the state was entered earlier → not a new start of run.
  assert.deepEqual(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: '2023-11-14T22:00:00.000Z', attributes: {} }, t, ENTITY_EVENT_SOURCE), ctx), []);
  assert.deepEqual(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: t, changed: false, attributes: {} }), ctx), []);
});

test('aliecs: onStart publishes an empty ActiveRunsList stamped now', () => {
  const before = Date.now();
  const [msg, ...rest] = aliecsProfile.onStart!(ctx);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'aliecs.env_list.RUNNING');
  const list = decodeActiveRunsList(msg!.value!);
  assert.deepEqual(list.activeRuns, []);
  assert.ok(list.timestamp >= before && list.timestamp <= Date.now());
  assert.equal(msg!.value![0], 0x10); // only field 2 (timestamp) present
});

test('aliecs: encode → decode round trip by topic for enter, leave and list', () => {
  const attributes = { runNumber: 123456, runType: 'PHYSICS', detectors: ['ITS', 'TPC'] };
  for (const type of [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.leave]) {
    const event = transition(type, { id: '2oDvieFrVTi', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.000Z', attributes });
    const [msg] = aliecsProfile.encode(event, ctx);
    const d = aliecsProfile.decode!(incoming(msg!.topic, msg!.value))!;
    assert.equal(d.profile, 'aliecs');
    assert.equal(d.format, 'protobuf');
    assert.equal(d.event.type, type);
    assert.equal(d.event.time, event.time);
    assert.deepEqual(d.event.entity, event.entity);
    assert.deepEqual(d.event.data, { kind: 'environment', id: '2oDvieFrVTi', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.000Z', attributes });
    // The same bytes give the same id (there is none on the wire).
    assert.equal(aliecsProfile.decode!(incoming(msg!.topic, msg!.value))!.event.id, d.event.id);
  }
  const d = aliecsProfile.decode!(incoming('aliecs.env_list.RUNNING', Buffer.from(VECTOR, 'hex')))!;
  assert.equal(d.event.type, ENTITY_EVENT_TYPES.list);
  assert.deepEqual(d.event.data, { kind: 'environment', state: 'RUNNING', entities: [{ id: '2oDvieFrVTi', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.000Z', attributes }] });
  assert.equal(aliecsProfile.summary!(d), '[env_list.RUNNING] 1 environment: 2oDvieFrVTi (run 123456 PHYSICS ITS,TPC)');
});

test('aliecs: decode ignores other topics and rejects malformed bytes on its own topics', () => {
  assert.equal(aliecsProfile.decode!(incoming('herald.events', Buffer.from(VECTOR, 'hex'))), undefined);
  assert.throws(() => aliecsProfile.decode!(incoming('aliecs.env_state.RUNNING', Buffer.from('ffffffff', 'hex'))), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'DECODE');
    assert.match(err.message, /aliecs\.env_state\.RUNNING.*NewStateNotification/);
    return true;
  });
});

test('aliecs: summary line of a state notification', () => {
  const d = aliecsProfile.decode!(incoming('aliecs.env_state.RUNNING', Buffer.from(VECTOR, 'hex')))!;
  assert.equal(aliecsProfile.summary!(d), '[env_state.RUNNING] 2oDvieFrVTi: run 123456 PHYSICS ITS,TPC');
  assert.equal(d.event.time, '2023-11-14T22:13:20.123Z');
});
