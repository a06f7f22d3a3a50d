import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import { choriaProfile } from '../../src/profiles/choria.js';
import { cloudstackProfile } from '../../src/profiles/cloudstack.js';
import { PROFILES, type ProfileName } from '../../src/profiles/registry.js';
import type { EmitFlags } from '../../src/profiles/types.js';

/** What `herald emit --profile P` builds from flags (undefined: the common flags map 1:1). */
const eventInputFromFlags = (profile: ProfileName, flags: EmitFlags) => PROFILES[profile].emit?.input(flags);
const PROFILE_EMIT_FLAGS = Object.fromEntries(Object.values(PROFILES).map((p) => [p.name, Object.keys(p.emit?.flags ?? {})]));

const usage = (profile: ProfileName, flags: EmitFlags, message: string | RegExp, path?: string) =>
  assert.throws(() => eventInputFromFlags(profile, flags), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.exitCode, 2);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    if (path !== undefined) assert.equal(err.details[0]?.path, path);
    return true;
  });

test('emit-input: choria names the missing flag for the type', () => {
  usage('choria', { type: 'startup', identity: 'n1', version: '1' }, '--component is required for --profile choria --type startup', '--component');
  usage('choria', { type: 'startup', identity: 'n1', component: '', version: '1' }, '--component must not be empty for --profile choria --type startup');
  usage('choria', { type: 'startup', component: 'server', version: '1' }, '--identity is required for --profile choria --type startup');
  usage('choria', { type: 'upgraded', identity: 'n1', component: 's', version: '1' }, '--new-version is required for --profile choria --type upgraded');
  usage('choria', { type: 'governor', identity: 'n1', component: 's', governor: 'g', 'event-type': 'enter' }, '--sequence is required for --profile choria --type governor');
  usage('choria', { type: 'governor', identity: 'n1', component: 's', governor: 'g', sequence: 'two', 'event-type': 'enter' }, /--sequence must be a whole number/);
  usage('choria', { type: 'transition', identity: 'n1', machine: 'm', version: '1', transition: 't', 'from-state': 'a' }, '--to-state is required for --profile choria --type transition');
  usage('choria', {}, /--type is required for --profile choria: one of startup, shutdown, provisioned, alive, upgraded, governor, transition/);
  usage('choria', { type: 'reboot' }, /--type must be one of .* for --profile choria, got "reboot"/);
  usage('choria', { type: 'shutdown', identity: 'n1', component: 's', time: 'noon' }, /--time must be an RFC 3339 time/);
});

test('emit-input: choria flags build a complete canonical event', () => {
  const input = eventInputFromFlags('choria', { type: 'governor', identity: 'n1', component: 'server', governor: 'G', sequence: '4', 'event-type': 'exit', id: 'e1', time: '2024-05-01T10:00:00Z' })!;
  const event = createEvent(input);
  assert.equal(event.type, 'io.choria.lifecycle.v1.governor');
  assert.equal(event.id, 'e1');
  assert.equal(event.subject, 'n1');
  const [msg] = choriaProfile.encode(event, { transport: 'nats', topic: 't', options: { format: 'plain' } });
  assert.equal(msg!.topic, 'choria.lifecycle.event.governor.server');
  // go-choria lifecycle/basic.go + governor.go @ 58e80bab: the Go struct's field order.
  assert.equal(msg!.value!.toString(), '{"protocol":"io.choria.lifecycle.v1.governor","id":"e1","identity":"n1","component":"server","timestamp":1714557600,"governor":"G","sequence":4,"event_type":"exit"}');
  const t = createEvent(eventInputFromFlags('choria', { type: 'transition', identity: 'n1', machine: 'm', version: '1', transition: 'go', 'from-state': 'a', 'to-state': 'b' })!);
  assert.equal(t.source, 'io.choria.machine');
});

test('emit-input: cloudstack takes the category, flat --data, --source and --entity', () => {
  usage('cloudstack', {}, /--type is required for --profile cloudstack: the category, one of ActionEvent, AlertEvent, UsageEvent, ResourceStateEvent/);
  usage('cloudstack', { type: 'VM.CREATE' }, /--type must be a CloudStack category/, '--type');
  usage('cloudstack', { type: 'ActionEvent' }, /--data is required for --profile cloudstack --type ActionEvent/, '--data');
  usage('cloudstack', { type: 'ActionEvent', data: { status: 'Completed' } }, '--data field "event" is required for an ActionEvent (--profile cloudstack --type ActionEvent)', '--data.event');
  usage('cloudstack', { type: 'AlertEvent', data: [1] }, /--data must be an object with the flat fields of an AlertEvent/);
  usage('cloudstack', { type: 'UsageEvent', data: { event: 'x', deep: { a: 1 } } }, /--data field "deep" must be a string, number, boolean or null/);

  const input = eventInputFromFlags('cloudstack', { type: 'ActionEvent', entity: { kind: 'Account', id: 'u1' }, data: { event: 'ACCOUNT.DELETE', status: 'Completed' }, time: '2024-05-01T10:00:00Z' })!;
  const event = createEvent(input);
  assert.equal(event.type, 'cloudstack.ActionEvent');
  assert.equal(event.source, 'management-server');
  const [amqp] = cloudstackProfile.encode(event, { transport: 'amqp', topic: 'x' });
  assert.equal(amqp!.topic, 'management-server.ActionEvent.ACCOUNT-DELETE.Account.u1');
  const [kafka] = cloudstackProfile.encode(event, { transport: 'kafka', topic: 'cs' });
  assert.equal(kafka!.key, 'u1');
  assert.equal(createEvent(eventInputFromFlags('cloudstack', { type: 'AlertEvent', source: 'ms2', data: { event: 'A' } })!).source, 'ms2');
});

test('emit-input: assisted takes the event name; cloudevents and aliecs use the common flags', () => {
  usage('assisted', {}, /--type is required for --profile assisted/);
  usage('assisted', { type: 'x', entity: { kind: 'vm', id: '1' } }, /--entity must be cluster:ID, host:ID or infra-env:ID/);
  const input = eventInputFromFlags('assisted', { type: 'cluster_installed', entity: { kind: 'cluster', id: 'c1' }, message: 'done', severity: 'warning' })!;
  assert.deepEqual(input, { severity: 'warning', source: 'assisted-service', type: 'cluster_installed', entity: { kind: 'cluster', id: 'c1' }, message: 'done' });
  assert.equal(eventInputFromFlags('cloudevents', { type: 'x' }), undefined);
  assert.equal(eventInputFromFlags('aliecs', { type: 'x' }), undefined);
});

test('emit-input: every profile-specific flag is listed for the CLI', () => {
  assert.deepEqual([...PROFILE_EMIT_FLAGS.choria!].sort(), ['component', 'event-type', 'from-state', 'governor', 'identity', 'instance-id', 'machine', 'new-version', 'sequence', 'to-state', 'transition', 'version']);
  assert.deepEqual(PROFILE_EMIT_FLAGS.cloudstack, []);
  assert.deepEqual(PROFILE_EMIT_FLAGS.assisted, ['message']);
});
