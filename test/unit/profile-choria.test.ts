/**
 * The choria profile against Choria's own vectors and rules. Upstream sources (facts carry
 * over, no code): choria-io/go-choria @ 58e80bab58a53d38576238baa011123d5f9eff59 —
 * lifecycle/lifecycle_test.go (the published bytes), lifecycle/basic.go and the per-type files
 * (field order, String()), lifecycle/governor.go (event types), aagent/machine/
 * notifications.go and aagent/notifiers/choria/choria.go (transitions); choria-io/schemas @
 * c7cbce1b7a9b1f58e91bee8ded1ffc5038c163e8 choria/machine/v1/transition.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';
import { HeraldError, ValidationError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { GOVERNOR_EVENT_TYPES, choriaProfile, lifecycle, machine, machineInstanceId, parseChoria, startAliveTicker } from '../../src/profiles/choria.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';

// lifecycle/lifecycle_test.go "PublishEvent": mockTime 1535106973, mockID below,
// New(Startup, Component("ginkgo"), Version("1.2.3"), Identity("ginkgo.example.net")).
const MOCK_ID = '01e72410-d734-4611-9485-8c6a2dd2579b';
const fixed = { newId: () => MOCK_ID, now: () => new Date(1535106973 * 1000) };
const UPSTREAM_PLAIN = '{"protocol":"io.choria.lifecycle.v1.startup","id":"01e72410-d734-4611-9485-8c6a2dd2579b","identity":"ginkgo.example.net","component":"ginkgo","timestamp":1535106973,"version":"1.2.3"}';
const UPSTREAM_CE = '{"specversion":"1.0","id":"01e72410-d734-4611-9485-8c6a2dd2579b","source":"io.choria.lifecycle","type":"io.choria.lifecycle.v1.startup","subject":"ginkgo.example.net","datacontenttype":"application/json","time":"2018-08-24T10:36:13Z","data":{"protocol":"io.choria.lifecycle.v1.startup","id":"01e72410-d734-4611-9485-8c6a2dd2579b","identity":"ginkgo.example.net","component":"ginkgo","timestamp":1535106973,"version":"1.2.3"}}';
const startup = () => lifecycle.startup({ identity: 'ginkgo.example.net', component: 'ginkgo', version: '1.2.3' }, fixed);

const plain: EncodeContext = { transport: 'nats', topic: 'ignored', options: { format: 'plain' } };
const natsCe: EncodeContext = { transport: 'nats', topic: 'ignored' };
const ce: EncodeContext = { transport: 'kafka', topic: 'ignored' };
const incoming = (topic: string, value: string | Buffer): IncomingMessage => ({ topic, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: {} });
const docOf = (e: HeraldEvent, ctx: EncodeContext = plain) => JSON.parse(choriaProfile.encode(e, ctx)[0]!.value!.toString('utf8')) as Record<string, unknown>;

test('choria: plain startup is byte for byte the published bytes of go-choria lifecycle_test.go "PublishEvent"', () => {
  const [msg, ...rest] = choriaProfile.encode(startup(), plain);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'choria.lifecycle.event.startup.ginkgo');
  assert.equal(msg!.value!.toString('utf8'), UPSTREAM_PLAIN);
  assert.equal(msg!.contentType, undefined, 'no header on NATS: Choria publishes raw bytes');
});

test('choria: the CloudEvent startup is byte for byte go-choria lifecycle_test.go "Should support cloud events format"', () => {
  const [msg] = choriaProfile.encode(startup(), natsCe);
  assert.equal(msg!.topic, 'choria.lifecycle.event.startup.ginkgo');
  assert.equal(msg!.value!.toString('utf8'), UPSTREAM_CE);
  assert.equal(msg!.key, 'ginkgo.example.net');
  // Kafka and AMQP (no Choria upstream) carry a content type.
  assert.match(choriaProfile.encode(startup(), ce)[0]!.contentType!, /^application\/cloudevents\+json/);
  assert.equal(choriaProfile.encode(startup(), { ...plain, transport: 'kafka' })[0]!.contentType, 'application/json');
});

test('choria: the CloudEvent time is the whole second of data.timestamp (basic.go TimeStamp = time.Unix(timestamp, 0))', () => {
  // An event posted with milliseconds: time and data.timestamp must agree on the wire.
  const e = createEvent({ id: 'e1', time: '2024-05-01T10:36:13.987Z', source: 'x', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { component: 'server' } });
  const body = docOf(e, ce);
  assert.equal(body.time, '2024-05-01T10:36:13Z');
  assert.equal((body.data as { timestamp: number }).timestamp, 1714559773);
  // The helpers cut the event time itself to whole seconds, so the stored event agrees too.
  const h = lifecycle.alive({ identity: 'n1', component: 'server', version: '1' }, { now: () => new Date('2024-05-01T10:36:13.987Z') });
  assert.equal(h.time, '2024-05-01T10:36:13.000Z');
});

test('choria: every lifecycle type in Go struct order (basicEvent fields first, then the type\'s own)', () => {
  const base = { identity: 'n1', component: 'server' };
  const keys = (e: HeraldEvent) => Object.keys(docOf(e));
  const BASIC = ['protocol', 'id', 'identity', 'component', 'timestamp'];
  assert.deepEqual(keys(lifecycle.shutdown(base)), BASIC);
  assert.deepEqual(keys(lifecycle.provisioned(base)), BASIC);
  assert.deepEqual(keys(lifecycle.alive({ ...base, version: '1.0' })), [...BASIC, 'version']);
  assert.deepEqual(keys(lifecycle.upgraded({ ...base, version: '1.0', newVersion: '1.1' })), [...BASIC, 'version', 'new_version']);
  const gov = lifecycle.governor({ ...base, governor: 'PUPPET', sequence: 10, eventType: 'enter' });
  assert.deepEqual(keys(gov), [...BASIC, 'governor', 'sequence', 'event_type']);
  assert.equal(choriaProfile.encode(gov, plain)[0]!.topic, 'choria.lifecycle.event.governor.server');
  // Extra data keys of a lifecycle event are kept after Choria's fields.
  const extra = createEvent({ id: 'e1', time: '2024-01-01T00:00:00Z', source: 'x', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { note: 'x', component: 'server' } });
  assert.deepEqual(Object.keys(docOf(extra)), [...BASIC, 'note']);
});

test('choria: governor event types are exactly Choria\'s constants (lifecycle/governor.go)', () => {
  assert.deepEqual([...GOVERNOR_EVENT_TYPES], ['enter', 'exit', 'timeouts', 'eviction']);
  for (const eventType of GOVERNOR_EVENT_TYPES) {
    assert.equal(docOf(lifecycle.governor({ identity: 'n1', component: 's', governor: 'G', sequence: 1, eventType })).event_type, eventType);
  }
  for (const bad of ['timeout', 'evict', 'ENTER']) {
    assert.throws(() => lifecycle.governor({ identity: 'n1', component: 's', governor: 'G', sequence: 1, eventType: bad as 'enter' }), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.details[0]!.path, 'eventType');
      assert.match(err.message, /must be one of enter, exit, timeouts, eviction/);
      return true;
    });
  }
  // A canonical event (REST API, config) is checked the same way before it is stored.
  const posted = createEvent({ source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.governor', subject: 'n1', data: { component: 's', governor: 'G', sequence: 1, event_type: 'evict' } });
  assert.deepEqual(choriaProfile.check!(posted, ce).map((p) => p.path), ['data.event_type']);
  assert.throws(() => choriaProfile.encode(posted, ce), /data\.event_type must be one of enter, exit, timeouts, eviction/);
});

test('choria: a transition is TransitionNotification in struct order; data.id the machine instance id, the CloudEvent id its own', () => {
  const at = { now: () => new Date(1700000000 * 1000) };
  const t1 = machine.transition({ identity: 'n1', machine: 'httpcheck', version: '1.0.0', transition: 'fail', fromState: 'ok', toState: 'critical', instanceId: 'inst-1' }, at);
  const t2 = machine.transition({ identity: 'n1', machine: 'httpcheck', version: '1.0.0', transition: 'recover', fromState: 'critical', toState: 'ok', instanceId: 'inst-1' }, at);
  const [msg] = choriaProfile.encode(t1, natsCe);
  assert.equal(msg!.topic, 'choria.machine.transition');
  assert.equal(msg!.value!.toString('utf8'), `{"specversion":"1.0","id":"${t1.id}","source":"io.choria.machine","type":"io.choria.machine.v1.transition","subject":"n1","datacontenttype":"application/json","time":"2023-11-14T22:13:20Z","data":{"protocol":"io.choria.machine.v1.transition","identity":"n1","id":"inst-1","version":"1.0.0","timestamp":1700000000,"machine":"httpcheck","transition":"fail","from_state":"ok","to_state":"critical"}}`);
  const b1 = docOf(t1, ce);
  const b2 = docOf(t2, ce);
  assert.notEqual(b1.id, b2.id, 'each transition has its own CloudEvent id (util.UniqueID)');
  assert.equal((b1.data as { id: string }).id, (b2.data as { id: string }).id, 'data.id is the machine instance id, the same for both');
  assert.notEqual(b1.id, (b1.data as { id: string }).id);
  // Without an instance id: one derived from identity and machine, stable across transitions.
  const d1 = machine.transition({ identity: 'n1', machine: 'httpcheck', version: '1', transition: 'a', fromState: 'x', toState: 'y' });
  const d2 = machine.transition({ identity: 'n1', machine: 'httpcheck', version: '1', transition: 'b', fromState: 'y', toState: 'x' });
  assert.equal((d1.data as { id: string }).id, machineInstanceId('n1', 'httpcheck'));
  assert.equal((d2.data as { id: string }).id, (d1.data as { id: string }).id);
  assert.notEqual(machineInstanceId('n2', 'httpcheck'), machineInstanceId('n1', 'httpcheck'));
});

test('choria: transitions are always CloudEvents, also with profileOptions.format plain (notifier publishes CloudEvent() only)', () => {
  const t = machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' });
  const [msg] = choriaProfile.encode(t, plain);
  const body = JSON.parse(msg!.value!.toString('utf8'));
  assert.equal(body.specversion, '1.0');
  assert.equal(body.source, 'io.choria.machine');
  assert.equal(body.data.protocol, 'io.choria.machine.v1.transition');
  // The lifecycle events of that sink are plain documents.
  assert.equal(docOf(lifecycle.shutdown({ identity: 'n1', component: 's' })).protocol, 'io.choria.lifecycle.v1.shutdown');
});

test('choria: a transition takes no keys beyond its schema (transition.json additionalProperties: false)', () => {
  const e = createEvent({ source: 'io.choria.machine', type: 'io.choria.machine.v1.transition', subject: 'n1',
    data: { identity: 'n1', machine: 'm', version: '1', transition: 't', from_state: 'a', to_state: 'b', severity: 'high' } });
  assert.deepEqual(choriaProfile.check!(e, ce), [{ path: 'data.severity', message: 'is not a field of io.choria.machine.v1.transition (its schema allows only protocol, identity, id, version, timestamp, machine, transition, from_state, to_state)' }]);
  assert.throws(() => choriaProfile.encode(e, ce), /data\.severity is not a field/);
});

test('choria: Go\'s encoding/json escapes <, > and & in documents; the SDK\'s attributes stay unescaped', () => {
  const e = lifecycle.startup({ identity: 'a<b>&c', component: 'server', version: '1' }, fixed);
  const plainBytes = choriaProfile.encode(e, plain)[0]!.value!.toString('utf8');
  assert.match(plainBytes, /"identity":"a\\u003cb\\u003e\\u0026c"/);
  const ceBytes = choriaProfile.encode(e, natsCe)[0]!.value!.toString('utf8');
  assert.match(ceBytes, /"subject":"a<b>&c"/);
  assert.match(ceBytes, /"data":\{[^}]*"identity":"a\\u003cb\\u003e\\u0026c"/);
  assert.equal(JSON.parse(ceBytes).data.identity, 'a<b>&c');
});

test('choria: helpers validate their options and give fresh v4 ids', () => {
  const a = lifecycle.alive({ identity: 'n1', component: 'server', version: '1' });
  const b = lifecycle.alive({ identity: 'n1', component: 'server', version: '1' });
  assert.notEqual(a.id, b.id);
  assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal((a.data as { id: string }).id, a.id);
  assert.throws(() => lifecycle.startup({ identity: 'n1', component: '', version: '1' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.details, [{ path: 'component', message: 'must not be empty' }]);
    return true;
  });
  assert.throws(() => lifecycle.upgraded({ identity: 'n1', component: 's', version: '1' } as never), /newVersion is required/);
  assert.throws(() => lifecycle.governor({ identity: 'n1', component: 's', governor: 'g', sequence: -1, eventType: 'enter' }), /sequence must be a whole number/);
  assert.throws(() => machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 't', fromState: 'a' } as never), /toState is required/);
  assert.throws(() => machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 't', fromState: 'a', toState: 'b', instanceId: '' }), /instanceId must not be empty/);
});

test('choria: encoding a canonical event with an empty component is an error naming the field; id and timestamp come from the event', () => {
  const event = createEvent({ source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { component: '' } });
  assert.deepEqual(choriaProfile.check!(event, ce), [{ path: 'data.component', message: 'must not be empty' }]);
  assert.throws(() => choriaProfile.encode(event, ce), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.details[0]!.path, 'data.component');
    return true;
  });
  const ok = createEvent({ id: 'e1', time: '2024-01-01T00:00:00Z', source: 'x', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { component: 'server', id: 'stale', timestamp: 1 } });
  assert.equal(choriaProfile.encode(ok, plain)[0]!.value!.toString(), '{"protocol":"io.choria.lifecycle.v1.shutdown","id":"e1","identity":"n1","component":"server","timestamp":1704067200}');
  assert.deepEqual(choriaProfile.encode(createEvent({ source: 's', type: 'com.example.other' }), ce), []);
  assert.deepEqual(choriaProfile.check!(createEvent({ source: 's', type: 'com.example.other' }), ce), []);
});

test('choria: parseChoria reads upstream\'s testdata in both forms (lifecycle/testdata/*.json)', () => {
  // lifecycle/testdata/choriaFormatShutdown.json
  const p = parseChoria('{"protocol": "io.choria.lifecycle.v1.shutdown", "id": "cb6f1dbc-d65b-49b9-907e-e4a51bee75f8", "identity": "dev1.devco.net", "component": "server", "timestamp": 1575482338}');
  assert.equal(p.form, 'plain');
  assert.equal(p.kind, 'shutdown');
  assert.equal(p.event.id, 'cb6f1dbc-d65b-49b9-907e-e4a51bee75f8');
  assert.equal(p.event.time, new Date(1575482338 * 1000).toISOString());
  assert.equal(p.event.subject, 'dev1.devco.net');
  // lifecycle/testdata/cloudEventFormatShutdown.json (no datacontenttype; its data carries a version)
  const c = parseChoria('{"id": "01e72410-d734-4611-9485-8c6a2dd2579b", "source": "io.choria.lifecycle", "specversion": "1.0", "subject": "ginkgo.example.net", "time": "2018-08-24T10:36:13Z", "type": "io.choria.lifecycle.v1.shutdown", "data": {"protocol": "io.choria.lifecycle.v1.shutdown", "id": "01e72410-d734-4611-9485-8c6a2dd2579b", "identity": "ginkgo.example.net", "component": "ginkgo", "timestamp": 1535106973, "version": "1.2.3"}}');
  assert.equal(c.form, 'cloudevents');
  assert.equal(c.kind, 'shutdown');
  assert.equal((c.event.data as { component: string }).component, 'ginkgo');
  assert.equal(c.event.time, '2018-08-24T10:36:13.000Z');
  // The published CloudEvent vector decodes to the helper's event.
  assert.deepEqual(parseChoria(UPSTREAM_CE).event, startup());
  assert.deepEqual(parseChoria(UPSTREAM_PLAIN).event, startup());
});

test('choria: Herald\'s reader also shows the legacy spelling, which Choria\'s own NewFromJSON rejects (the tally counts it as an error)', () => {
  const legacy = parseChoria(Buffer.from('{"protocol":"choria:lifecycle:startup:1","identity":"c1","version":"0.5.0","timestamp":1535369537,"component":"server"}'));
  assert.equal(legacy.form, 'legacy');
  assert.equal(legacy.event.type, 'io.choria.lifecycle.v1.startup');
  assert.equal((legacy.event.data as { protocol: string }).protocol, 'io.choria.lifecycle.v1.startup');
  assert.equal(parseChoria(legacy.document).event.id, legacy.event.id, 'a legacy document without id gets a stable id');
});

test('choria: decoded transitions keep data.id (the instance) and take the CloudEvent id as the event id', () => {
  const t = machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b', instanceId: 'inst-9' });
  const d = choriaProfile.decode!(incoming('choria.machine.transition', choriaProfile.encode(t, ce)[0]!.value!))!;
  assert.equal(d.event.id, t.id);
  assert.equal((d.event.data as { id: string }).id, 'inst-9');
  assert.deepEqual(d.event, t);
  // A plain transition document (older Herald) still shows; two of them do not share an event id.
  const doc = (transition: string) => ({ protocol: 'io.choria.machine.v1.transition', identity: 'n', id: 'inst', version: '1', timestamp: 1, machine: 'm', transition, from_state: 'a', to_state: 'b' });
  const p1 = parseChoria(doc('x'));
  const p2 = parseChoria(doc('y'));
  assert.equal(p1.form, 'plain');
  assert.notEqual(p1.event.id, p2.event.id);
  assert.equal((p1.event.data as { id: string }).id, 'inst');
});

test('choria: parseChoria gives clear errors naming what is wrong', () => {
  const fails = (input: Parameters<typeof parseChoria>[0], pattern: RegExp, path?: string) => assert.throws(() => parseChoria(input), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'DECODE');
    assert.match(err.message, pattern);
    if (path !== undefined) assert.ok(err.details.some((d) => d.path === path), JSON.stringify(err.details));
    return true;
  });
  fails('not json', /not JSON/);
  fails('[1]', /expected a JSON object/);
  fails({ hello: 'world' }, /not a Choria event/);
  fails({ protocol: 'io.choria.lifecycle.v1.reboot', id: 'x', identity: 'n', component: 'c', timestamp: 1 }, /unknown protocol "io\.choria\.lifecycle\.v1\.reboot"/, 'protocol');
  fails(JSON.parse(UPSTREAM_PLAIN.replace(',"version":"1.2.3"', '')), /startup event: version is required/, 'version');
  fails({ ...JSON.parse(UPSTREAM_PLAIN), component: '' }, /component must not be empty/, 'component');
  fails({ ...JSON.parse(UPSTREAM_PLAIN), timestamp: '1535106973' }, /timestamp must be whole Unix seconds/, 'timestamp');
  fails({ specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't' }, /no data document/, 'data');
  fails({ specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't', data: { protocol: 'io.choria.lifecycle.v1.alive', identity: 'n', timestamp: 1 } }, /alive event: component is required/, 'data.component');
});

test('choria: decode recognises only Choria messages and round-trips both forms', () => {
  assert.equal(choriaProfile.decode!(incoming('x', '{"type":"other"}')), undefined);
  assert.equal(choriaProfile.decode!(incoming('x', Buffer.from([0x0a, 0x01]))), undefined);
  assert.throws(() => choriaProfile.decode!(incoming('x', '{"protocol":"io.choria.lifecycle.v1.startup"}')), /required/);

  const at = { now: () => new Date('2024-05-01T10:36:13Z') };
  const upgraded = lifecycle.upgraded({ identity: 'n1', component: 'server', version: '1.0', newVersion: '1.1' }, at);
  for (const [ctx, format] of [[ce, 'cloudevents'], [plain, 'plain']] as const) {
    const [msg] = choriaProfile.encode(upgraded, ctx);
    const d = choriaProfile.decode!(incoming(msg!.topic, msg!.value!))!;
    assert.equal(d.profile, 'choria');
    assert.equal(d.format, format);
    assert.deepEqual(d.event, upgraded);
  }
});

test('choria: summary lines are Choria\'s String() texts (lifecycle/*_test.go, notifications.go)', () => {
  const line = (e: HeraldEvent) => choriaProfile.summary!(choriaProfile.decode!(incoming('t', choriaProfile.encode(e, ce)[0]!.value!))!);
  const n = { identity: 'node.example', component: 'ginkgo' };
  assert.equal(line(lifecycle.startup({ ...n, version: '1.2.3' })), '[startup] node.example: ginkgo version 1.2.3');
  assert.equal(line(lifecycle.alive({ ...n, version: '1.2.3' })), '[alive] node.example: ginkgo version 1.2.3');
  assert.equal(line(lifecycle.upgraded({ ...n, version: '1.2.3', newVersion: '1.2.4' })), '[upgraded] node.example: ginkgo version 1.2.3 to 1.2.4');
  assert.equal(line(lifecycle.shutdown(n)), '[shutdown] node.example: ginkgo');
  // governor_test.go "String"
  const g = { identity: 'ginkgo.example.net', component: 'ginkgo', governor: 'PUPPET', sequence: 10 };
  assert.equal(line(lifecycle.governor({ ...g, eventType: 'enter' })), '[governor] ginkgo.example.net: obtained slot 10 on PUPPET');
  assert.equal(line(lifecycle.governor({ ...g, eventType: 'exit' })), '[governor] ginkgo.example.net: vacated slot 10 on PUPPET');
  assert.equal(line(lifecycle.governor({ ...g, eventType: 'timeouts' })), '[governor] ginkgo.example.net: failed to obtain a slot on PUPPET');
  assert.equal(line(lifecycle.governor({ ...g, eventType: 'eviction' })), '[governor] ginkgo.example.net: evicted from slot 10 on PUPPET');
  assert.equal(line(lifecycle.governor({ ...g, sequence: 0, eventType: 'enter' })), '[governor] ginkgo.example.net: obtained slot on PUPPET');
  assert.equal(line(machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' })), 'n1 m transitioned via event go: a => b');
});

test('choria: the alive ticker emits a fresh event on every tick until stopped (Herald\'s deliberate difference to Choria\'s re-send)', async () => {
  const seen: HeraldEvent[] = [];
  const ticker = startAliveTicker({ identity: 'n1', component: 'server', version: '1.0', intervalMs: 5, emit: async (e) => { seen.push(e); } });
  // A timeout falls through to stop() and the assertion below, which names the count.
  await waitFor('3 ticks', () => seen.length >= 3, 2000, 5).catch(() => undefined);
  ticker.stop();
  ticker.stop(); // idempotent
  const count = seen.length;
  assert.ok(count >= 3, `expected 3 ticks, got ${count}`);
  assert.equal(new Set(seen.map((e) => e.id)).size, count, 'every tick has its own id');
  for (const e of seen) {
    assert.equal(e.type, 'io.choria.lifecycle.v1.alive');
    assert.equal((e.data as { id: string }).id, e.id);
  }
  await sleep(30); // a sleep, not a wait: it checks an absence (a tick after stop() would show up here)
  assert.equal(seen.length, count, 'no ticks after stop()');
});

test('choria: the alive ticker stops on abort, survives emit failures and rejects bad options', async () => {
  const ac = new AbortController();
  const errors: unknown[] = [];
  let calls = 0;
  startAliveTicker({
    identity: 'n1', component: 'server', version: '1', intervalMs: 5, signal: ac.signal, immediate: true,
    emit: async () => { calls += 1; throw new Error('broker down'); },
    onError: (err) => errors.push(err),
  });
  assert.equal(calls, 1, 'immediate: one emit right away');
  // A timeout falls through to abort() and the assertion below.
  await waitFor('3 emit attempts', () => calls >= 3, 2000, 5).catch(() => undefined);
  ac.abort();
  const at = calls;
  await sleep(30); // a sleep, not a wait: it checks an absence (an emit after abort() would show up here)
  assert.ok(at >= 3);
  assert.equal(calls, at);
  assert.ok(errors.length >= 2 && errors.every((e) => (e as Error).message === 'broker down'));
  assert.throws(() => startAliveTicker({ identity: 'n1', component: '', version: '1', intervalMs: 5, emit: async () => undefined }), /component must not be empty/);
  assert.throws(() => startAliveTicker({ identity: 'n1', component: 's', version: '1', intervalMs: 0, emit: async () => undefined }), /intervalMs/);
});

test('choria: herald emit flags: --event-type and --instance-id checked, naming the flag', () => {
  const input = choriaProfile.emit!.input;
  assert.throws(() => input({ type: 'governor', identity: 'n1', component: 's', governor: 'G', sequence: '1', 'event-type': 'timeout' }), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'USAGE');
    assert.equal(err.details[0]!.path, '--event-type');
    assert.match(err.message, /--event-type must be one of enter, exit, timeouts, eviction/);
    return true;
  });
  const t = input({ type: 'transition', identity: 'n1', machine: 'm', version: '1', transition: 't', 'from-state': 'a', 'to-state': 'b', 'instance-id': 'inst-1' });
  assert.equal((t.data as { id: string }).id, 'inst-1');
  assert.throws(() => input({ type: 'startup', identity: 'n1', component: 's', version: '1', 'instance-id': 'x' }), /--instance-id applies only to --type transition/);
});
