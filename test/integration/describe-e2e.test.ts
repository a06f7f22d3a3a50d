/**
 * The AsyncAPI document against what the real brokers carry: one config with Kafka, NATS and
 * RabbitMQ sinks of several profiles; each sink publishes through its own binding and sink, a
 * reader of the same broker reads the messages back, and every topic / subject / routing key
 * really used matches a channel of that sink in `GET /asyncapi.json`, every header really sent
 * is one the message describes (and every header it marks required is there), and every
 * payload validates against the schema `GET /v2/schemas/{profile}/{name}` serves (Ajv 2020);
 * the served AliECS .proto decodes the published bytes (protobufjs).
 *
 * Upstream facts: AliECS topics and messages (AliceO2Group/Control core/integration/kafka/
 * plugin.go, protos/kafka.proto); Choria subjects (choria-io/go-choria lifecycle/lifecycle.go);
 * CloudStack routing keys (apache/cloudstack plugins/event-bus/rabbitmq RabbitMQEventBus.java);
 * the Assisted envelope (openshift/assisted-service internal/stream).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import type { SinkConfig } from '../../src/config/sinks.js';
import { createBindings, type SinkBinding } from '../../src/delivery/binding.js';
import { describeConfig } from '../../src/describe/asyncapi.js';
import { schemaEntry, servedSchema } from '../../src/describe/schemas.js';
import { ENTITY_EVENT_TYPES } from '../../src/events/entity-states.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { silentLogger } from '../../src/log.js';
import { lifecycle, machine } from '../../src/profiles/choria.js';
import { createKafkaSource } from '../../src/transports/kafka/source.js';
import { TRANSPORTS } from '../../src/transports/registry.js';
import type { ReceivedMessage, Source } from '../../src/transports/types.js';
import { appOn } from '../helpers/app.js';
import { amqpUrl, kafkaBrokers, natsUrl, uniqueName } from '../helpers/env.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';
import { assertPublishedValid, decodeWithServedProto, schemaNameOf } from '../helpers/schemas.js';

const run = uniqueName('describe');
const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
const topicCe = `${run}.ce`;
const topicAssisted = `${run}.assisted`;
const natsCe = `${safe(run)}.ce`;
const stream = safe(`DESCRIBE_${run}`);
const component = safe(`comp-${run}`);
const envId = safe(`env-${run}`);

const sinks = [
  { name: 'kafka-ce', type: 'kafka', brokers: kafkaBrokers().split(','), topic: topicCe },
  { name: 'kafka-aliecs', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'aliecs' },
  { name: 'kafka-assisted', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'assisted', topic: topicAssisted },
  { name: 'nats-choria', type: 'nats', url: natsUrl(), profile: 'choria', jetstream: false },
  { name: 'nats-ce', type: 'nats', url: natsUrl(), topic: natsCe, createStream: true, stream, subjects: [natsCe] },
  { name: 'amqp-cloudstack', type: 'amqp', url: amqpUrl(), profile: 'cloudstack', exchange: safe(`${run}-cs`) },
  { name: 'amqp-ce', type: 'amqp', url: amqpUrl(), exchange: safe(`${run}-ce`), topic: 'herald.events' },
] as SinkConfig[];

const TIME = new Date().toISOString();
const enter = (kind: string, id: string, state: string, attributes: Record<string, unknown>): HeraldEvent => createEvent({
  source: 'describe-test', type: ENTITY_EVENT_TYPES.enter, entity: { kind, id },
  data: { kind, id, state, previous: null, enteredAt: TIME, changed: true, attributes },
});

/** The events each sink publishes. */
const EVENTS: Record<string, () => HeraldEvent[]> = {
  'kafka-ce': () => [createEvent({ source: 'describe-test', type: 'dev.herald.test.describe', subject: 's1', entity: { kind: 'job', id: 'j1' }, data: { run } })],
  'kafka-aliecs': () => [
    enter('environment', envId, 'RUNNING', { runNumber: 42, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] }),
    createEvent({ source: 'describe-test', type: ENTITY_EVENT_TYPES.list, data: { kind: 'environment', state: 'RUNNING', entities: [{ id: envId, state: 'RUNNING', enteredAt: TIME, attributes: { runNumber: 42, detectors: ['ITS'] } }] } }),
  ],
  'kafka-assisted': () => [
    createEvent({ source: 'assisted-service', type: 'host_registration_succeeded', entity: { kind: 'cluster', id: 'c-1' }, message: `registered ${run}`, data: { request_id: 'r-1' } }),
    enter('cluster', 'c-1', 'READY', { name: run, openshift_version: '4.16' }),
  ],
  'nats-choria': () => [
    lifecycle.startup({ identity: `n-${run}`, component, version: '1.0.0' }),
    machine.transition({ identity: `n-${run}`, machine: 'm1', version: '1.0.0', transition: 'fail', fromState: 'ok', toState: 'critical' }),
  ],
  'nats-ce': () => [createEvent({ source: 'describe-test', type: 'dev.herald.test.describe', data: { run } })],
  'amqp-cloudstack': () => [
    createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'VirtualMachine', id: 'vm-1' }, data: { event: 'VM.CREATE', status: 'Completed', description: run } }),
    createEvent({ source: 'management-server', type: 'cloudstack.ResourceStateEvent', subject: 'StartRequested', data: { resource: 'VirtualMachine', id: 'vm-1', 'old-state': 'Stopped', 'new-state': 'Starting' } }),
  ],
  'amqp-ce': () => [createEvent({ source: 'describe-test', type: 'dev.herald.test.describe', entity: { kind: 'job', id: 'j2' }, data: { run } })],
};

