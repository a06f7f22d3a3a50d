import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES, planStateChange, stateNotifications, type EntityState } from '../../src/events/entity-states.js';
import { normalize } from '../../src/events/event.js';
import {
  aliecsProfile, decodeActiveRunsList, decodeNewStateNotification, encodeActiveRunsList, encodeNewStateNotification, sortActiveRuns, type AliecsEnvInfo,
} from '../../src/profiles/aliecs.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';

// Test vectors: bytes of proto/aliecs.proto messages (field numbers as AliceO2Group/Control
// core/integration/kafka/protos/kafka.proto @ 9770b1f5; upstream has no byte-level vectors).
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

test('aliecs: an enter-state event encodes to the test vector on aliecs.env_state.RUNNING, with no key and no metadata', () => {
  const event = transition(ENTITY_EVENT_TYPES.enter, {
    id: '2oDvieFrVTi', state: 'RUNNING', previous: 'CONFIGURED', enteredAt: '2023-11-14T22:13:20.000Z',
    attributes: { runNumber: 123456, runType: 'PHYSICS', detectors: ['ITS', 'TPC'], owner: 'not carried' },
  });
  const [msg, ...rest] = aliecsProfile.encode(event, ctx);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'aliecs.env_state.RUNNING');
  // AliceO2Group/Control core/integration/kafka/plugin.go @ 9770b1f5, produceMessage:
  // kafka.Message{Topic, Value} — no key, no headers.
  assert.equal(msg!.key, undefined);
  assert.equal(msg!.metadata, 'none');
  assert.equal(msg!.eventId, event.id);
  assert.equal(msg!.value!.toString('hex'), VECTOR);
  assert.equal(msg!.headers, undefined);
  assert.equal(msg!.contentType, undefined);
  // profileOptions.keyed turns keys on: the environment id (lists: the state name).
  assert.equal(aliecsProfile.encode(event, { ...ctx, options: { keyed: true } })[0]!.key, '2oDvieFrVTi');
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

  // plugin.go newEnvStateObject @ 9770b1f5: runNumber AND runType only `if state == "RUNNING"
  // || strings.Contains(trigger, "START_ACTIVITY")`.
  const configured = transition(ENTITY_EVENT_TYPES.enter, { id: 'env1', state: 'configured', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { runNumber: 42, runType: 'PHYSICS' } });
  const [msg] = aliecsProfile.encode(configured, ctx);
  assert.equal(msg!.topic, 'aliecs.env_state.CONFIGURED');
  const env = decodeNewStateNotification(msg!.value!).envInfo;
  assert.equal(env.runNumber, undefined);
  assert.equal(env.runType, undefined);
  // In RUNNING the run type is set when present, even empty (`runType, ok := varStack["run_type"]`).
  const empty = transition(ENTITY_EVENT_TYPES.enter, { id: 'env1', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { runNumber: 42, runType: '' } });
  assert.equal(decodeNewStateNotification(aliecsProfile.encode(empty, ctx)[0]!.value!).envInfo.runType, '');
});

test('aliecs: DONE is a state of its own; a DESTROY request and unknown states are published as UNKNOWN', () => {
  // core/environment/environment.go @ 9770b1f5: {Name: "EXIT", ..., Dst: "DONE"}; the plugin
  // publishes the state the trigger names (enter_DONE → aliecs.env_state.DONE).
  const [done] = aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'done', enteredAt: '2023-11-14T22:13:20.123Z', attributes: {} }), ctx);
  assert.equal(done!.topic, 'aliecs.env_state.DONE');
  assert.equal(decodeNewStateNotification(done!.value!).envInfo.state, 'DONE');
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
  // profileOptions.requireKafkaEnabled: opt-in as AliECS's docs/kafka.md ("Make sure that there
  // is a `true` value set ... kafka_enabled"): only kafka_enabled true is published.
  const optIn = { ...ctx, options: { requireKafkaEnabled: true } };
  assert.deepEqual(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.123Z', attributes: {} }), optIn), []);
  for (const on of [true, 'true', 'yes']) {
    assert.equal(aliecsProfile.encode(transition(ENTITY_EVENT_TYPES.enter, { id: 'e', state: 'RUNNING', enteredAt: '2023-11-14T22:13:20.123Z', attributes: { kafka_enabled: on } }), optIn).length, 1);
  }
});

