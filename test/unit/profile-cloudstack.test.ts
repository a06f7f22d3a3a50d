import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError, ValidationError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import {
  checkCloudStack, cloudstackProfile, cloudstackRoutingKey, formatCloudStackDate, gsonJson, parseCloudStackDate,
} from '../../src/profiles/cloudstack.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';
import { bindingFor } from '../helpers/sinks.js';

// The example value from the CloudStack facts.
const EXAMPLE = '{"Role":"e767a39b-6b93-11e7-81e3-06565200012c","Account":"54d5f55c-5311-48db-bbb8-c44c5175cb2a","eventDateTime":"2017-07-23 14:09:08 +0700","entityuuid":"54d5f55c-5311-48db-bbb8-c44c5175cb2a","description":"Successfully completed creating Account. Account Name: null, Domain Id:1","event":"ACCOUNT.CREATE","Domain":"8a90b067-6b93-11e7-81e3-06565200012c","user":"f484a624-6b93-11e7-81e3-06565200012c","account":"f4849ae2-6b93-11e7-81e3-06565200012c","entity":"com.cloud.user.Account","status":"Completed"}';
const UUID = '54d5f55c-5311-48db-bbb8-c44c5175cb2a';
const kafka: EncodeContext = { transport: 'kafka', topic: 'cs' };
const amqp: EncodeContext = { transport: 'amqp', topic: 'ignored' };
const incoming = (topic: string, value: string | Buffer, key?: string): IncomingMessage => ({ topic, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: {}, ...(key !== undefined && { key }) });
const { eventDateTime: _dt, ...exampleFields } = JSON.parse(EXAMPLE) as Record<string, unknown>;

test('cloudstack: eventDateTime is yyyy-MM-dd HH:mm:ss Z, UTC by default', () => {
  const t = new Date('2017-07-23T07:09:08.456Z');
  assert.equal(formatCloudStackDate(t), '2017-07-23 07:09:08 +0000');
  assert.equal(formatCloudStackDate(t, 420), '2017-07-23 14:09:08 +0700');
  assert.equal(formatCloudStackDate(t, -210), '2017-07-23 03:39:08 -0330');
  assert.equal(parseCloudStackDate('2017-07-23 14:09:08 +0700')!.toISOString(), '2017-07-23T07:09:08.000Z');
  assert.equal(parseCloudStackDate('2017-07-23 03:39:08 -0330')!.toISOString(), '2017-07-23T07:09:08.000Z');
  assert.equal(parseCloudStackDate('2017-07-23T14:09:08+07:00'), undefined);
  assert.equal(parseCloudStackDate('2017-02-30 10:00:00 +0000'), undefined);
});

test('cloudstack: an ActionEvent encodes to the flat example value, keyed by the resource UUID', () => {
  const event = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', time: '2017-07-23T07:09:08Z', entity: { kind: 'Account', id: UUID }, data: exampleFields });
  const [msg, ...rest] = cloudstackProfile.encode(event, kafka);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'cs');
  assert.equal(msg!.key, UUID);
  // apache/cloudstack plugins/event-bus/rabbitmq/.../RabbitMQEventBus.java @ f64aeb5e publishes
  // with MessageProperties.PERSISTENT_TEXT_PLAIN (rabbitmq/rabbitmq-java-client
  // src/main/java/com/rabbitmq/client/MessageProperties.java @ ce8cc54f: "text/plain",
  // deliveryMode 2, priority 0); KafkaEventBus.java @ f1c25606 sends ProducerRecord(topic,
  // uuid, description): no headers. So: no metadata of Herald's own.
  assert.equal(msg!.contentType, 'text/plain');
  assert.equal(msg!.priority, 0);
  assert.equal(msg!.metadata, 'none');
  assert.equal(msg!.headers, undefined);
  assert.deepEqual(JSON.parse(msg!.value!.toString('utf8')), { ...JSON.parse(EXAMPLE), eventDateTime: '2017-07-23 07:09:08 +0000' });
  // A given eventDateTime naming the same second keeps its zone: the exact example field set.
  const zoned = createEvent({ source: 'management-server', type: 'ActionEvent', time: '2017-07-23T07:09:08Z', data: JSON.parse(EXAMPLE) });
  const [z] = bindingFor({ name: 'cs', type: 'kafka', brokers: ['k:9092'], profile: 'cloudstack' }).encode(zoned);
  assert.deepEqual(JSON.parse(z!.value!.toString('utf8')), JSON.parse(EXAMPLE));
  assert.equal(z!.topic, 'cloudstack', 'the profile\'s default topic, through the sink binding');
  assert.equal(z!.key, UUID, 'key from entityuuid when there is no entity');
  // ...but one naming another time is replaced by the canonical time.
  const stale = createEvent({ source: 's', type: 'ActionEvent', time: '2020-01-01T00:00:00Z', data: JSON.parse(EXAMPLE) });
  assert.equal(JSON.parse(cloudstackProfile.encode(stale, kafka)[0]!.value!.toString()).eventDateTime, '2020-01-01 00:00:00 +0000');
});

