/**
 * The assisted profile end to end: an event posted to the REST API and cluster states set
 * through it, relayed by the outbox to the real broker in the Assisted Installer's stream
 * envelope (capitalised by default, lower case with profileOptions.capitalized=false), with
 * secrets redacted. kcat reads the stream as an independent client. A cloudevents sink on
 * the same service shows the round trip of event ids (the Assisted envelope carries none).
 * Upstream shapes: openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de
 * internal/stream/notification_stream.go (envelope, key), cmd/main.go (Metadata = ListVersions),
 * pkg/stream/payload.go and models/ (snapshots), vendored strfmt (RFC3339Millis event_time),
 * internal/events/event.go SendHostEventAtTime (host events carry cluster, host, infra-env ids).
 */
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { decodeMessage } from '../../src/profiles/decode.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { kafkaBrokers, pgUrl, runCli, uniqueName } from '../helpers/env.js';
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
      { name: 'assisted', type: 'kafka', brokers, profile: 'assisted', topic: capTopic, profileOptions: { versions, releaseTag: 'v2.30.1' } },
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
  // A host event naming its cluster and infra-env in data, with a whole-second time.
  const infraEnv = `ie-${uniqueName('e2e')}`;
  const hostPosted = await api(service.address, 'POST', '/v2/events', {
    source: 'assisted-service', type: 'host_registration_succeeded', severity: 'info', time: '2024-05-01T12:00:00Z',
    entity: { kind: 'host', id: host }, message: 'Host master-0: registered', data: { cluster_id: cluster, infra_env_id: infraEnv },
  });
  assert.equal(hostPosted.status, 202, JSON.stringify(hostPosted.body));
  const hostEventId = (hostPosted.body as { ids: string[] }).ids[0]!;

  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address)).every((s) => s.pending === 0 && s.delivered > 0), 60_000);

  // kcat (independent client): five records on the stream, each keyed by the cluster id.
  const cap = await kcatAll(capTopic, 'assisted');
  assert.deepEqual(cap.map((r) => r.key), [cluster, cluster, cluster, cluster, cluster]);
  const [ev, snap1, snap2, hostSnap, hostEv] = cap.map((r) => JSON.parse(r.value) as { Name: string; Payload: Record<string, unknown>; Metadata: unknown });
  for (const r of cap) for (const s of SECRETS) assert.ok(!r.value.includes(s), `secret ${s} reached the stream: ${r.value}`);

  assert.deepEqual(Object.keys(ev!), ['Name', 'Payload', 'Metadata']);
  assert.equal(ev!.Name, 'Event');
  // The running service's Metadata: {"versions": models.ListVersions} (release_tag, then the sorted map).
  assert.deepEqual(ev!.Metadata, { versions: { release_tag: 'v2.30.1', versions } });
  assert.ok(cap[0]!.value.endsWith('"Metadata":{"versions":{"release_tag":"v2.30.1","versions":{"assisted-installer":"quay.io/edge-infrastructure/assisted-installer:v2.30","assisted-service":"v2.30.1"}}}}'), cap[0]!.value);
  const { props, ...payload } = ev!.Payload;
  assert.deepEqual(payload, {
    category: 'user', cluster_id: cluster, event_time: stored.time, message: 'Updated status of the cluster to installing',
    name: 'cluster_installation_started', request_id: 'req-42', severity: 'info',
  });
  assert.equal(typeof props, 'string', 'props is a JSON string, as the service model carries it');
  assert.deepEqual(JSON.parse(props as string), { nodes: 3, password: '[REDACTED]', proxy: 'http://admin:[REDACTED]@proxy.example:3128' });

  assert.equal(snap1!.Name, 'ClusterState');
  const { status_updated_at: at1, ...s1 } = snap1!.Payload;
  // models.Cluster's keys by name; "hosts":[] as the service streams a cluster; no previous status.
  assert.deepEqual(Object.keys(snap1!.Payload), ['config_overrides', 'hosts', 'http_proxy', 'id', 'name', 'openshift_version', 'pull_secret', 'status', 'status_updated_at']);
  assert.deepEqual(s1, {
    config_overrides: '[REDACTED]', hosts: [], http_proxy: 'http://user:[REDACTED]@proxy.example:8080', id: cluster, name: 'demo',
    openshift_version: '4.15', pull_secret: '[REDACTED]', status: 'ready',
  });
  assert.equal(at1, (ready.body as { current: { enteredAt: string } }).current.enteredAt);
  assert.match(at1 as string, /\.\d{3}Z$/);
  assert.equal(snap2!.Name, 'ClusterState');
  assert.equal(snap2!.Payload.status, 'installing');
  assert.equal('previous_status' in snap2!.Payload, false);
  assert.equal(snap2!.Payload.config_overrides, '[REDACTED]');
  assert.equal(hostSnap!.Name, 'HostState');
  const { status_updated_at: _at, ...h } = hostSnap!.Payload;
  assert.deepEqual(h, { bmc_credentials: '[REDACTED]', cluster_id: cluster, id: host, requested_hostname: 'master-0', status: 'known' });
  // The host event: all three ids, event_time with three fractional digits.
  assert.equal(hostEv!.Name, 'Event');
  assert.deepEqual(hostEv!.Payload, {
    category: 'user', cluster_id: cluster, event_time: '2024-05-01T12:00:00.000Z', host_id: host, infra_env_id: infraEnv,
    message: 'Host master-0: registered', name: 'host_registration_succeeded', severity: 'info',
  });

  // Lower-case keys with capitalized=false; same payloads.
  const low = await kcatAll(lowTopic, 'assisted');
  assert.deepEqual(low.map((r) => r.key), [cluster, cluster, cluster, cluster, cluster]);
  const lowDocs = low.map((r) => JSON.parse(r.value) as Record<string, unknown>);
  for (const d of lowDocs) assert.deepEqual(Object.keys(d), ['name', 'payload', 'metadata']);
  assert.deepEqual(lowDocs.map((d) => d.name), ['Event', 'ClusterState', 'ClusterState', 'HostState', 'Event']);
  assert.deepEqual(lowDocs[0]!.metadata, { versions: {} });
  assert.deepEqual(lowDocs[0]!.payload, ev!.Payload);
  for (const r of low) for (const s of SECRETS) assert.ok(!r.value.includes(s), `secret ${s} reached the stream: ${r.value}`);

  // Round trip: decodeMessage turns the envelopes back into canonical events.
  const read = await readUntil([capTopic, lowTopic, ceTopic], (r) => (r.topic === ceTopic ? 'cloudevents' : 'assisted'), (rs) => rs.filter((r) => r.topic !== ceTopic).length >= 10
    && [eventId, ...entityEventIds, hostEventId].every((id) => rs.some((r) => r.headers.ce_id === id)), 30_000);
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
  // Upstream snapshots carry no previous status, so none comes back.
  assert.equal((decodedSnap.event.data as { previous: string | null }).previous, null);
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
    `${hhmmss(snap2!.Payload.status_updated_at as string)} [ClusterState] ${cluster}: installing`,
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
  const recs = await kcatAll(topic, 'assisted');
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

