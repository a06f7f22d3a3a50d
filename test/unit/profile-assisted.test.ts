import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES } from '../../src/events/entity-states.js';
import { assistedListEvent, assistedProfile } from '../../src/profiles/assisted.js';
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

// Upstream facts below: openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de.
const UPSTREAM = 'openshift/assisted-service@063b2579';

test('assisted: an event becomes a capitalised Event envelope on events-stream, keyed by cluster id', () => {
  // internal/stream/notification_stream.go: Envelope{Name, Payload, Metadata} without json tags, key = the cluster id;
  // cmd/main.go getNotificationStream: Metadata = {"versions": models.ListVersions} → {"versions":{"versions":{…}}}.
  const [msg, ...rest] = assistedProfile.encode(hostEvent(), ctx);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'events-stream');
  assert.equal(msg!.key, 'c1');
  assert.equal(msg!.value!.toString('utf8'), `{"Name":"Event","Payload":${PAYLOAD},"Metadata":{"versions":{"versions":{"assisted-installer":"v2.30"}}}}`);
});

test(`assisted: Metadata is the running service's models.ListVersions: release_tag, then the versions map with sorted keys, both omitempty (${UPSTREAM} cmd/main.go, internal/versions/api.go, models/list_versions.go)`, () => {
  const versions = {
    'discovery-agent': 'quay.io/edge-infrastructure/assisted-installer-agent:latest',
    'assisted-installer-service': 'Unknown',
    'assisted-installer-controller': 'quay.io/edge-infrastructure/assisted-installer-controller:latest',
    'assisted-installer': 'quay.io/edge-infrastructure/assisted-installer:latest',
  };
  const [msg] = assistedProfile.encode(hostEvent(), { ...ctx, options: { versions, releaseTag: 'v2.40.1' } });
  const text = msg!.value!.toString('utf8');
  assert.ok(text.endsWith(',"Metadata":{"versions":{"release_tag":"v2.40.1","versions":{"assisted-installer":"quay.io/edge-infrastructure/assisted-installer:latest","assisted-installer-controller":"quay.io/edge-infrastructure/assisted-installer-controller:latest","assisted-installer-service":"Unknown","discovery-agent":"quay.io/edge-infrastructure/assisted-installer-agent:latest"}}}}'), text);
  const [bare] = assistedProfile.encode(hostEvent(), { ...ctx, options: {} });
  assert.ok(bare!.value!.toString('utf8').endsWith(',"Metadata":{"versions":{}}}'), 'empty release tag and versions are omitted');
});

test(`assisted: capitalized=false writes the shape docs/events.md documents (lower-case keys, flat versions); the topic is configurable (${UPSTREAM} docs/events.md)`, () => {
  const [msg] = assistedProfile.encode(hostEvent(), { ...ctx, topic: 'my-stream', options: { capitalized: false } });
  assert.equal(msg!.topic, 'my-stream');
  assert.equal(msg!.value!.toString('utf8'), `{"name":"Event","payload":${PAYLOAD},"metadata":{"versions":{}}}`);
  const [flat] = assistedProfile.encode(hostEvent(), { ...ctx, options: { capitalized: false, versions: { 'discovery-agent': 'd', 'assisted-installer': 'a' } } });
  assert.deepEqual(JSON.parse(flat!.value!.toString()).metadata, { versions: { 'assisted-installer': 'a', 'discovery-agent': 'd' } });
});

test(`assisted: a host event carries cluster_id, host_id and infra_env_id, as SendHostEventAtTime passes all three (${UPSTREAM} internal/events/event.go)`, () => {
  const e = createEvent({ source: 's', type: 'host_status_updated', time: '2024-05-01T12:00:00Z', entity: { kind: 'host', id: 'h9' }, data: { cluster_id: 'c9', infra_env_id: 'ie9' } });
  const payload = JSON.parse(assistedProfile.encode(e, ctx)[0]!.value!.toString()).Payload;
  assert.deepEqual(Object.keys(payload), ['category', 'cluster_id', 'event_time', 'host_id', 'infra_env_id', 'message', 'name', 'severity']);
  assert.deepEqual([payload.cluster_id, payload.host_id, payload.infra_env_id], ['c9', 'h9', 'ie9']);
  // The entity wins over data naming another id of its own kind.
  const own = createEvent({ source: 's', type: 't', entity: { kind: 'cluster', id: 'c-entity' }, data: { cluster_id: 'c-data' } });
  assert.equal(JSON.parse(assistedProfile.encode(own, ctx)[0]!.value!.toString()).Payload.cluster_id, 'c-entity');
});

test(`assisted: event_time has exactly three fractional digits, cut as Go formats (strfmt RFC3339Millis, ${UPSTREAM} vendor/github.com/go-openapi/strfmt/time.go)`, () => {
  const base = createEvent({ source: 's', type: 't', entity: { kind: 'cluster', id: 'c1' } });
  const at = (time: string) => JSON.parse(assistedProfile.encode({ ...base, time }, ctx)[0]!.value!.toString()).Payload.event_time;
  assert.equal(at('2023-02-21T20:00:00Z'), '2023-02-21T20:00:00.000Z');
  assert.equal(at('2023-02-21T20:00:00.5Z'), '2023-02-21T20:00:00.500Z');
  assert.equal(at('2023-02-21T20:00:00.123999Z'), '2023-02-21T20:00:00.123Z');
  assert.equal(at('2023-02-21T22:00:00+02:00'), '2023-02-21T20:00:00.000Z');
});