test('aliecs: ActiveRunsList order is SortRunningEnvList (upstream TestSortActiveRuns vector), detectors sorted', () => {
  // AliceO2Group/Control core/integration/kafka/plugin_test.go @ 9770b1f5, TestSortActiveRuns:
  // ids 1 [first], 2 [second], 3 [ITS first], 4 [first second third] → 3, 4, 1, 2.
  const env = (environmentId: string, detectors: string[]): AliecsEnvInfo => ({ environmentId, state: 'RUNNING', detectors, enterStateTimestamp: 0 });
  const input = [env('1', ['first']), env('2', ['second']), env('3', ['ITS', 'first']), env('4', ['first', 'second', 'third'])];
  assert.deepEqual(sortActiveRuns(input).map((e) => e.environmentId), ['3', '4', '1', '2']);
  // ...whatever order the runs come in (upstream sorts Go map values, whose order is random).
  assert.deepEqual(sortActiveRuns([...input].reverse()).map((e) => e.environmentId), ['3', '4', '1', '2']);
  assert.deepEqual(sortActiveRuns([]), []);
  // SortDetectorsOfRunningEnvs: slices.Sort on each run's detectors (byte order: upper case first).
  assert.deepEqual(sortActiveRuns([env('x', ['TPC', 'ITS', 'FT0', 'its'])])[0]!.detectors, ['FT0', 'ITS', 'TPC', 'its']);
  // A single ITS detector is not enough: the ITS rule needs two or more detectors (`>= 2`).
  assert.deepEqual(sortActiveRuns([env('a', ['ITS']), env('b', ['TPC', 'MCH'])]).map((e) => e.environmentId), ['b', 'a']);
  // An ITS run comes before a run with more detectors but no ITS.
  assert.deepEqual(sortActiveRuns([env('a', ['TPC', 'MCH', 'MID']), env('b', ['TPC', 'ITS'])]).map((e) => e.environmentId), ['b', 'a']);
  assert.deepEqual(input[2]!.detectors, ['ITS', 'first'], 'the input is not changed');
});

test('aliecs: the list event becomes an ActiveRunsList on aliecs.env_list.RUNNING, in AliECS order, without a key', () => {
  const list = createEvent({
    source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.list, time: '2023-11-14T22:13:20.123Z', entity: { kind: 'environment', id: '*' },
    data: {
      kind: 'environment', state: 'RUNNING',
      entities: [
        { id: 'alpha', state: 'RUNNING', enteredAt: '2023-11-14T21:00:00.000Z', attributes: { runNumber: 1, detectors: ['TPC'] } },
        { id: 'hidden', state: 'RUNNING', enteredAt: '2023-11-14T22:00:00.000Z', attributes: { kafka_enabled: false } },
        { id: 'zeta', state: 'RUNNING', enteredAt: '2023-11-14T22:00:00.000Z', attributes: { runNumber: 2, detectors: ['TPC', 'ITS'] } },
      ],
      cause: { id: 'zeta', state: 'RUNNING', changed: true, attributes: { runNumber: 2, detectors: ['TPC', 'ITS'] } },
    },
  });
  const [msg] = aliecsProfile.encode(list, ctx);
  assert.equal(msg!.topic, 'aliecs.env_list.RUNNING');
  assert.equal(msg!.key, undefined);
  assert.equal(msg!.metadata, 'none');
  assert.equal(aliecsProfile.encode(list, { ...ctx, options: { keyed: true } })[0]!.key, 'RUNNING');
  const decoded = decodeActiveRunsList(msg!.value!);
  assert.deepEqual(decoded.activeRuns.map((r) => [r.environmentId, r.runNumber, r.detectors]), [['zeta', 2, ['ITS', 'TPC']], ['alpha', 1, ['TPC']]]);
  assert.equal(decoded.timestamp, 1700000000123);
  // A list of another state than the watched one is not AliECS's.
  const other = createEvent({ source: 's', type: ENTITY_EVENT_TYPES.list, data: { kind: 'environment', state: 'ERROR', entities: [] } });
  assert.deepEqual(aliecsProfile.encode(other, ctx), []);
  assert.equal(aliecsProfile.encode(other, { ...ctx, options: { watchedState: 'error' } })[0]!.topic, 'aliecs.env_list.ERROR');
});

