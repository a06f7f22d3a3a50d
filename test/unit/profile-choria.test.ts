import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';
import { HeraldError, ValidationError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { choriaProfile, lifecycle, machine, parseChoria, startAliveTicker } from '../../src/profiles/choria.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';

// The example document from the Choria facts (plain format).
const EXAMPLE = '{"protocol":"io.choria.lifecycle.v1.startup","id":"01e72410-d734-4611-9485-8c6a2dd2579b","identity":"c1.example.net","version":"0.6.0","timestamp":1535369537,"component":"server"}';
const fixed = { newId: () => '01e72410-d734-4611-9485-8c6a2dd2579b', now: () => new Date(1535369537000) };
const plain: EncodeContext = { transport: 'nats', topic: 'ignored', options: { format: 'plain' } };
const ce: EncodeContext = { transport: 'kafka', topic: 'ignored' };
const incoming = (topic: string, value: string | Buffer): IncomingMessage => ({ topic, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: {} });

test('choria: lifecycle.startup in plain form gives the example document byte for byte', () => {
  const event = lifecycle.startup({ identity: 'c1.example.net', component: 'server', version: '0.6.0' }, fixed);
  assert.equal(event.type, 'io.choria.lifecycle.v1.startup');
  assert.equal(event.source, 'io.choria.lifecycle');
  assert.equal(event.subject, 'c1.example.net');
  const [msg, ...rest] = choriaProfile.encode(event, plain);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'choria.lifecycle.event.startup.server');
  assert.equal(msg!.key, 'c1.example.net');
  assert.equal(msg!.value!.toString('utf8'), EXAMPLE);
  assert.equal(msg!.contentType, 'application/json');
});

test('choria: the CloudEvents form (default) wraps the plain document', () => {
  const event = lifecycle.startup({ identity: 'c1.example.net', component: 'server', version: '0.6.0' }, fixed);
  const [msg] = choriaProfile.encode(event, ce);
  assert.equal(msg!.topic, 'choria.lifecycle.event.startup.server');
  assert.match(msg!.contentType!, /^application\/cloudevents\+json/);
  assert.deepEqual(JSON.parse(msg!.value!.toString('utf8')), {
    specversion: '1.0',
    id: '01e72410-d734-4611-9485-8c6a2dd2579b',
    source: 'io.choria.lifecycle',
    type: 'io.choria.lifecycle.v1.startup',
    subject: 'c1.example.net',
    datacontenttype: 'application/json',
    time: '2018-08-27T11:32:17.000Z',
    data: JSON.parse(EXAMPLE),
  });
});

test('choria: every helper sets its required fields; machine transitions have their own subject', () => {
  const base = { identity: 'n1', component: 'server' };
  const docOf = (e: HeraldEvent) => JSON.parse(choriaProfile.encode(e, plain)[0]!.value!.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(docOf(lifecycle.shutdown(base))), ['protocol', 'id', 'identity', 'timestamp', 'component']);
  assert.equal(docOf(lifecycle.provisioned(base)).protocol, 'io.choria.lifecycle.v1.provisioned');
  assert.equal(docOf(lifecycle.alive({ ...base, version: '1.0' })).version, '1.0');
  const up = docOf(lifecycle.upgraded({ ...base, version: '1.0', newVersion: '1.1' }));
  assert.equal(up.new_version, '1.1');
  const gov = lifecycle.governor({ ...base, governor: 'PROVISION', sequence: 3, eventType: 'enter' });
  assert.deepEqual([docOf(gov).governor, docOf(gov).sequence, docOf(gov).event_type], ['PROVISION', 3, 'enter']);
  assert.equal(choriaProfile.encode(gov, plain)[0]!.topic, 'choria.lifecycle.event.governor.server');

  const t = machine.transition({ identity: 'n1', machine: 'httpcheck', version: '1.0.0', transition: 'fail', fromState: 'ok', toState: 'critical' }, { now: () => new Date(1700000000000), newId: () => 'm1' });
  const [msg] = choriaProfile.encode(t, ce);
  assert.equal(msg!.topic, 'choria.machine.transition');
  const body = JSON.parse(msg!.value!.toString('utf8'));
  assert.equal(body.source, 'io.choria.machine');
  assert.equal(body.type, 'io.choria.machine.v1.transition');
  assert.deepEqual(body.data, { protocol: 'io.choria.machine.v1.transition', id: 'm1', identity: 'n1', machine: 'httpcheck', version: '1.0.0', timestamp: 1700000000, transition: 'fail', from_state: 'ok', to_state: 'critical' });
});

test('choria: helpers give a fresh id and time per call and validate their options', () => {
  const a = lifecycle.alive({ identity: 'n1', component: 'server', version: '1' });
  const b = lifecycle.alive({ identity: 'n1', component: 'server', version: '1' });
  assert.notEqual(a.id, b.id);
  assert.equal((a.data as { id: string }).id, a.id);
  assert.throws(() => lifecycle.startup({ identity: 'n1', component: '', version: '1' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.details, [{ path: 'component', message: 'must not be empty' }]);
    return true;
  });
  assert.throws(() => lifecycle.upgraded({ identity: 'n1', component: 's', version: '1' } as never), /newVersion is required/);
  assert.throws(() => lifecycle.governor({ identity: 'n1', component: 's', governor: 'g', sequence: -1, eventType: 'enter' }), /sequence must be a whole number/);
  assert.throws(() => machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 't', fromState: 'a' } as never), /toState is required/);
});