test('cloudstack: AMQP routing key <source>.<category>.<type>.<resourceType>.<resourceUuid>', () => {
  const del = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', data: { event: 'ACCOUNT.DELETE', status: 'Completed', entity: 'com.cloud.user.Account' } });
  const [msg] = cloudstackProfile.encode(del, amqp);
  assert.equal(msg!.topic, 'management-server.ActionEvent.ACCOUNT-DELETE.Account.*');
  assert.equal(msg!.key, undefined);
  const withUuid = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: UUID }, data: { event: 'ACCOUNT.CREATE', status: 'Completed' } });
  assert.equal(cloudstackProfile.encode(withUuid, amqp)[0]!.topic, `management-server.ActionEvent.ACCOUNT-CREATE.Account.${UUID}`);
  assert.equal(cloudstackRoutingKey({ source: 'a.b', category: 'AlertEvent' }), 'a-b.AlertEvent.*.*.*');
});

test('cloudstack: switched-off categories and other event types are not published', () => {
  const usage = createEvent({ source: 'ms', type: 'cloudstack.UsageEvent', data: { event: 'VM.CREATE', account: 'a', zone: 'z', resource: 'VirtualMachine', id: 'vm1' } });
  assert.equal(cloudstackProfile.encode(usage, kafka).length, 1);
  assert.deepEqual(cloudstackProfile.encode(usage, { ...kafka, options: { disabledCategories: ['UsageEvent'] } }), []);
  assert.deepEqual(cloudstackProfile.encode(createEvent({ source: 's', type: 'com.example.x' }), kafka), []);
});

test('cloudstack: nested values and missing category fields are errors naming the field', () => {
  const nested = createEvent({ source: 's', type: 'cloudstack.ActionEvent', data: { event: 'X', nested: { a: 1 } } });
  assert.throws(() => cloudstackProfile.encode(nested, kafka), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.details.map((d) => d.path), ['data.nested']);
    return true;
  });
  const missing = createEvent({ source: 's', type: 'cloudstack.ResourceStateEvent', data: { resource: 'VirtualMachine' } });
  assert.throws(() => cloudstackProfile.encode(missing, kafka), /data\.new-state is required/);
  // The same problems at ingest (Profile.check), so such an event is refused before it is stored.
  assert.deepEqual(checkCloudStack(nested, kafka).map((p) => p.path), ['data.nested']);
  assert.deepEqual(checkCloudStack(missing, kafka).map((p) => p.path), ['data.new-state']);
  assert.deepEqual(checkCloudStack(missing, { ...kafka, options: { disabledCategories: ['ResourceStateEvent'] } }), []);
});

test('cloudstack: the example value decodes to the canonical ActionEvent and back', () => {
  const d = cloudstackProfile.decode!(incoming('cs', EXAMPLE, UUID))!;
  assert.equal(d.profile, 'cloudstack');
  assert.equal(d.format, 'ActionEvent');
  assert.equal(d.event.type, 'cloudstack.ActionEvent');
  assert.equal(d.event.source, 'management-server');
  assert.equal(d.event.time, '2017-07-23T07:09:08.000Z');
  assert.deepEqual(d.event.entity, { kind: 'Account', id: UUID });
  assert.deepEqual(d.event.data, exampleFields);
  assert.equal(d.event.message, 'Successfully completed creating Account. Account Name: null, Domain Id:1');
  assert.equal(cloudstackProfile.summary!(d), `[ActionEvent] Account ${UUID}: ACCOUNT.CREATE Completed`);
  const again = cloudstackProfile.encode(d.event, kafka)[0]!;
  assert.deepEqual(JSON.parse(again.value!.toString()), { ...JSON.parse(EXAMPLE), eventDateTime: '2017-07-23 07:09:08 +0000' });
});