// The list and the stream say the same thing: each item of GET /api/assisted-install/v2/events is
// the Event payload the stream carried for that event, without `category` and `request_id`
// (openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de: internal/common/db.go
// Event.Payload streams the whole models.Event; internal/events/events_api.go V2ListEvents copies
// name, cluster_id, host_id, infra_env_id, severity, event_time, message and props), and the scope
// parameters select by the ids the stream shows (internal/events/event.go filterEvents).
for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`assisted: the upstream list names the ids the stream carries (real HTTP and broker, ${dialect})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-assisted-list-'));
    const schema = uniqueName('assisted_list').replace(/-/g, '_');
    const topic = uniqueName('e2e-assisted-list');
    const service = await startTestService({
      store: { url: dialect === 'sqlite' ? `sqlite:${join(dir, 'h.db')}` : pgUrl() },
      sinks: [{ name: 'assisted', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'assisted', topic }],
    }, dialect === 'postgres' ? { storeSchema: schema } : {});
    t.after(async () => {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
      if (dialect === 'postgres') {
        const client = new pg.Client({ connectionString: pgUrl() });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    });
    const [cluster, host, infraEnv, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // Recent times: retention (30 days by default, by event time) would delete older events once delivered.
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const at = (s: number) => new Date(base + s * 1000).toISOString();
    const posted = await api(service.address, 'POST', '/v2/events', [
      { source: 'assisted-service', type: 'cluster_validation_failed', severity: 'warning', time: at(1), entity: { kind: 'cluster', id: cluster }, message: 'Cluster validation failed: <no-hosts> & more' },
      { source: 'assisted-service', type: 'host_registration_succeeded', severity: 'info', time: at(2), entity: { kind: 'host', id: host },
        message: 'Host master-0: registered', data: { cluster_id: cluster, infra_env_id: infraEnv, request_id: randomUUID(), disk: 'sda' } },
      { source: 'assisted-service', type: 'image_info_updated', severity: 'info', time: at(3), entity: { kind: 'infra-env', id: infraEnv }, message: 'Image updated', data: { cluster_id: cluster } },
      { source: 'assisted-service', type: 'install_duration', severity: 'info', time: at(4), entity: { kind: 'cluster', id: cluster }, message: 'metrics', data: { category: 'metrics', seconds: 1200 } },
      { source: 'assisted-service', type: 'cluster_installed', severity: 'error', time: at(5), entity: { kind: 'cluster', id: other }, message: 'another cluster' },
    ]);
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    await waitFor('the outbox to drain', async () => (await sinkStatus(service.address)).every((s) => s.pending === 0 && s.delivered >= 5), 60_000);

    // The stream (kcat, an independent client): the cluster's four events keyed by it.
    const recs = (await kcatAll(topic, 'assisted')).filter((r) => r.key === cluster);
    const streamed = recs.map((r) => (JSON.parse(r.value) as { Payload: Record<string, unknown> }).Payload);
    assert.deepEqual(streamed.map((p) => p.name), ['cluster_validation_failed', 'host_registration_succeeded', 'image_info_updated', 'install_duration']);
    // pkg/kafka/json_writer.go: json.Marshal escapes <, > and & on the stream; the list's JSON
    // producer (go-openapi runtime JSONProducer, SetEscapeHTML(false)) does not.
    assert.ok(recs[0]!.value.includes('"message":"Cluster validation failed: \\u003cno-hosts\\u003e \\u0026 more"'), recs[0]!.value);
    const asListed = (p: Record<string, unknown>) => {
      const { category: _c, request_id: _r, ...item } = p;
      return item;
    };

    const raw = await (await fetch(`${service.address}/api/assisted-install/v2/events?cluster_id=${cluster}&limit=1`)).text();
    assert.ok(raw.includes('"message":"Cluster validation failed: <no-hosts> & more"'), raw);
    const list = async (qs: string) => {
      const res = await fetch(`${service.address}/api/assisted-install/v2/events?${qs}`);
      assert.equal(res.status, 200, qs);
      const h = (n: string) => Number(res.headers.get(n));
      return {
        items: (await res.json()) as Array<Record<string, unknown>>,
        count: h('event-count'),
        sev: [h('severity-count-info'), h('severity-count-warning'), h('severity-count-error'), h('severity-count-critical')],
      };
    };
    // cluster_id: the cluster's user events, its host's and infra-env's included, item = stream payload.
    const all = await list(`cluster_id=${cluster}`);
    assert.deepEqual(all.items, streamed.slice(0, 3).map(asListed));
    assert.deepEqual([all.count, all.sev], [3, [2, 1, 0, 0]]);
    assert.equal(streamed[1]!.category, 'user');
    assert.equal(typeof streamed[1]!.request_id, 'string');
    // categories=metrics: the metrics event, as streamed.
    assert.deepEqual((await list(`cluster_id=${cluster}&categories=metrics`)).items, [asListed(streamed[3]!)]);
    // cluster_level: the events without a host; with host_ids: those OR the host's.
    assert.deepEqual((await list(`cluster_id=${cluster}&cluster_level=true`)).items.map((i) => i.name), ['cluster_validation_failed', 'image_info_updated']);
    assert.equal((await list(`cluster_id=${cluster}&cluster_level=true&host_id=${host}`)).count, 3);
    // host_ids alone, infra_env_id alone (the infra-env's host included); severity counts only with cluster_id.
    const byHost = await list(`host_ids=${host}`);
    assert.deepEqual([byHost.items, byHost.sev], [[asListed(streamed[1]!)], [0, 0, 0, 0]]);
    assert.deepEqual((await list(`infra_env_id=${infraEnv}`)).items.map((i) => i.name), ['host_registration_succeeded', 'image_info_updated']);
    // Counts before severities, Event-Count after; order and paging.
    const warnings = await list(`cluster_id=${cluster}&severities=warning`);
    assert.deepEqual([warnings.count, warnings.sev, warnings.items.map((i) => i.name)], [1, [2, 1, 0, 0], ['cluster_validation_failed']]);
    const page = await list(`cluster_id=${cluster}&order=descending&limit=1&offset=1`);
    assert.deepEqual([page.count, page.items.map((i) => i.name)], [3, ['host_registration_succeeded']]);
  });
}