test('choria: encoding a canonical event with an empty component is an error naming the field', () => {
  const event = createEvent({ source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { component: '' } });
  assert.throws(() => choriaProfile.encode(event, ce), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.details[0]!.path, 'data.component');
    return true;
  });
  // identity falls back to the subject; id and timestamp always come from the event.
  const ok = createEvent({ id: 'e1', time: '2024-01-01T00:00:00Z', source: 'x', type: 'io.choria.lifecycle.v1.shutdown', subject: 'n1', data: { component: 'server', id: 'stale', timestamp: 1 } });
  assert.equal(choriaProfile.encode(ok, plain)[0]!.value!.toString(), '{"protocol":"io.choria.lifecycle.v1.shutdown","id":"e1","identity":"n1","timestamp":1704067200,"component":"server"}');
  assert.deepEqual(choriaProfile.encode(createEvent({ source: 's', type: 'com.example.other' }), ce), []);
});

test('choria: parseChoria detects the plain, legacy and CloudEvents forms', () => {
  const p = parseChoria(EXAMPLE);
  assert.equal(p.form, 'plain');
  assert.equal(p.kind, 'startup');
  assert.equal(p.event.id, '01e72410-d734-4611-9485-8c6a2dd2579b');
  assert.equal(p.event.time, '2018-08-27T11:32:17.000Z');
  assert.equal(p.event.subject, 'c1.example.net');

  const legacy = parseChoria(Buffer.from('{"protocol":"choria:lifecycle:startup:1","identity":"c1","version":"0.5.0","timestamp":1535369537,"component":"server"}'));
  assert.equal(legacy.form, 'legacy');
  assert.equal(legacy.event.type, 'io.choria.lifecycle.v1.startup');
  assert.equal((legacy.event.data as { protocol: string }).protocol, 'io.choria.lifecycle.v1.startup');
  assert.equal(legacy.document.protocol, 'choria:lifecycle:startup:1');
  assert.equal(parseChoria(legacy.document).event.id, legacy.event.id, 'a legacy document without id gets a stable id');

  const cloud = { specversion: '1.0', id: '01e72410-d734-4611-9485-8c6a2dd2579b', source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.startup', subject: 'c1.example.net', time: '2018-08-27T11:32:17Z', datacontenttype: 'application/json', data: JSON.parse(EXAMPLE) };
  const c = parseChoria(cloud);
  assert.equal(c.form, 'cloudevents');
  assert.deepEqual(c.event, p.event);
  // data given as a JSON string is parsed again
  assert.equal(parseChoria({ ...cloud, data: EXAMPLE }).form, 'cloudevents');
  const m = parseChoria({ ...cloud, source: 'io.choria.machine', data: { protocol: 'io.choria.machine.v1.transition', id: 'x', identity: 'n', version: '1', timestamp: 1, machine: 'm', transition: 't', from_state: 'a', to_state: 'b' } });
  assert.equal(m.kind, 'transition');
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
  fails(JSON.parse(EXAMPLE.replace('"version":"0.6.0",', '')), /startup event: version is required/, 'version');
  fails({ ...JSON.parse(EXAMPLE), component: '' }, /component must not be empty/, 'component');
  fails({ ...JSON.parse(EXAMPLE), timestamp: '1535369537' }, /timestamp must be whole Unix seconds/, 'timestamp');
  fails({ specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't' }, /no data document/, 'data');
  fails({ specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't', data: { protocol: 'io.choria.lifecycle.v1.alive', identity: 'n', timestamp: 1 } }, /alive event: version is required/, 'data.version');
});

test('choria: decode recognises only Choria messages and round-trips both forms', () => {
  assert.equal(choriaProfile.decode!(incoming('x', '{"type":"other"}')), undefined);
  assert.equal(choriaProfile.decode!(incoming('x', Buffer.from([0x0a, 0x01]))), undefined);
  assert.throws(() => choriaProfile.decode!(incoming('x', '{"protocol":"io.choria.lifecycle.v1.startup"}')), /required/);

  const events = [
    lifecycle.upgraded({ identity: 'n1', component: 'server', version: '1.0', newVersion: '1.1' }, { now: () => new Date('2024-05-01T10:36:13Z') }),
    machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' }, { now: () => new Date('2024-05-01T10:36:13Z') }),
  ];
  for (const event of events) {
    for (const [ctx, format] of [[ce, 'cloudevents'], [plain, 'plain']] as const) {
      const [msg] = choriaProfile.encode(event, ctx);
      const d = choriaProfile.decode!(incoming(msg!.topic, msg!.value!))!;
      assert.equal(d.profile, 'choria');
      assert.equal(d.format, format);
      assert.deepEqual(d.event, event);
    }
  }
});

test('choria: summary lines', () => {
  const line = (e: HeraldEvent) => choriaProfile.summary!(choriaProfile.decode!(incoming('t', choriaProfile.encode(e, ce)[0]!.value!))!);
  assert.equal(choriaProfile.summary!(choriaProfile.decode!(incoming('t', EXAMPLE))!), '[startup] c1.example.net: server 0.6.0');
  assert.equal(line(lifecycle.shutdown({ identity: 'n1', component: 'server' })), '[shutdown] n1: server');
  assert.equal(line(lifecycle.upgraded({ identity: 'n1', component: 'server', version: '1', newVersion: '2' })), '[upgraded] n1: server 1 -> 2');
  assert.equal(line(lifecycle.governor({ identity: 'n1', component: 'server', governor: 'G', sequence: 7, eventType: 'enter' })), '[governor] n1: server enter G (sequence 7)');
  assert.equal(line(machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' })), '[transition] n1: m 1 a -> b (go)');
});

test('choria: the alive ticker emits a fresh event on every tick until stopped', async () => {
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
