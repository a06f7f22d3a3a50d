/**
 * The metadata transports add to messages of profiles whose upstream sends bare messages
 * (OutgoingMessage.metadata 'none'), read back with clients independent of Herald: kcat on the
 * real Kafka broker (HERALD_TEST_KAFKA), the nats client on the real NATS server with JetStream
 * (HERALD_TEST_NATS). Upstream: openshift/assisted-service pkg/kafka/json_writer.go and
 * internal/stream/notification_stream.go @ 063b2579 (kafka.Message{Key: []byte(key), Value},
 * key "" when the event has no cluster: a zero-length, non-null key; no headers).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { createEvent } from '../../src/events/event.js';
import { silentLogger } from '../../src/log.js';
import type { Sink } from '../../src/transports/types.js';
import { kafkaBrokers, natsUrl, uniqueName } from '../helpers/env.js';
import { bindingFor } from '../helpers/sinks.js';
import { waitFor } from '../helpers/wait.js';
import { kcatMeta } from './upstream-wire-helpers.js';

const open: Array<Sink | NatsConnection> = [];
after(async () => {
  for (const o of open) await o.close().catch(() => undefined);
});

test('assisted over Kafka: no record headers, the cluster id as key, an empty (not null) key without a cluster', async () => {
  const topic = uniqueName('e2e-assisted-wire');
  const binding = bindingFor({ name: 'assisted', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'assisted', topic });
  const cluster = uniqueName('c');
  const withCluster = createEvent({ source: 'assisted-service', type: 'cluster_installation_completed', entity: { kind: 'cluster', id: cluster }, message: 'installed' });
  const without = createEvent({ source: 'assisted-service', type: 'host_registration_succeeded', message: 'no cluster' });
  const messages = [...binding.encode(withCluster), ...binding.encode(without)];
  assert.deepEqual(messages.map((m) => m.key), [cluster, '']);
  const sink = await binding.createSink({ logger: silentLogger });
  open.push(sink);
  assert.deepEqual(await sink.publish(messages), [{ ok: true }, { ok: true }]);
  const meta = await kcatMeta(topic);
  assert.deepEqual(meta.map((k) => [k.keyLength, k.key, k.headers]), [[cluster.length, cluster, ''], [0, '', '']]);
});

test('cloudstack over NATS: no content-type header; JetStream keeps only Nats-Msg-Id and drops a re-sent copy; core NATS gets no headers', async () => {
  const subject = uniqueName('e2e.cswire').replace(/-/g, '_');
  const event = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: 'acc-1' }, data: { event: 'ACCOUNT.CREATE', status: 'Completed' } });
  const nc = await connect({ servers: natsUrl() });
  open.push(nc);
  const seen: Array<{ headers: Record<string, string> | undefined; body: string }> = [];
  const sc = StringCodec();
  nc.subscribe(subject, {
    callback: (_err, m) => {
      const headers = m.headers === undefined ? undefined : Object.fromEntries([...m.headers.keys()].map((k) => [k, m.headers!.get(k)]));
      seen.push({ headers, body: sc.decode(m.data) });
    },
  });
  await nc.flush();

  const core = bindingFor({ name: 'cs-core', type: 'nats', url: natsUrl(), jetstream: false, profile: 'cloudstack', topic: subject });
  const coreSink = await core.createSink({ logger: silentLogger });
  open.push(coreSink);
  assert.deepEqual(await coreSink.publish(core.encode(event)), [{ ok: true }]);
  await waitFor('the core NATS message', async () => seen.length >= 1, 10_000);
  assert.equal(seen[0]!.headers, undefined, 'core NATS: no headers at all');

  const stream = uniqueName('CSWIRE').replace(/-/g, '_');
  const js = bindingFor({ name: 'cs-js', type: 'nats', url: natsUrl(), jetstream: true, createStream: true, stream, subjects: [subject], profile: 'cloudstack', topic: subject });
  const jsSink = await js.createSink({ logger: silentLogger });
  open.push(jsSink);
  const msgs = js.encode(event);
  assert.deepEqual(await jsSink.publish(msgs), [{ ok: true }]);
  // A retry of the same event (as the outbox sends after a lost acknowledgement): dropped by JetStream.
  assert.deepEqual(await jsSink.publish(js.encode(event)), [{ ok: true }]);
  await waitFor('the JetStream message', async () => seen.length >= 3, 10_000);
  assert.deepEqual(seen[1]!.headers, { 'Nats-Msg-Id': event.id }, 'JetStream: only the de-duplication id');
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, 1, 'the re-sent copy was dropped by the duplicate window');
  await jsm.streams.delete(stream);
});
