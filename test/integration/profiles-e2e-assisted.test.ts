/**
 * The assisted profile end to end: an event posted to the REST API and cluster states set
 * through it, relayed by the outbox to the real broker in the Assisted Installer's stream
 * envelope (capitalised by default, lower case with profileOptions.capitalized=false), with
 * secrets redacted. kcat reads the stream as an independent client. A cloudevents sink on
 * the same service shows the round trip of event ids (the Assisted envelope carries none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../src/profiles/decode.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { sinkStatus, startTestService, waitFor } from './outbox-helpers.js';
import { api, hhmmss, kcatAll, readUntil } from './profiles-e2e-helpers.js';

const SECRETS = ['hunter2', 'pa55word', 'ps-secret-value', 'proxy-pw', 'co-value-xyz'];

test('assisted through the REST API: Event and ClusterState envelopes, both capitalisations, redaction, ids', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-assisted-'));
  const brokers = kafkaBrokers().split(',');
  const capTopic = uniqueName('e2e-assisted-cap');
  const lowTopic = uniqueName('e2e-assisted-low');
  const ceTopic = uniqueName('e2e-assisted-ce');
  const versions = { 'assisted-installer': 'quay.io/edge-infrastructure/assisted-installer:v2.30', 'assisted-service': 'v2.30.1' };
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [
      { name: 'assisted', type: 'kafka', brokers, profile: 'assisted', topic: capTopic, profileOptions: { versions } },
      { name: 'assisted-lower', type: 'kafka', brokers, profile: 'assisted', topic: lowTopic, profileOptions: { capitalized: false } },
      { name: 'ce', type: 'kafka', brokers, profile: 'cloudevents', topic: ceTopic },
    ],
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cluster = `c-${uniqueName('e2e')}`;

  const posted = await api(service.address, 'POST', '/v2/events', {
    source: 'assisted-service', type: 'cluster_installation_started', severity: 'info',
    entity: { kind: 'cluster', id: cluster }, message: 'Updated status of the cluster to installing',
    data: { request_id: 'req-42', nodes: 3, password: 'hunter2', proxy: 'http://admin:pa55word@proxy.example:3128' },
  });
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  const eventId = (posted.body as { ids: string[] }).ids[0]!;
  const stored = (await api(service.address, 'GET', `/v2/events/${eventId}`)).body as { time: string };

  const ready = await api(service.address, 'PUT', `/v2/entities/cluster/${cluster}/state`, {
    state: 'READY',
    attributes: {
      name: 'demo', openshift_version: '4.15', pull_secret: 'ps-secret-value',
      http_proxy: 'http://user:proxy-pw@proxy.example:8080', config_overrides: '{"knob":"co-value-xyz"}',
    },
  });
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  const installing = await api(service.address, 'PUT', `/v2/entities/cluster/${cluster}/state`, { state: 'INSTALLING' });
  assert.equal(installing.status, 200, JSON.stringify(installing.body));
  // A host of the cluster: its snapshot is keyed by the cluster id it names.
  const host = `h-${uniqueName('e2e')}`;
  const known = await api(service.address, 'PUT', `/v2/entities/host/${host}/state`, {
    state: 'KNOWN', attributes: { cluster_id: cluster, requested_hostname: 'master-0', bmc_credentials: { username: 'root', password: 'hunter2' } },
  });
  assert.equal(known.status, 200, JSON.stringify(known.body));
  const entityEventIds = [ready, installing, known].flatMap((r) => (r.body as { events: string[] }).events);

  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address)).every((s) => s.pending === 0 && s.delivered > 0), 60_000);

  // kcat (independent client): four records on the stream, each keyed by the cluster id.
  const cap = await kcatAll(capTopic);
  assert.deepEqual(cap.map((r) => r.key), [cluster, cluster, cluster, cluster]);
  const [ev, snap1, snap2, hostSnap] = cap.map((r) => JSON.parse(r.value) as { Name: string; Payload: Record<string, unknown>; Metadata: unknown });
  for (const r of cap) for (const s of SECRETS) assert.ok(!r.value.includes(s), `secret ${s} reached the stream: ${r.value}`);

  assert.deepEqual(Object.keys(ev!), ['Name', 'Payload', 'Metadata']);
  assert.equal(ev!.Name, 'Event');
  assert.deepEqual(ev!.Metadata, { versions });
  const { props, ...payload } = ev!.Payload;
  assert.deepEqual(payload, {
    category: 'user', cluster_id: cluster, event_time: stored.time, message: 'Updated status of the cluster to installing',
    name: 'cluster_installation_started', request_id: 'req-42', severity: 'info',
  });
  assert.equal(typeof props, 'string', 'props is a JSON string, as the service model carries it');
  assert.deepEqual(JSON.parse(props as string), { nodes: 3, password: '[REDACTED]', proxy: 'http://admin:[REDACTED]@proxy.example:3128' });

  assert.equal(snap1!.Name, 'ClusterState');
  const { status_updated_at: at1, ...s1 } = snap1!.Payload;
  assert.deepEqual(s1, {
    id: cluster, name: 'demo', openshift_version: '4.15', pull_secret: '[REDACTED]',
    http_proxy: 'http://user:[REDACTED]@proxy.example:8080', config_overrides: '[REDACTED]', status: 'ready',
  });
  assert.equal(at1, (ready.body as { current: { enteredAt: string } }).current.enteredAt);
  assert.equal(snap2!.Name, 'ClusterState');
  assert.equal(snap2!.Payload.status, 'installing');
  assert.equal(snap2!.Payload.previous_status, 'ready');
  assert.equal(snap2!.Payload.config_overrides, '[REDACTED]');
  assert.equal(hostSnap!.Name, 'HostState');
  const { status_updated_at: _at, ...h } = hostSnap!.Payload;
  assert.deepEqual(h, { id: host, cluster_id: cluster, requested_hostname: 'master-0', bmc_credentials: '[REDACTED]', status: 'known' });

  // Lower-case keys with capitalized=false; same payloads.
  const low = await kcatAll(lowTopic);
  assert.deepEqual(low.map((r) => r.key), [cluster, cluster, cluster, cluster]);
  const lowDocs = low.map((r) => JSON.parse(r.value) as Record<string, unknown>);
  for (const d of lowDocs) assert.deepEqual(Object.keys(d), ['name', 'payload', 'metadata']);
  assert.deepEqual(lowDocs.map((d) => d.name), ['Event', 'ClusterState', 'ClusterState', 'HostState']);
  assert.deepEqual(lowDocs[0]!.metadata, { versions: {} });
  assert.deepEqual(lowDocs[0]!.payload, ev!.Payload);
  for (const r of low) for (const s of SECRETS) assert.ok(!r.value.includes(s), `secret ${s} reached the stream: ${r.value}`);

  // Round trip: decodeMessage turns the envelopes back into canonical events.
  const read = await readUntil([capTopic, lowTopic, ceTopic], (rs) => rs.filter((r) => r.topic !== ceTopic).length >= 8
    && [eventId, ...entityEventIds].every((id) => rs.some((r) => r.headers.ce_id === id)), 30_000);
  const capRecs = read.filter((r) => r.topic === capTopic);
  const decodedEvent = decodeMessage(capRecs[0]!);
  assert.equal(decodedEvent.profile, 'assisted');
  assert.equal(decodedEvent.format, 'capitalized');
  assert.equal(decodedEvent.event.type, 'cluster_installation_started');
  assert.equal(decodedEvent.event.time, stored.time);
  assert.deepEqual(decodedEvent.event.entity, { kind: 'cluster', id: cluster });
  assert.equal(decodedEvent.event.message, 'Updated status of the cluster to installing');
  assert.deepEqual(decodedEvent.event.data, { nodes: 3, password: '[REDACTED]', proxy: 'http://admin:[REDACTED]@proxy.example:3128', request_id: 'req-42' });
  assert.equal(decodeMessage(capRecs[0]!).event.id, decodedEvent.event.id, 'the same bytes decode to the same id');
  const decodedSnap = decodeMessage(capRecs[2]!);
  assert.equal(decodedSnap.event.type, 'dev.herald.entity.state.enter');
  assert.deepEqual(decodedSnap.event.entity, { kind: 'cluster', id: cluster });
  assert.equal((decodedSnap.event.data as { state: string }).state, 'INSTALLING');
  assert.equal((decodedSnap.event.data as { previous: string }).previous, 'READY');
  const lowDecoded = decodeMessage(read.filter((r) => r.topic === lowTopic)[0]!);
  assert.equal(lowDecoded.format, 'lowercase');
  assert.equal(lowDecoded.event.type, 'cluster_installation_started');

  // The cloudevents sink carries the ids: what arrives decodes to the stored ids.
  for (const id of [eventId, ...entityEventIds]) {
    const rec = read.find((r) => r.topic === ceTopic && r.headers.ce_id === id);
    assert.ok(rec, `event ${id} did not reach ${ceTopic}`);
    const d = decodeMessage(rec);
    assert.equal(d.profile, 'cloudevents');
    assert.equal(d.event.id, id);
  }

  // herald view: one readable line per envelope.
  const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', capTopic, '--from-beginning', '--max', '3', '--format', 'pretty', '--timeout', '20s']);
  assert.equal(view.code, 0, view.stderr);
  assert.deepEqual(view.stdout.trimEnd().split('\n'), [
    `${hhmmss(stored.time)} [cluster_installation_started] cluster ${cluster}: info Updated status of the cluster to installing`,
    `${hhmmss(at1 as string)} [ClusterState] ${cluster}: ready`,
    `${hhmmss(snap2!.Payload.status_updated_at as string)} [ClusterState] ${cluster}: installing (was ready)`,
  ]);
});

test('assisted from the library publisher (no API redaction on the way): the profile itself redacts, keys by the host\'s cluster', async () => {
  const topic = uniqueName('e2e-assisted-lib');
  const cluster = `c-${uniqueName('lib')}`;
  const host = `h-${uniqueName('lib')}`;
  const publisher = createPublisher({ sinks: [{ name: 'assisted', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'assisted', topic }] });
  let first;
  try {
    first = await publisher.emit({
      source: 'assisted-service', type: 'host_registration_succeeded', entity: { kind: 'host', id: host }, message: 'Host master-0: registered',
      data: { cluster_id: cluster, infra_env_id: 'ie-1', pull_secret: 'lib-pull-secret', config_overrides: '{"k":"lib-override"}', proxy: 'http://u:lib-proxy-pw@proxy:3128' },
    });
    // data that is not an object still goes into props, redacted too.
    await publisher.emit({ source: 'assisted-service', type: 'host_proxy_checked', entity: { kind: 'host', id: host }, data: ['http://u:lib-array-pw@proxy:3128'] });
  } finally {
    await publisher.close();
  }
  const recs = await kcatAll(topic);
  assert.equal(recs.length, 2);
  for (const r of recs) for (const s of ['lib-pull-secret', 'lib-override', 'lib-proxy-pw', 'lib-array-pw']) assert.ok(!r.value.includes(s), `secret ${s} reached the stream: ${r.value}`);
  assert.deepEqual(recs.map((r) => r.key), [cluster, ''], 'keyed by the cluster id, empty when none');
  const ev = JSON.parse(recs[0]!.value) as { Name: string; Payload: Record<string, unknown> };
  assert.equal(ev.Name, 'Event');
  const { props, ...payload } = ev.Payload;
  assert.deepEqual(payload, {
    category: 'user', cluster_id: cluster, event_time: first.time, host_id: host, infra_env_id: 'ie-1',
    message: 'Host master-0: registered', name: 'host_registration_succeeded', severity: 'info',
  });
  assert.deepEqual(JSON.parse(props as string), { pull_secret: '[REDACTED]', config_overrides: '[REDACTED]', proxy: 'http://u:[REDACTED]@proxy:3128' });
  assert.deepEqual(JSON.parse((JSON.parse(recs[1]!.value) as { Payload: { props: string } }).Payload.props), ['http://u:[REDACTED]@proxy:3128']);

  const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--max', '1', '--timeout', '20s']);
  assert.equal(view.code, 0, view.stderr);
  assert.equal(view.stdout, `${hhmmss(first.time)} [host_registration_succeeded] host ${host}: info Host master-0: registered\n`);
});