test('cloudstack: every category round-trips encode → decode (Kafka and AMQP)', () => {
  const cases = [
    { type: 'cloudstack.AlertEvent', data: { event: 'ALERT.MANAGEMENT', dataCenterId: 1, podId: 2, subject: 'Management server down', body: 'down' } },
    { type: 'cloudstack.UsageEvent', entity: { kind: 'VirtualMachine', id: 'vm-1' }, data: { event: 'VM.CREATE', account: 'acc', zone: 'z1', resource: 'VirtualMachine', id: 'vm-1' } },
    { type: 'cloudstack.ResourceStateEvent', entity: { kind: 'VirtualMachine', id: 'vm-1' }, data: { resource: 'VirtualMachine', id: 'vm-1', 'old-state': 'Stopped', 'new-state': 'Running', status: 'postStateTransitionEvent' } },
    { type: 'cloudstack.ResourceStateEvent', entity: { kind: 'Volume', id: 'vol-1' }, data: { resource: 'Volume', id: 'vol-1', 'old-state': 'Allocated', 'new-state': 'Ready' } },
  ];
  for (const c of cases) {
    const event = createEvent({ source: 'management-server', time: '2024-05-01T12:00:00Z', ...c });
    for (const ctx of [kafka, amqp]) {
      const [msg] = cloudstackProfile.encode(event, ctx);
      const d = cloudstackProfile.decode!(incoming(msg!.topic, msg!.value!, msg!.key))!;
      assert.equal(d.event.type, event.type, msg!.topic);
      assert.equal(d.event.time, event.time);
      assert.equal(d.event.source, 'management-server');
      assert.deepEqual(d.event.entity, event.entity);
      assert.deepEqual(d.event.data, event.data);
    }
  }
  const rs = cloudstackProfile.decode!(incoming('cs', '{"resource":"VirtualMachine","id":"vm-1","old-state":"Stopped","new-state":"Running","eventDateTime":"2024-05-01 12:00:00 +0000"}'))!;
  assert.equal(cloudstackProfile.summary!(rs), '[ResourceStateEvent] VirtualMachine vm-1: Stopped -> Running');
});

test('cloudstack: decode leaves foreign JSON alone and rejects a malformed eventDateTime', () => {
  assert.equal(cloudstackProfile.decode!(incoming('cs', '{"type":"x","time":"2024-01-01T00:00:00Z"}')), undefined);
  assert.equal(cloudstackProfile.decode!(incoming('cs', '{"eventDateTime":"2024-01-01 00:00:00 +0000","nested":{"a":1},"status":"x","event":"y"}')), undefined);
  assert.equal(cloudstackProfile.decode!(incoming('cs', 'plain text')), undefined);
  assert.throws(() => cloudstackProfile.decode!(incoming('cs', '{"event":"VM.CREATE","status":"Completed","eventDateTime":"yesterday"}')), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'DECODE');
    assert.equal(err.details[0]!.path, 'eventDateTime');
    return true;
  });
});

test('cloudstack: bodies are written as Gson writes them: nulls left out, HTML characters escaped (Gson test vectors)', () => {
  // google/gson gson/src/test/java/com/google/gson/functional/MapTest.java @ b3dbf618,
  // testMapSerializationWithNullValue: {"abc": null} → "{}"; testWriteMapsWithEmptyStringKey:
  // {"": true} → {"":true}; testMapWithQuotes: {a"b: c"d} → {"a\"b":"c\"d"}.
  assert.equal(gsonJson({ abc: null }), '{}');
  assert.equal(gsonJson({ '': true }), '{"":true}');
  assert.equal(gsonJson({ 'a"b': 'c"d' }), '{"a\\"b":"c\\"d"}');
  // .../functional/EscapingTest.java @ a9cfb616, testEscapeAllHtmlCharacters (new Gson()):
  // "<", ">", "=", "&", "'", "\"" → "\u003c","\u003e","\u003d","\u0026","\u0027","\"".
  assert.equal(gsonJson({ a: '<', b: '>', c: '=', d: '&', e: "'", f: '"' }), '{"a":"\\u003c","b":"\\u003e","c":"\\u003d","d":"\\u0026","e":"\\u0027","f":"\\""}');
  // gson/src/main/java/com/google/gson/stream/JsonWriter.java @ 19f54ee6: U+2028/U+2029 escaped too.
  assert.equal(gsonJson({ s: 'a\u2028b\u2029' }), '{"s":"a\\u2028b\\u2029"}');
  // apache/cloudstack server/src/main/java/com/cloud/event/AlertGenerator.java @ 400e1ee7:
  // eventDescription.put("podId", null) when there is no pod; Event.setDescription uses a plain
  // new Gson() (framework/events/.../Event.java @ 400e1ee7), so the key is not written.
  const alert = createEvent({ source: 'management-server', type: 'cloudstack.AlertEvent', time: '2024-05-01T12:00:00Z',
    data: { event: 'ALERT.MEMORY', dataCenterId: 'dc-1', podId: null, subject: 'Low memory <90%>', body: 'a=b & c' } });
  const [msg] = cloudstackProfile.encode(alert, kafka);
  assert.equal(msg!.value!.toString('utf8'), '{"event":"ALERT.MEMORY","dataCenterId":"dc-1","subject":"Low memory \\u003c90%\\u003e","body":"a\\u003db \\u0026 c","eventDateTime":"2024-05-01 12:00:00 +0000"}');
  // The stored event keeps what it was given; only the wire leaves the null out.
  assert.equal((alert.data as Record<string, unknown>).podId, null);
  const back = cloudstackProfile.decode!(incoming('cs', msg!.value!))!;
  assert.equal((back.event.data as Record<string, unknown>).subject, 'Low memory <90%>');
});