let ts: TestStore;
let app: FastifyInstance;
let bindings: SinkBinding[];
let doc: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

before(async () => {
  const config = loadConfig({ env: {}, overrides: { sinks, store: { url: 'sqlite::memory:' } } as never });
  ts = await openTestStore('sqlite', 'describe');
  app = await appOn(ts.store, config);
  bindings = createBindings(config.sinks, { env: {} });
  const res = await app.inject({ method: 'GET', url: '/asyncapi.json' });
  assert.equal(res.statusCode, 200);
  doc = res.json();
});
after(async () => {
  await app?.close();
  await ts?.dispose();
});

/** Reads until `want` messages matched `mine`, or the limit passes. */
async function collect(source: Source, mine: (m: ReceivedMessage) => boolean, want: number, limitMs = 30_000): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const timer = setTimeout(() => void source.close(), limitMs);
  try {
    for await (const m of source.messages()) {
      if (mine(m)) out.push(m);
      if (out.length >= want) break;
    }
  } finally {
    clearTimeout(timer);
    await source.close();
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
/** The channels of a sink whose address (parameters as one segment each) matches `topic`. */
function channelFor(sink: string, topic: string): Record<string, any> | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  return Object.values(doc.channels as Record<string, any>).find((c) => c.servers[0].$ref === `#/servers/${sink}` // eslint-disable-line @typescript-eslint/no-explicit-any
    && new RegExp(`^${escape(c.address as string).replace(/\\\{\w+\\\}|\{\w+\}/g, '[^.]+')}$`).test(topic));
}

/** Headers a reader shows that are not message headers (AMQP properties, shown by the source). */
const NOT_HEADERS: Record<string, string[]> = { amqp: ['content-type', 'message-id'], kafka: [], nats: [] };

async function check(sinkName: string, profile: string, received: ReceivedMessage[]): Promise<void> {
  const transport = sinks.find((s) => s.name === sinkName)!.type;
  for (const m of received) {
    const channel = channelFor(sinkName, m.topic);
    assert.ok(channel !== undefined, `${sinkName}: ${m.topic} is a channel of the document`);
    const name = schemaNameOf(profile, { topic: m.topic, value: m.value, headers: m.headers });
    const message = Object.values(channel.messages as Record<string, any>).find((x) => x['x-herald-schema'] === `/v2/schemas/${profile}/${name}`); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(message !== undefined, `${sinkName}: ${m.topic} carries a message with schema ${profile}/${name}`);
    const sent = Object.keys(m.headers).filter((h) => !NOT_HEADERS[transport]!.includes(h.toLowerCase()));
    const described = Object.keys(message.headers?.properties ?? {});
    assert.deepEqual(sent.filter((h) => !described.includes(h)), [], `${sinkName}: every header sent on ${m.topic} is described`);
    for (const h of (message.headers?.required ?? []) as string[]) assert.ok(sent.includes(h), `${sinkName}: required header ${h} was sent`);
    // The served schema (over HTTP) is the one the helper validates with.
    const res = await app.inject({ method: 'GET', url: `/v2/schemas/${profile}/${name}` });
    assert.equal(res.statusCode, 200);
    if (profile === 'aliecs') {
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      const decoded = decodeWithServedProto(m.topic, m.value, res.body);
      const ids = 'envInfo' in decoded ? [(decoded.envInfo as { environmentId: string }).environmentId] : (decoded.activeRuns as Array<{ environmentId: string }>).map((e) => e.environmentId);
      assert.ok(ids.includes(envId), `the served .proto decodes ${m.topic}`);
    } else {
      assert.deepEqual(res.json(), servedSchema(schemaEntry(profile, name)));
      assertPublishedValid(profile, { topic: m.topic, value: m.value, headers: m.headers });
    }
  }
}

async function publish(binding: SinkBinding, events: HeraldEvent[]): Promise<number> {
  const sink = await binding.createSink({ logger: silentLogger });
  try {
    const messages = events.flatMap((e) => binding.encode(e));
    const outcomes = await sink.publish(messages);
    assert.ok(outcomes.every((o) => o.ok), `${binding.name}: every message acknowledged`);
    return messages.length;
  } finally {
    await sink.close();
  }
}

const bindingOf = (name: string) => bindings.find((b) => b.name === name)!;