test(`assisted: props is a JSON object string as json.Marshal writes the props map: sorted keys, HTML characters escaped (${UPSTREAM} internal/events/event.go toProps)`, () => {
  const e = createEvent({ source: 's', type: 't', entity: { kind: 'cluster', id: 'c1' }, data: { zeta: 1, alpha: { y: '<b>&</b>', x: [2, 1] }, cluster_id: 'ignored-by-entity' } });
  const payload = JSON.parse(assistedProfile.encode(e, ctx)[0]!.value!.toString()).Payload;
  assert.equal(payload.props, '{"alpha":{"x":[2,1],"y":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"},"zeta":1}');
  assert.deepEqual(JSON.parse(payload.props), { alpha: { x: [2, 1], y: '<b>&</b>' }, zeta: 1 });
});

test(`assisted: a REST list item is models.Event without category and request_id (${UPSTREAM} internal/events/events_api.go V2ListEvents)`, () => {
  assert.deepEqual(assistedListEvent(hostEvent()), {
    cluster_id: 'c1', event_time: '2024-05-01T12:00:00.000Z', host_id: 'h1', message: 'Host h1: registered to cluster',
    name: 'host_registration_succeeded', props: '{"disk":"sda"}', severity: 'info',
  });
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

test(`assisted: entity enter events become ClusterState / HostState / InfraEnv snapshots without secrets, shaped like the models (${UPSTREAM} internal/common/db.go, pkg/stream/payload.go, models/{cluster,host,infra_env}.go)`, () => {
  const t = '2024-05-01T12:00:00.000Z';
  const enter = (kind: string, id: string, attributes: Record<string, unknown>) => createEvent({
    source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.enter, time: t, entity: { kind, id },
    data: { kind, id, state: 'INSTALLING', previous: 'READY', enteredAt: t, attributes },
  });
  const [cluster] = assistedProfile.encode(enter('cluster', 'c1', { name: 'prod', pull_secret: 'abc', http_proxy: 'http://user:pw@proxy:3128' }), ctx);
  assert.equal(cluster!.key, 'c1');
  // No previous_status (no model has one); "hosts":[] always (NotifiableCluster.Payload empties the hosts);
  // keys in go-swagger's order (by name), ClusterPayload's primary_ip_stack after the embedded cluster.
  assert.equal(cluster!.value!.toString(), '{"Name":"ClusterState","Payload":{"hosts":[],"http_proxy":"http://user:[REDACTED]@proxy:3128","id":"c1","name":"prod","pull_secret":"[REDACTED]","status":"installing","status_updated_at":"2024-05-01T12:00:00.000Z"},"Metadata":{"versions":{"versions":{"assisted-installer":"v2.30"}}}}');
  const [stack] = assistedProfile.encode(enter('cluster', 'c2', { primary_ip_stack: 4, zone: 'z', hosts: [{ id: 'h1' }] }), ctx);
  assert.deepEqual(Object.keys(JSON.parse(stack!.value!.toString()).Payload), ['hosts', 'id', 'status', 'status_updated_at', 'zone', 'primary_ip_stack']);
  assert.deepEqual(JSON.parse(stack!.value!.toString()).Payload.hosts, []);
  const [host] = assistedProfile.encode(enter('host', 'h1', { cluster_id: 'c1', bmc_password: 'x' }), ctx);
  assert.equal(host!.key, 'c1');
  const hostDoc = JSON.parse(host!.value!.toString());
  assert.equal(hostDoc.Name, 'HostState');
  assert.deepEqual(Object.keys(hostDoc.Payload), ['bmc_password', 'cluster_id', 'id', 'status', 'status_updated_at']);
  assert.ok(!host!.value!.toString().includes('"x"'));
  // models.InfraEnv has no status; the key is its cluster id ("" when unbound).
  const [infra] = assistedProfile.encode(enter('infra-env', 'ie1', { name: 'ie' }), ctx);
  assert.deepEqual(JSON.parse(infra!.value!.toString()).Payload, { id: 'ie1', name: 'ie' });
  assert.equal(JSON.parse(infra!.value!.toString()).Name, 'InfraEnv');
  assert.equal(infra!.key, '');
  const [bound] = assistedProfile.encode(enter('infra-env', 'ie2', { cluster_id: 'c1' }), ctx);
  assert.equal(bound!.key, 'c1');
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
  // The snapshot has no previous status (upstream's models have none) and its empty hosts carry nothing.
  assert.deepEqual(d.event.data, { ...(snap.data as object), previous: null });
  assert.equal(assistedProfile.summary!(d), '[ClusterState] c1: installing');
  // A snapshot with a previous_status (earlier Herald versions wrote one) still decodes it.
  const old = assistedProfile.decode!(incoming('{"Name":"HostState","Payload":{"id":"h1","status":"known","previous_status":"insufficient","status_updated_at":"2024-05-01T12:00:00.000Z"}}'))!;
  assert.equal((old.event.data as { previous: string }).previous, 'INSUFFICIENT');
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