test('cloudstack: AlertEvent routing key is <source>.AlertEvent.<TYPE>.*.* and its record has no key', () => {
  // AlertGenerator.java @ 400e1ee7: new Event(ManagementService.Name, "AlertEvent", alertType, null, null).
  const alert = createEvent({ source: 'management-server', type: 'cloudstack.AlertEvent', entity: { kind: 'Host', id: 'h-1' },
    data: { event: 'ALERT.MEMORY', dataCenterId: 'dc-1', subject: 's', body: 'b' } });
  const [onAmqp] = cloudstackProfile.encode(alert, amqp);
  assert.equal(onAmqp!.topic, 'management-server.AlertEvent.ALERT-MEMORY.*.*');
  assert.equal(onAmqp!.key, undefined);
  assert.equal(cloudstackProfile.encode(alert, kafka)[0]!.key, undefined, 'KafkaEventBus: ProducerRecord key = getResourceUUID() = null');
  const d = cloudstackProfile.decode!(incoming(onAmqp!.topic, onAmqp!.value!))!;
  assert.equal(d.event.entity, undefined);
});

test('cloudstack: UsageEvent routing resource type is its class name, dots as dashes', () => {
  // engine/components-api/src/main/java/com/cloud/event/UsageEventUtils.java @ c3cb8566:
  // new Event(Name, "UsageEvent", usageEventType, resourceType, resourceUUID), body "resource" =
  // the same resourceType (a class name such as Volume.class.getName()); RabbitMQEventBus
  // replaces "." with "-" in each part.
  const usage = createEvent({ source: 'management-server', type: 'cloudstack.UsageEvent', entity: { kind: 'Volume', id: 'vol-1' },
    data: { account: 'acc-1', zone: null, event: 'VOLUME.CREATE', resource: 'com.cloud.storage.Volume', id: 'vol-1' } });
  const [msg] = cloudstackProfile.encode(usage, amqp);
  assert.equal(msg!.topic, 'management-server.UsageEvent.VOLUME-CREATE.com-cloud-storage-Volume.vol-1');
  assert.equal(msg!.key, 'vol-1');
  assert.deepEqual(Object.keys(JSON.parse(msg!.value!.toString())), ['account', 'event', 'resource', 'id', 'eventDateTime'], 'zone: null is left out');
});