test('aliecs: the list goes out after every enter AliECS would send (any state), and only then', () => {
  // plugin.go createNewStateCallback @ 9770b1f5: after the NewStateNotification of any entered
  // state, `p.produceMessage(arlData, p.ActiveRunsListTopic(), ...)`; the leave callback sends none.
  const listAfter = (cause: Record<string, unknown>) => createEvent({
    source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.list, time: '2023-11-14T22:13:20.123Z', entity: { kind: 'environment', id: '*' },
    data: { kind: 'environment', state: 'RUNNING', entities: [], cause },
  });
  for (const state of ['CONFIGURED', 'ERROR', 'RUNNING', 'UNKNOWN', 'DONE']) {
    assert.equal(aliecsProfile.encode(listAfter({ id: 'e', state, changed: true, attributes: {} }), ctx).length, 1, `a list after entering ${state}`);
  }
  // No enter notification goes out for an attribute update or an opted-out environment: no list either.
  assert.deepEqual(aliecsProfile.encode(listAfter({ id: 'e', state: 'RUNNING', changed: false, attributes: {} }), ctx), []);
  assert.deepEqual(aliecsProfile.encode(listAfter({ id: 'e', state: 'CONFIGURED', changed: true, attributes: { kafka_enabled: false } }), ctx), []);
  assert.deepEqual(aliecsProfile.encode(listAfter({ id: 'e', state: 'CONFIGURED', changed: true, attributes: {} }), { ...ctx, options: { requireKafkaEnabled: true } }), []);
});

test('aliecs: the registry\'s notifications map to exactly the topics AliECS sends, lists with the same timestamp', () => {
  const topics = (previous: EntityState | null, state: string, attributes: Record<string, unknown>, at: string) => {
    const plan = planStateChange(previous, { kind: 'environment', id: 'env1', state, attributes }, new Date(at));
    const members = plan.current.state === 'RUNNING' ? [plan.current] : [];
    const events = stateNotifications(plan, [{ state: 'RUNNING', members }]).map((n) => normalize(n));
    const msgs = events.flatMap((e) => aliecsProfile.encode(e, ctx));
    return { plan, msgs, stamps: msgs.map((m) => (m.topic.startsWith('aliecs.env_list') ? decodeActiveRunsList(m.value!).timestamp : decodeNewStateNotification(m.value!).timestamp)) };
  };
  const a = topics(null, 'CONFIGURED', { detectors: ['TPC'] }, '2023-11-14T22:00:00.000Z');
  assert.deepEqual(a.msgs.map((m) => m.topic), ['aliecs.env_state.CONFIGURED', 'aliecs.env_list.RUNNING']);
  const b = topics(a.plan.current, 'RUNNING', { runNumber: 5, detectors: ['TPC'] }, '2023-11-14T22:01:00.000Z');
  assert.deepEqual(b.msgs.map((m) => m.topic), ['aliecs.env_leave_state.CONFIGURED', 'aliecs.env_state.RUNNING', 'aliecs.env_list.RUNNING']);
  assert.equal(b.stamps[1], b.stamps[2], 'the list carries the enter notification\'s timestamp');
  // Attributes change while RUNNING: AliECS has no such notification, so nothing goes out.
  const c = topics(b.plan.current, 'RUNNING', { runNumber: 5, detectors: ['TPC', 'ITS'] }, '2023-11-14T22:02:00.000Z');
  assert.deepEqual(c.msgs, []);
  const d = topics(b.plan.current, 'ERROR', { runNumber: 5, detectors: ['TPC'] }, '2023-11-14T22:03:00.000Z');
  assert.deepEqual(d.msgs.map((m) => m.topic), ['aliecs.env_leave_state.RUNNING', 'aliecs.env_state.ERROR', 'aliecs.env_list.RUNNING']);
  assert.deepEqual(decodeActiveRunsList(d.msgs[2]!.value!).activeRuns, []);
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
  // plugin.go Init @ 9770b1f5: produceMessage(arlData, ActiveRunsListTopic(), "", "Init") — no key.
  assert.equal(msg!.key, undefined);
  assert.equal(msg!.metadata, 'none');
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
