/** How messages map to NATS and AMQP (ids, headers, properties, subjects) and error classes: no network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, NatsError } from 'nats';
import { classifyNatsError } from '../../src/transports/nats/errors.js';
import { defaultStreamSubjects, fromNatsHeaders, natsHeaderPairs, natsMessageIds, toNatsHeaders } from '../../src/transports/nats/mapping.js';
import { amqpPublishOptions, basicPublishFrame, fromAmqpProperties, headerValueToString } from '../../src/transports/amqp/mapping.js';
import { fromKafkaHeaders, toKafkaRecord } from '../../src/transports/kafka/mapping.js';
import { validateSinks } from '../../src/config/sinks.js';
import { HeraldError } from '../../src/errors.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';

const m = (eventId: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({ eventId, topic: 't', value: null, ...extra });

test('Nats-Msg-Id: the event id, then <id>:<n> for further messages of the same event; an explicit header wins', () => {
  assert.deepEqual(natsMessageIds([m('a'), m('b'), m('a', { topic: 't2' }), m('a', { topic: 't3' }), m('c', { headers: { 'Nats-Msg-Id': 'own' } })]), ['a', 'b', 'a:1', 'a:2', 'own']);
  // A retry of the same event yields the same ids, which is what lets JetStream drop it.
  assert.deepEqual(natsMessageIds([m('a'), m('a', { topic: 't2' })]), natsMessageIds([m('a'), m('a', { topic: 't2' })]));
  // Two outbox entries of one event in one batch (a replay queued while the original was
  // pending): the identical copies get the same ids, so JetStream keeps one of each.
  const v = (s: string) => Buffer.from(s);
  assert.deepEqual(
    natsMessageIds([m('a', { value: v('1') }), m('a', { topic: 't2', value: v('2') }), m('b'), m('a', { value: v('1') }), m('a', { topic: 't2', value: v('2') })]),
    ['a', 'a:1', 'b', 'a', 'a:1'],
  );
  assert.deepEqual(natsMessageIds([m('a', { value: v('1') }), m('a', { value: v('2') })]), ['a', 'a:1']);
});

test('NATS headers: content-type, ce-<name> for binary-mode attributes, own headers, then the id', () => {
  const pairs = natsHeaderPairs(m('e', { contentType: 'application/json', ceAttributes: { type: 'x.y' }, headers: { 'x-a': '1', 'Nats-Msg-Id': 'dropped-here' } }), 'e');
  assert.deepEqual(pairs, [['content-type', 'application/json'], ['ce-type', 'x.y'], ['x-a', '1'], ['Nats-Msg-Id', 'e']]);
  assert.deepEqual(natsHeaderPairs(m('e')), []);
});

test('default stream subjects: choria.> for choria, else the binding topic and below', () => {
  assert.deepEqual(defaultStreamSubjects('choria', 'ignored'), ['choria.>']);
  assert.deepEqual(defaultStreamSubjects('cloudevents', 'ops.events'), ['ops.events', 'ops.events.>']);
});

test('NATS error classes: no stream transient, too large permanent, lost connection rejects the batch, JetStream 4xx permanent', () => {
  const noStream = classifyNatsError(NatsError.errorForCode(ErrorCode.NoResponders), 'a.b');
  assert.equal(noStream.permanent, false);
  assert.equal(noStream.batch, false);
  assert.match(noStream.error.message, /no JetStream stream captures subject a\.b/);
  const big = classifyNatsError(NatsError.errorForCode(ErrorCode.MaxPayloadExceeded), 'a.b');
  assert.deepEqual([big.permanent, big.error.code], [true, 'BROKER_REJECTED']);
  assert.equal(classifyNatsError(NatsError.errorForCode(ErrorCode.Disconnect), 'a').batch, true);
  assert.equal(classifyNatsError(NatsError.errorForCode(ErrorCode.Timeout), 'a').error.code, 'TIMEOUT');
  const api = NatsError.errorForCode(ErrorCode.ApiError);
  api.api_error = { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' };
  assert.equal(classifyNatsError(api, 'a').permanent, true);
  api.api_error = { code: 503, err_code: 10077, description: 'maximum messages exceeded' };
  assert.equal(classifyNatsError(api, 'a').permanent, false);
  const withUrl = classifyNatsError(new Error('failed at nats://u:pw123456@h'), 'a', []);
  assert.doesNotMatch(withUrl.error.message, /pw123456/);
});

test('AMQP publish options: persistent, mandatory, messageId, seconds timestamp, cloudEvents_ headers', () => {
  const o = amqpPublishOptions(m('ev', {
    contentType: undefined,
    headers: { 'x-a': '1' },
    ceAttributes: { specversion: '1.0', type: 't', datacontenttype: 'application/json' },
  }), 1_700_000_000_999);
  assert.deepEqual(o, {
    persistent: true,
    mandatory: true,
    messageId: 'ev',
    timestamp: 1_700_000_000,
    headers: { 'x-a': '1', cloudEvents_specversion: '1.0', cloudEvents_type: 't' },
    contentType: 'application/json',
  });
  // An explicit content type is kept.
  assert.equal(amqpPublishOptions(m('e', { contentType: 'text/plain', ceAttributes: { datacontenttype: 'x/y' } })).contentType, 'text/plain');
});

test('AMQP header values become strings', () => {
  assert.equal(headerValueToString(Buffer.from('hi')), 'hi');
  assert.equal(headerValueToString(42), '42');
  assert.equal(headerValueToString(true), 'true');
  assert.equal(headerValueToString(null), '');
  assert.equal(headerValueToString({ '!': 'long', value: 7 }), '7');
  assert.equal(headerValueToString({ a: 1 }), '{"a":1}');
});

test('sinks without a url are configuration errors naming the key', () => {
  for (const type of ['nats', 'amqp']) {
    assert.throws(() => validateSinks([{ name: 'n', type }]), (err: unknown) => err instanceof HeraldError && err.code === 'CONFIG' && err.details.some((d) => d.path === 'sinks[0].url' && d.message === 'is required'));
  }
});

test('every transport maps CloudEvents attributes back to what it wrote (its own prefix), with the content type', () => {
  const out = m('ev1', { value: Buffer.from('{"a":1}'), contentType: 'application/json', ceAttributes: { specversion: '1.0', id: 'ev1', type: 't', source: 's' }, headers: { 'x-extra': 'y' } });
  // Kafka: ce_ headers (the Kafka protocol binding).
  const record = toKafkaRecord(out);
  const k = fromKafkaHeaders([...(record.headers as Map<Buffer, Buffer>).entries()]);
  assert.deepEqual(k.ceAttributes, { specversion: '1.0', id: 'ev1', type: 't', source: 's', datacontenttype: 'application/json' });
  assert.equal(k.headers['x-extra'], 'y');
  // AMQP: cloudEvents_ application properties (the AMQP binding), content type as a property.
  const props = amqpPublishOptions(out);
  const a = fromAmqpProperties({ headers: props.headers as Record<string, unknown>, contentType: props.contentType, messageId: props.messageId });
  assert.deepEqual(a.ceAttributes, { specversion: '1.0', id: 'ev1', type: 't', source: 's', datacontenttype: 'application/json' });
  assert.equal(a.headers['message-id'], 'ev1');
  // NATS: ce- headers.
  const n = fromNatsHeaders(toNatsHeaders(natsHeaderPairs(out, 'ev1')));
  assert.deepEqual(n.ceAttributes, { specversion: '1.0', id: 'ev1', type: 't', source: 's', datacontenttype: 'application/json' });
  // No attributes: none mapped back.
  assert.equal(fromKafkaHeaders([[Buffer.from('content-type'), Buffer.from('application/json')]]).ceAttributes, undefined);
});

test('sources check their options before connecting', async () => {
  const { createNatsSource } = await import('../../src/transports/nats/source.js');
  const { createAmqpSource } = await import('../../src/transports/amqp/source.js');
  // Default subject `>`; nothing connects until messages() is iterated.
  await createNatsSource({ url: 'nats://127.0.0.1:4222' }).close();
  assert.throws(() => createNatsSource({ url: 'nats://h', subjects: [] }), (err: unknown) => err instanceof HeraldError && err.code === 'CONFIG' && /^subjects:/.test(err.message));
  assert.throws(() => createNatsSource({ url: 'nats://h', subjects: ['a'], durable: 'bad.name' }), /durable: "bad\.name" is not a valid/);
  assert.throws(() => createAmqpSource({ url: 'amqp://h', binding: [] }), /binding: at least one/);
  assert.throws(() => createAmqpSource({ url: 'kafka://h' }), /url: scheme kafka: is not supported/);
});

test('metadata none: each transport adds nothing of its own (upstreams that publish bare messages)', () => {
  const bare = m('ev', { topic: 'cloudstack', key: 'k', value: Buffer.from('{}'), contentType: 'text/plain', priority: 0, metadata: 'none' });
  // Kafka: apache/cloudstack KafkaEventBus.java @ f1c25606 (ProducerRecord(topic, key, value)),
  // openshift/assisted-service pkg/kafka/json_writer.go @ 063b2579 (kafka.Message{Key, Value}) and
  // AliceO2Group/Control core/integration/kafka/plugin.go @ 9770b1f5 (kafka.Message{Topic, Value}):
  // no record headers.
  const record = toKafkaRecord(bare);
  assert.equal((record.headers as Map<Buffer, Buffer>).size, 0);
  assert.equal(record.key!.toString(), 'k');
  // An empty key stays a zero-length key (assisted-service writes []byte("")), not a null one.
  assert.deepEqual(toKafkaRecord(m('e', { key: '', metadata: 'none' })).key, Buffer.alloc(0));
  assert.equal(toKafkaRecord(m('e', { metadata: 'none' })).key, undefined);
  // Herald's own default still writes the content-type header.
  assert.equal((toKafkaRecord({ ...bare, metadata: undefined }).headers as Map<Buffer, Buffer>).size, 1);
  // AMQP: RabbitMQEventBus.java @ f64aeb5e publishes MessageProperties.PERSISTENT_TEXT_PLAIN
  // (rabbitmq-java-client MessageProperties.java @ ce8cc54f: "text/plain", deliveryMode 2,
  // priority 0, nothing else). mandatory is a publish flag, not a message property.
  const opts = amqpPublishOptions(bare, 1_700_000_000_999);
  assert.deepEqual(opts, { persistent: true, mandatory: true, contentType: 'text/plain', priority: 0 });
  const frame = basicPublishFrame('x', 'a.b', opts);
  assert.deepEqual(Object.fromEntries(Object.entries(frame).filter(([, v]) => v !== undefined)),
    { exchange: 'x', routingKey: 'a.b', mandatory: true, immediate: false, contentType: 'text/plain', deliveryMode: 2, priority: 0 });
  // A message's own headers still go out (the profile asked for them).
  assert.deepEqual(amqpPublishOptions({ ...bare, headers: { h: '1' } }).headers, { h: '1' });
  // NATS: no content-type header; JetStream keeps Nats-Msg-Id (its de-duplication needs it),
  // core NATS gets no headers at all.
  assert.deepEqual(natsHeaderPairs(bare, 'ev'), [['Nats-Msg-Id', 'ev']]);
  assert.equal(toNatsHeaders(natsHeaderPairs(bare)), undefined);
});