test('cloudstack: ResourceStateEvent type is the state machine event, from the subject, never in the body', () => {
  // server/src/main/java/com/cloud/vm/UserVmStateListener.java @ 7fce2656: new Event(
  // ManagementService.Name, "ResourceStateEvent", event /* VirtualMachine.Event name */,
  // "VirtualMachine", vo.getUuid()); body: resource, id, old-state, new-state, status,
  // eventDateTime — no "event". pre and post are both published for a transition.
  const vm = '3b2f6a4e-0000-4000-8000-000000000001';
  const start = createEvent({ source: 'management-server', type: 'cloudstack.ResourceStateEvent', subject: 'StartRequested', time: '2024-05-01T12:00:00Z',
    entity: { kind: 'VirtualMachine', id: vm }, data: { resource: 'VirtualMachine', id: vm, 'old-state': 'Stopped', 'new-state': 'Starting' } });
  const msgs = cloudstackProfile.encode(start, amqp);
  assert.deepEqual(msgs.map((m) => m.topic), [`management-server.ResourceStateEvent.StartRequested.VirtualMachine.${vm}`, `management-server.ResourceStateEvent.StartRequested.VirtualMachine.${vm}`]);
  assert.deepEqual(msgs.map((m) => JSON.parse(m.value!.toString())), ['preStateTransitionEvent', 'postStateTransitionEvent'].map((status) => (
    { resource: 'VirtualMachine', id: vm, 'old-state': 'Stopped', 'new-state': 'Starting', status, eventDateTime: '2024-05-01 12:00:00 +0000' })));
  assert.ok(msgs.every((m) => m.eventId === start.id && m.key === vm));
  // A caller naming the status gets that one message.
  const post = createEvent({ ...start, id: undefined, data: { ...(start.data as object), status: 'postStateTransitionEvent' } });
  assert.equal(cloudstackProfile.encode(post, amqp).length, 1);
  assert.throws(() => cloudstackProfile.encode(createEvent({ ...start, id: undefined, data: { ...(start.data as object), status: 'later' } }), amqp), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.details.map((d) => d.path), ['data.status']);
    return true;
  });
  // server/src/main/java/com/cloud/storage/listener/VolumeStateListener.java @ a07f4f9c: no status key, one message.
  const vol = createEvent({ source: 'management-server', type: 'cloudstack.ResourceStateEvent', subject: 'OperationSucceeded',
    data: { resource: 'Volume', id: 'vol-1', 'old-state': 'Creating', 'new-state': 'Ready' } });
  const [v, ...more] = cloudstackProfile.encode(vol, amqp);
  assert.equal(more.length, 0);
  assert.equal(v!.topic, 'management-server.ResourceStateEvent.OperationSucceeded.Volume.vol-1');
  assert.equal('event' in JSON.parse(v!.value!.toString()), false);
  // Without a subject the type part is `*` (replaceNullWithWildcard).
  assert.equal(cloudstackProfile.encode(createEvent({ ...vol, id: undefined, subject: undefined }), amqp)[0]!.topic, 'management-server.ResourceStateEvent.*.Volume.vol-1');
  // A data.event a caller added (Herald's earlier way to name the type) stands in for the
  // subject in the routing key, and is still not written into the body.
  const legacy = createEvent({ ...vol, id: undefined, subject: undefined, data: { ...(vol.data as object), event: 'OperationSucceeded' } });
  for (const ctx of [amqp, kafka]) {
    const [l] = cloudstackProfile.encode(legacy, ctx);
    assert.deepEqual(Object.keys(JSON.parse(l!.value!.toString())), ['resource', 'id', 'old-state', 'new-state', 'eventDateTime']);
    if (ctx === amqp) assert.equal(l!.topic, 'management-server.ResourceStateEvent.OperationSucceeded.Volume.vol-1');
  }
  // Read back from the routing key, the state machine event becomes the subject again.
  const d = cloudstackProfile.decode!(incoming(msgs[1]!.topic, msgs[1]!.value!))!;
  assert.equal(d.event.subject, 'StartRequested');
  assert.deepEqual(d.event.entity, { kind: 'VirtualMachine', id: vm });
  assert.equal((d.event.data as Record<string, unknown>).status, 'postStateTransitionEvent');
});

test('cloudstack: bare messages (no content-type header, no key) decode by content alone', () => {
  // What KafkaEventBus leaves a consumer: a value and maybe a key, nothing else.
  const body = '{"resource":"Volume","id":"vol-1","old-state":"Creating","new-state":"Ready","eventDateTime":"2024-05-01 12:00:00 +0000"}';
  const d = decodeMessage({ transport: 'kafka', topic: 'cloudstack', key: null, value: Buffer.from(body), headers: {} });
  assert.equal(d.profile, 'cloudstack');
  assert.equal(d.event.type, 'cloudstack.ResourceStateEvent');
});

test('cloudstack: profileOptions.wireMetadata herald brings Herald\'s own metadata back (AMQP messageId for de-duplication)', async () => {
  const { amqpPublishOptions } = await import('../../src/transports/amqp/mapping.js');
  const event = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: UUID }, data: { event: 'ACCOUNT.CREATE', status: 'Completed' } });
  const [upstream] = cloudstackProfile.encode(event, amqp);
  assert.equal(amqpPublishOptions(upstream!).messageId, undefined);
  const [herald] = cloudstackProfile.encode(event, { ...amqp, options: { wireMetadata: 'herald' } });
  assert.equal(herald!.metadata, 'herald');
  assert.equal(amqpPublishOptions(herald!).messageId, event.id);
  assert.equal(herald!.value!.toString(), upstream!.value!.toString(), 'the same body either way');
});
