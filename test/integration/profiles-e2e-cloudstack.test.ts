/**
 * The cloudstack profile end to end on the wire, as CloudStack's own event buses publish:
 * events posted to `herald serve`'s REST API, relayed by the outbox to the real Kafka broker
 * (HERALD_TEST_KAFKA) and the real RabbitMQ (HERALD_TEST_AMQP), read back with independent
 * clients — kcat for record keys and headers, amqplib for routing keys and message properties.
 * Upstream (apache/cloudstack): plugins/event-bus/kafka/.../KafkaEventBus.java @ f1c25606,
 * plugins/event-bus/rabbitmq/.../RabbitMQEventBus.java @ f64aeb5e, server/.../event/
 * AlertGenerator.java @ 400e1ee7, engine/components-api/.../event/UsageEventUtils.java @
 * c3cb8566, server/.../vm/UserVmStateListener.java @ 7fce2656, framework/events/.../Event.java
 * @ 400e1ee7 (a plain new Gson()); rabbitmq/rabbitmq-java-client src/main/java/com/rabbitmq/
 * client/MessageProperties.java @ ce8cc54f (PERSISTENT_TEXT_PLAIN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConsumeMessage } from 'amqplib';
import { decodeMessage } from '../../src/profiles/decode.js';
import { amqpUrl, kafkaBrokers, uniqueName } from '../helpers/env.js';
import { sinkStatus, startTestService, waitFor } from './outbox-helpers.js';
import { api, readUntil } from './profiles-e2e-helpers.js';
import { assertAmqpValid, kcatMeta, setProperties } from './upstream-wire-helpers.js';

test('cloudstack over Kafka and RabbitMQ: no headers, keys and routing keys as CloudStack, PERSISTENT_TEXT_PLAIN, Gson bodies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-cs-'));
  const brokers = kafkaBrokers().split(',');
  const topic = uniqueName('e2e-cs-wire');
  const exchange = uniqueName('e2e-cs-wire');

  // The queue is bound before anything is published (Herald publishes mandatory: unroutable would be parked).
  const conn = await connect(amqpUrl());
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, exchange, '#');
  const got: ConsumeMessage[] = [];
  await ch.consume(q.queue, (m) => { if (m !== null) got.push(m); }, { noAck: true });

  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [
      { name: 'cs-kafka', type: 'kafka', brokers, profile: 'cloudstack', topic },
      { name: 'cs-amqp', type: 'amqp', url: amqpUrl(), exchange, profile: 'cloudstack' },
    ],
  });
  t.after(async () => {
    await service.close();
    await conn.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const vm = randomUUID();
  const vol = randomUUID();
  const time = '2024-05-01T12:00:00Z';
  const events = [
    { source: 'management-server', type: 'cloudstack.ActionEvent', time, entity: { kind: 'VirtualMachine', id: vm },
      data: { user: 'u-1', account: 'a-1', event: 'VM.START', status: 'Completed', entity: 'VirtualMachine', entityuuid: vm, description: 'starting vm' } },
    // AlertGenerator: routing <source>.AlertEvent.<type>.*.*, no Kafka key; podId null left out.
    { source: 'management-server', type: 'cloudstack.AlertEvent', time,
      data: { event: 'ALERT.MEMORY', dataCenterId: 'dc-1', podId: null, subject: 'Memory <10%> & falling', body: "it's low" } },
    // UsageEventUtils: resource type = the class name, dots as dashes.
    { source: 'management-server', type: 'cloudstack.UsageEvent', time, entity: { kind: 'Volume', id: vol },
      data: { account: 'a-1', zone: null, event: 'VOLUME.CREATE', resource: 'com.cloud.storage.Volume', id: vol } },
    // UserVmStateListener: the type is the state machine event (here the subject), pre and post.
    { source: 'management-server', type: 'cloudstack.ResourceStateEvent', time, subject: 'StartRequested', entity: { kind: 'VirtualMachine', id: vm },
      data: { resource: 'VirtualMachine', id: vm, 'old-state': 'Stopped', 'new-state': 'Starting' } },
  ];
  const posted = await api(service.address, 'POST', '/v2/events', events);
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  // A status CloudStack never sends is refused before anything is stored, naming the field.
  const bad = await api(service.address, 'POST', '/v2/events', [{ ...events[3], data: { ...events[3]!.data, status: 'later' } }]);
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.ok((bad.body as { details: Array<{ path: string }> }).details.some((d) => d.path === '[0].data.status'), JSON.stringify(bad.body));

  await waitFor('both sinks to deliver', async () => (await sinkStatus(service.address)).every((s) => s.pending === 0 && s.delivered >= 4), 60_000);
  await waitFor('RabbitMQ to deliver 5 messages', async () => got.length >= 5, 30_000);

  // RabbitMQ: routing keys as createRoutingKey builds them, properties exactly PERSISTENT_TEXT_PLAIN.
  // (Order holds per key only: the alert and the usage event may come in any order.)
  const byKey = (rk: string) => got.filter((m) => m.fields.routingKey === rk).map((m) => m.content.toString('utf8'));
  assert.deepEqual(got.map((m) => m.fields.routingKey).sort(), [
    `management-server.ActionEvent.VM-START.VirtualMachine.${vm}`,
    'management-server.AlertEvent.ALERT-MEMORY.*.*',
    `management-server.ResourceStateEvent.StartRequested.VirtualMachine.${vm}`,
    `management-server.ResourceStateEvent.StartRequested.VirtualMachine.${vm}`,
    `management-server.UsageEvent.VOLUME-CREATE.com-cloud-storage-Volume.${vol}`,
  ]);
  for (const m of got) assert.deepEqual(setProperties(m), { contentType: 'text/plain', deliveryMode: 2, priority: 0 }, m.fields.routingKey);
  assert.deepEqual(byKey('management-server.AlertEvent.ALERT-MEMORY.*.*'),
    ['{"event":"ALERT.MEMORY","dataCenterId":"dc-1","subject":"Memory \\u003c10%\\u003e \\u0026 falling","body":"it\\u0027s low","eventDateTime":"2024-05-01 12:00:00 +0000"}']);
  assert.deepEqual(byKey(`management-server.UsageEvent.VOLUME-CREATE.com-cloud-storage-Volume.${vol}`).map((b) => JSON.parse(b)),
    [{ account: 'a-1', event: 'VOLUME.CREATE', resource: 'com.cloud.storage.Volume', id: vol, eventDateTime: '2024-05-01 12:00:00 +0000' }]);
  const vmMessages = got.filter((m) => m.fields.routingKey.endsWith(`.VirtualMachine.${vm}`));
  assert.deepEqual(vmMessages.map((m) => m.fields.routingKey.split('.')[1]), ['ActionEvent', 'ResourceStateEvent', 'ResourceStateEvent'], 'one key: in order');
  assert.deepEqual(vmMessages.slice(1).map((m) => JSON.parse(m.content.toString())), ['preStateTransitionEvent', 'postStateTransitionEvent'].map((status) => (
    { resource: 'VirtualMachine', id: vm, 'old-state': 'Stopped', 'new-state': 'Starting', status, eventDateTime: '2024-05-01 12:00:00 +0000' })));
  const bodies = got.map((m) => m.content.toString('utf8'));
  // Every body, as delivered with its routing key and properties, matches the served schema of its category.
  assertAmqpValid('cloudstack', got);

  // Kafka: ProducerRecord(topic, resourceUuid, description) — the same bodies, key = the UUID
  // (null for the alert), no headers (kcat).
  const records = await readUntil([topic], 'cloudstack', (rs) => rs.length >= 5, 30_000);
  assert.deepEqual(records.map((r) => r.value!.toString('utf8')).sort(), [...bodies].sort(), 'the same bytes on both buses');
  const meta = await kcatMeta(topic);
  const keyOf = (k: { keyLength: number; key: string }) => (k.keyLength === -1 ? '(null)' : k.key);
  assert.deepEqual(meta.map(keyOf).sort(), ['(null)', vm, vm, vm, vol].sort());
  assert.deepEqual(meta.map((k) => k.headers), ['', '', '', '', ''], 'no record headers');
  const alertRecord = records.find((r) => r.value!.toString().includes('ALERT.MEMORY'))!;

  // What a consumer gets back, without any header: decoded by content (and the routing key).
  const fromAmqp = decodeMessage({ transport: 'amqp', topic: vmMessages[2]!.fields.routingKey, value: vmMessages[2]!.content, headers: {} });
  assert.equal(fromAmqp.profile, 'cloudstack');
  assert.equal(fromAmqp.event.subject, 'StartRequested');
  assert.deepEqual(fromAmqp.event.entity, { kind: 'VirtualMachine', id: vm });
  const fromKafka = decodeMessage(alertRecord);
  assert.equal(fromKafka.event.type, 'cloudstack.AlertEvent');
  assert.equal((fromKafka.event.data as Record<string, unknown>).subject, 'Memory <10%> & falling');
});