test('GET /asyncapi.yaml is the same document; schemas: list, 404 naming the schema, 400 for a bad name', async () => {
  const yaml = await app.inject({ method: 'GET', url: '/asyncapi.yaml' });
  assert.equal(yaml.statusCode, 200);
  assert.match(yaml.headers['content-type'] as string, /^application\/yaml/);
  assert.deepEqual(parseYaml(yaml.body), doc);
  assert.deepEqual(doc, JSON.parse(JSON.stringify(describeConfig({ sinks: loadConfig({ env: {}, overrides: { sinks } as never }).sinks }, { env: {} }))));
  const list = (await app.inject({ method: 'GET', url: '/v2/schemas' })).json() as Array<{ profile: string; name: string; url: string }>;
  assert.ok(list.some((e) => e.profile === 'aliecs' && e.url === '/v2/schemas/aliecs/aliecs.proto'));
  assert.ok(list.some((e) => e.profile === 'choria' && e.name === 'transition.cloudevent'));
  // Batched webhooks' body: an array of structured CloudEvents, served like every JSON schema.
  assert.ok(list.some((e) => e.profile === 'cloudevents' && e.name === 'batch' && e.url === '/v2/schemas/cloudevents/batch'));
  const batch = await app.inject({ method: 'GET', url: '/v2/schemas/cloudevents/batch' });
  assert.equal(batch.statusCode, 200);
  assert.deepEqual(batch.json(), servedSchema(schemaEntry('cloudevents', 'batch')));
  assert.equal(batch.json().type, 'array');
  const missing = await app.inject({ method: 'GET', url: '/v2/schemas/choria/nope' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().details[0].path, 'name');
  const bad = await app.inject({ method: 'GET', url: '/v2/schemas/choria/no%20pe' });
  assert.equal(bad.statusCode, 400);
  assert.match(JSON.stringify(bad.json().details), /name/);
});

test('Kafka: cloudevents, aliecs and assisted records match their channels, headers and schemas', async () => {
  for (const [sinkName, profile, topics] of [
    ['kafka-ce', 'cloudevents', [topicCe]],
    ['kafka-aliecs', 'aliecs', ['aliecs.env_state.RUNNING', 'aliecs.env_list.RUNNING']],
    ['kafka-assisted', 'assisted', [topicAssisted]],
  ] as const) {
    const n = await publish(bindingOf(sinkName), EVENTS[sinkName]!());
    const source = createKafkaSource({ brokers: kafkaBrokers().split(','), topics: [...topics], from: 'beginning' });
    const mine = (m: ReceivedMessage) => m.value !== null && (profile === 'aliecs' ? m.value.includes(Buffer.from(envId)) : true);
    const got = await collect(source, mine, n);
    assert.equal(got.length, n, `${sinkName}: read back what it published`);
    await check(sinkName, profile, got);
  }
});

test('NATS: choria subjects (core) and a JetStream cloudevents subject match the document', async () => {
  const createNatsSource = await TRANSPORTS.nats.loadSource!();
  for (const [sinkName, profile, subjects] of [['nats-choria', 'choria', [`choria.lifecycle.event.startup.${component}`, 'choria.machine.transition']], ['nats-ce', 'cloudevents', [natsCe]]] as const) {
    const source = createNatsSource({ url: natsUrl(), subjects: [...subjects] }, {});
    await source.start?.();
    const n = await publish(bindingOf(sinkName), EVENTS[sinkName]!());
    const got = await collect(source, (m) => m.value?.includes(Buffer.from(run)) === true || m.value?.includes(Buffer.from(`n-${run}`)) === true, n);
    assert.equal(got.length, n, `${sinkName}: read back what it published`);
    await check(sinkName, profile, got);
  }
  // The JetStream sink's messages carry Nats-Msg-Id, which the document describes.
  const ce = Object.values(channelFor('nats-ce', natsCe)!.messages as Record<string, any>)[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.ok('Nats-Msg-Id' in ce.headers.properties);
  const { connect } = await import('nats');
  const nc = await connect({ servers: natsUrl() });
  await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
  await nc.close();
});

test('RabbitMQ: cloudstack routing keys and cloudevents application properties match the document', async () => {
  const createAmqpSource = await TRANSPORTS.amqp.loadSource!();
  for (const [sinkName, profile] of [['amqp-cloudstack', 'cloudstack'], ['amqp-ce', 'cloudevents']] as const) {
    const exchange = (sinks.find((s) => s.name === sinkName) as { exchange: string }).exchange;
    const source = createAmqpSource({ url: amqpUrl(), exchange, binding: ['#'] }, {});
    await source.start?.();
    const n = await publish(bindingOf(sinkName), EVENTS[sinkName]!());
    const got = await collect(source, () => true, n);
    assert.equal(got.length, n, `${sinkName}: read back what it published`);
    if (profile === 'cloudstack') assert.deepEqual(got.map((m) => m.topic).sort(), ['management-server.ActionEvent.VM-CREATE.VirtualMachine.vm-1', 'management-server.ResourceStateEvent.StartRequested.VirtualMachine.vm-1', 'management-server.ResourceStateEvent.StartRequested.VirtualMachine.vm-1']);
    await check(sinkName, profile, got);
  }
});
