import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES } from '../../src/events/entity-states.js';
import { assistedProfile } from '../../src/profiles/assisted.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';
import { bindingFor } from '../helpers/sinks.js';

// The context a sink binding of the assisted profile gives it (topic: the profile's default).
const ctx: EncodeContext = { transport: 'kafka', topic: bindingFor({ name: 'a', type: 'kafka', brokers: ['k:9092'], profile: 'assisted' }).topic, options: { versions: { 'assisted-installer': 'v2.30' } } };
const incoming = (value: string | Buffer, topic = 'events-stream'): IncomingMessage => ({ topic, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: {} });

const hostEvent = () => createEvent({
  source: 'svc', type: 'host_registration_succeeded', time: '2024-05-01T12:00:00Z', severity: 'info',
  entity: { kind: 'host', id: 'h1' }, message: 'Host h1: registered to cluster',
  data: { cluster_id: 'c1', request_id: 'r1', disk: 'sda' },
});

const PAYLOAD = '{"category":"user","cluster_id":"c1","event_time":"2024-05-01T12:00:00.000Z","host_id":"h1","message":"Host h1: registered to cluster","name":"host_registration_succeeded","props":"{\\"disk\\":\\"sda\\"}","request_id":"r1","severity":"info"}';

test('assisted: an event becomes a capitalised Event envelope on events-stream, keyed by cluster id', () => {
  const [msg, ...rest] = assistedProfile.encode(hostEvent(), ctx);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'events-stream');
  assert.equal(msg!.key, 'c1');
  assert.equal(msg!.value!.toString('utf8'), `{"Name":"Event","Payload":${PAYLOAD},"Metadata":{"versions":{"assisted-installer":"v2.30"}}}`);
});

test('assisted: capitalized=false writes the documented lower-case envelope; the topic is configurable', () => {
  const [msg] = assistedProfile.encode(hostEvent(), { ...ctx, topic: 'my-stream', options: { capitalized: false } });
  assert.equal(msg!.topic, 'my-stream');
  assert.equal(msg!.value!.toString('utf8'), `{"name":"Event","payload":${PAYLOAD},"metadata":{"versions":{}}}`);
});

test('assisted: no cluster → empty key; debug severity → info; category metrics kept', () => {
  const e = createEvent({ source: 's', type: 'image_downloaded', severity: 'debug', entity: { kind: 'infra-env', id: 'ie1' }, data: { category: 'metrics' } });
  const [msg] = assistedProfile.encode(e, ctx);
  assert.equal(msg!.key, '');
  const payload = JSON.parse(msg!.value!.toString()).Payload;
  assert.equal(payload.infra_env_id, 'ie1');
  assert.equal(payload.severity, 'info');
  assert.equal(payload.category, 'metrics');
  assert.equal(payload.message, '');
  assert.equal(payload.props, undefined);
});

test('assisted: entity enter events become ClusterState / HostState / InfraEnv snapshots without secrets', () => {
  const t = '2024-05-01T12:00:00.000Z';
  const enter = (kind: string, id: string, attributes: Record<string, unknown>) => createEvent({
    source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.enter, time: t, entity: { kind, id },
    data: { kind, id, state: 'INSTALLING', previous: 'READY', enteredAt: t, attributes },
  });
  const [cluster] = assistedProfile.encode(enter('cluster', 'c1', { name: 'prod', pull_secret: 'abc', http_proxy: 'http://user:pw@proxy:3128' }), ctx);
  assert.equal(cluster!.key, 'c1');
  assert.deepEqual(JSON.parse(cluster!.value!.toString()), {
    Name: 'ClusterState',
    Payload: { id: 'c1', name: 'prod', pull_secret: '[REDACTED]', http_proxy: 'http://user:[REDACTED]@proxy:3128', status: 'installing', status_updated_at: t, previous_status: 'ready' },
    Metadata: { versions: { 'assisted-installer': 'v2.30' } },
  });
  const [host] = assistedProfile.encode(enter('host', 'h1', { cluster_id: 'c1', bmc_password: 'x' }), ctx);
  assert.equal(host!.key, 'c1');
  assert.equal(JSON.parse(host!.value!.toString()).Name, 'HostState');
  assert.ok(!host!.value!.toString().includes('"x"'));
  const [infra] = assistedProfile.encode(enter('infra-env', 'ie1', {}), ctx);
  assert.equal(JSON.parse(infra!.value!.toString()).Name, 'InfraEnv');
  assert.equal(infra!.key, '');
  // leave, list and other kinds are not streamed
  assert.deepEqual(assistedProfile.encode(enter('environment', 'e1', {}), ctx), []);
  assert.deepEqual(assistedProfile.encode(createEvent({ source: 's', type: ENTITY_EVENT_TYPES.leave, entity: { kind: 'cluster', id: 'c1' }, data: { kind: 'cluster', id: 'c1', state: 'READY', attributes: {} } }), ctx), []);
});

test('assisted: decode reads both capitalisations and round-trips events and snapshots', () => {
  const event = hostEvent();
  for (const capitalized of [true, false]) {
    const [msg] = assistedProfile.encode(event, { ...ctx, options: { capitalized } });
    const d = assistedProfile.decode!(incoming(msg!.value!))!;
    assert.equal(d.profile, 'assisted');
    assert.equal(d.format, capitalized ? 'capitalized' : 'lowercase');
    assert.equal(d.event.type, event.type);
    assert.equal(d.event.time, event.time);
    assert.equal(d.event.severity, event.severity);
    assert.equal(d.event.message, event.message);
    assert.deepEqual(d.event.entity, event.entity);
    assert.deepEqual(d.event.data, event.data);
    assert.equal(assistedProfile.summary!(d), '[host_registration_succeeded] host h1: info Host h1: registered to cluster');
  }
  const snap = createEvent({ source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.enter, time: '2024-05-01T12:00:00.000Z', entity: { kind: 'cluster', id: 'c1' }, data: { kind: 'cluster', id: 'c1', state: 'INSTALLING', previous: 'READY', enteredAt: '2024-05-01T12:00:00.000Z', attributes: { name: 'prod' } } });
  const d = assistedProfile.decode!(incoming(assistedProfile.encode(snap, ctx)[0]!.value!))!;
  assert.equal(d.event.type, ENTITY_EVENT_TYPES.enter);
  assert.equal(d.event.time, snap.time);
  assert.deepEqual(d.event.entity, snap.entity);
  assert.deepEqual(d.event.data, snap.data);
  assert.equal(assistedProfile.summary!(d), '[ClusterState] c1: installing (was ready)');
});

test('assisted: decode leaves foreign messages alone and rejects malformed envelopes', () => {
  assert.equal(assistedProfile.decode!(incoming('{"name":"something","payload":{}}')), undefined);
  assert.equal(assistedProfile.decode!(incoming('{"type":"x"}')), undefined);
  assert.equal(assistedProfile.decode!(incoming('nope')), undefined);
  const fails = (value: string, path: string) => assert.throws(() => assistedProfile.decode!(incoming(value)), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'DECODE');
    assert.equal(err.details[0]!.path, path);
    return true;
  });
  fails('{"Name":"Event","Payload":"text"}', 'Payload');
  fails('{"Name":"Event","Payload":{"name":"x"}}', 'Payload.event_time');
  fails('{"name":"ClusterState","payload":{"status":"ready"}}', 'payload.id');
});
