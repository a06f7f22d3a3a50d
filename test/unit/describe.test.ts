/**
 * The AsyncAPI document and the served schemas (src/describe): the document of a config with
 * one sink per transport and every profile validates with the official @asyncapi/parser (its
 * protobuf schema parser registered for the AliECS payloads); no credential of any sink setting
 * appears in it, as JSON or YAML; its channels are the topics the profiles' encoders produce; and
 * what each profile encodes validates against its served schema (Ajv 2020, protobufjs).
 *
 * Upstream facts checked here:
 * - AliECS topics aliecs.env_state.<STATE>, aliecs.env_leave_state.<STATE>, aliecs.env_list.<STATE>:
 *   AliceO2Group/Control core/integration/kafka/plugin.go (and its protos/kafka.proto fields).
 * - Choria subjects choria.lifecycle.event.<type>.<component> and choria.machine.transition:
 *   choria-io/go-choria lifecycle/lifecycle.go, aagent/machine/notifications.go; document
 *   fields: choria-io/schemas choria/lifecycle/v1/startup.json, upgraded.json,
 *   choria/machine/v1/transition.json (additionalProperties false).
 * - CloudStack routing key <source>.<category>.<type>.<resourceType>.<resourceUuid>:
 *   apache/cloudstack plugins/event-bus/rabbitmq RabbitMQEventBus.createRoutingKey.
 * - Assisted envelope {Name, Payload, Metadata}: openshift/assisted-service internal/stream;
 *   models.Event fields (event_time, message, severity required): models/event.go.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { ProtoBuffSchemaParser } from '@asyncapi/protobuf-schema-parser';
import { stringify } from 'yaml';
import { validateSinks, type SinkConfig } from '../../src/config/sinks.js';
import { createBindings } from '../../src/delivery/binding.js';
import { describeSinks, PROTOBUF_SCHEMA_FORMAT } from '../../src/describe/asyncapi.js';
import { samplesOf } from '../../src/describe/samples.js';
import { schemaCatalogue, schemaEntry, servedSchema } from '../../src/describe/schemas.js';
import { PROFILE_NAMES } from '../../src/profiles/registry.js';
import { UsageError } from '../../src/errors.js';
import { run as runDescribe } from '../../src/cli/describe.js';
import { toBatchRequest } from '../../src/transports/webhook/mapping.js';
import { assertPublishedValid, schemaProblems, validatorOf } from '../helpers/schemas.js';
import { ROOT } from '../helpers/env.js';

const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 0x5a).toString('base64')}`;
const WEBHOOK_SECRET_2 = `whsec_${Buffer.alloc(24, 0x33).toString('base64')}`;
const SECRETS = {
  kafkaPassword: 'kafka-sasl-Pa55word-zq81',
  natsToken: 'nats-token-9f8e7d6c5b',
  natsKeyToken: 'nats-key-token-1a2b3c4d',
  natsPassword: 'nats-pass-77zz',
  amqpPassword: 'amqp-pass-Q9w8e7',
  webhookHeader: 'Bearer hdr-secret-0011223344',
  webhookUrlPassword: 'urlpass-5566',
  webhookPathToken: 'T0KENabcdefgh1234567890xyz',
  webhookQuery: 'qsecret-aabbcc',
  credsSeed: 'SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTAM',
};

let dir: string;
let sinks: SinkConfig[];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-describe-'));
  const props = join(dir, 'producer.properties');
  writeFileSync(props, [
    'bootstrap.servers=127.0.0.1:19092',
    'security.protocol=SASL_PLAINTEXT',
    'sasl.mechanism=SCRAM-SHA-256',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="herald" password="${SECRETS.kafkaPassword}";`,
    '',
  ].join('\n'));
  const creds = join(dir, 'user.creds');
  writeFileSync(creds, `-----BEGIN NATS USER JWT-----\neyJhbGciOiJlZDI1NTE5In0.e30.x\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${SECRETS.credsSeed}\n------END USER NKEY SEED------\n`);
  sinks = validateSinks([
    // Every profile on Kafka (the broker with SASL credentials in the producer properties).
    ...PROFILE_NAMES.map((profile) => ({ name: `kafka-${profile}`, type: 'kafka', profile, producerProperties: props, ...(profile === 'cloudevents' && { topic: 'herald.events' }) })),
    { name: 'kafka-choria-plain', type: 'kafka', brokers: ['127.0.0.1:19092'], profile: 'choria', profileOptions: { format: 'plain' } },
    { name: 'nats-choria', type: 'nats', url: `nats://${SECRETS.natsToken}@127.0.0.1:4222`, profile: 'choria' },
    { name: 'nats-ce', type: 'nats', url: 'nats://127.0.0.1:4222', token: SECRETS.natsKeyToken, topic: 'herald.nats' },
    { name: 'nats-userpass', type: 'nats', url: `nats://herald:${SECRETS.natsPassword}@127.0.0.1:4222`, jetstream: false, profile: 'aliecs' },
    { name: 'nats-creds', type: 'nats', url: 'nats://127.0.0.1:4222', creds, profile: 'assisted' },
    { name: 'amqp-cloudstack', type: 'amqp', url: `amqp://guest:${SECRETS.amqpPassword}@127.0.0.1:5672/%2F`, profile: 'cloudstack', exchange: 'cloudstack' },
    { name: 'amqp-ce', type: 'amqp', url: `amqp://guest:${SECRETS.amqpPassword}@127.0.0.1:5672`, topic: 'herald.amqp' },
    { name: 'webhook-ce', type: 'webhook', url: `https://herald:${SECRETS.webhookUrlPassword}@hooks.example.com/services/${SECRETS.webhookPathToken}?token=${SECRETS.webhookQuery}`, secret: WEBHOOK_SECRET, headers: { Authorization: SECRETS.webhookHeader } },
    { name: 'webhook-rotating', type: 'webhook', url: 'https://hooks.example.com/in', secrets: [WEBHOOK_SECRET, WEBHOOK_SECRET_2], profile: 'cloudstack' },
    { name: 'webhook-batch', type: 'webhook', url: 'https://hooks.example.com/batch', secret: WEBHOOK_SECRET, mode: 'structured', batch: 10 },
    { name: 'stdout', type: 'stdout' },
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const doc = () => describeSinks(sinks, { env: {} });
type Channel = { address: string | null; parameters?: Record<string, { enum?: string[] }>; messages: Record<string, Record<string, unknown>>; servers: Array<{ $ref: string }> };
const channelsOf = (d: Record<string, unknown>, server: string): Channel[] =>
  Object.values(d.channels as Record<string, Channel>).filter((c) => c.servers[0]!.$ref === `#/servers/${server}`);

describe('the AsyncAPI document', () => {
  it('validates with @asyncapi/parser: no errors, no warnings', async () => {
    const parser = new Parser();
    parser.registerSchemaParser(ProtoBuffSchemaParser());
    const text = JSON.stringify(doc());
    const { document, diagnostics } = await parser.parse(text);
    // Severity 0 = error, 1 = warning (2 information, 3 hint: e.g. "a newer AsyncAPI version exists").
    const serious = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
    assert.deepEqual(serious, []);
    assert.ok(document !== undefined);
    assert.equal(document.version(), '3.0.0');
    // One server per sink that goes to a network (stdout is not one).
    assert.deepEqual(document.servers().all().map((s) => s.id()).sort(), sinks.filter((s) => s.type !== 'stdout').map((s) => s.name).sort());
    // The YAML form parses to the same document.
    const yaml = await parser.parse(stringify(doc(), { aliasDuplicateObjects: false }));
    assert.deepEqual(yaml.diagnostics.filter((d) => d.severity === 0), []);
    assert.equal(yaml.document?.channels().all().length, document.channels().all().length);
  });

  it('contains no credential of any sink setting, as JSON or YAML', () => {
    const d = doc();
    for (const text of [JSON.stringify(d), stringify(d, { aliasDuplicateObjects: false })]) {
      for (const [what, secret] of Object.entries({ ...SECRETS, WEBHOOK_SECRET, WEBHOOK_SECRET_2, webhookSecretBody: WEBHOOK_SECRET.slice(6), webhookHeaderToken: SECRETS.webhookHeader.split(' ')[1]! })) {
        assert.equal(text.includes(secret), false, `${what} appears in the document`);
      }
      assert.equal(/herald:[^@\s"]*@|guest:[^@\s"]*@/.test(text), false, 'no user info in a URL');
    }
    // ...while the servers are still described by host.
    const servers = d.servers as Record<string, { host: string; protocol: string; pathname?: string; security?: unknown }>;
    assert.equal(servers['kafka-aliecs']!.host, '127.0.0.1:19092');
    assert.ok(servers['kafka-aliecs']!.security !== undefined, 'the SASL mechanism is named as a security scheme');
    assert.equal(servers['nats-choria']!.host, '127.0.0.1:4222');
    assert.equal(servers['amqp-cloudstack']!.protocol, 'amqp');
    assert.equal(servers['webhook-ce']!.host, 'hooks.example.com');
    assert.equal(servers['webhook-ce']!.protocol, 'https');
  });

  it('has a channel per topic pattern each profile publishes to, with parameters', () => {
    const d = doc();
    const addresses = (server: string) => channelsOf(d, server).map((c) => c.address).sort();
    assert.deepEqual(addresses('kafka-aliecs'), ['aliecs.env_leave_state.{state}', 'aliecs.env_list.{state}', 'aliecs.env_state.{state}']);
    const enter = channelsOf(d, 'kafka-aliecs').find((c) => c.address === 'aliecs.env_state.{state}')!;
    assert.deepEqual(enter.parameters?.state?.enum, ['STANDBY', 'DEPLOYED', 'CONFIGURED', 'RUNNING', 'DONE', 'ERROR', 'UNKNOWN']);
    // The list goes out for the watched state only (RUNNING by default).
    assert.deepEqual(channelsOf(d, 'kafka-aliecs').find((c) => c.address === 'aliecs.env_list.{state}')!.parameters?.state?.enum, ['RUNNING']);
    assert.deepEqual(addresses('nats-choria'), ['choria.lifecycle.event.{type}.{component}', 'choria.machine.transition']);
    const lifecycle = channelsOf(d, 'nats-choria').find((c) => c.address!.startsWith('choria.lifecycle'))!;
    assert.deepEqual(lifecycle.parameters?.type?.enum, ['startup', 'shutdown', 'provisioned', 'alive', 'upgraded', 'governor']);
    assert.deepEqual(Object.keys(lifecycle.messages), ['startup', 'shutdown', 'provisioned', 'alive', 'upgraded', 'governor']);
    assert.deepEqual(addresses('amqp-cloudstack'), [
      '{source}.ActionEvent.{type}.{resourceType}.{resourceUuid}',
      '{source}.AlertEvent.{type}.*.*',
      '{source}.ResourceStateEvent.{type}.{resourceType}.{resourceUuid}',
      '{source}.UsageEvent.{type}.{resourceType}.{resourceUuid}',
    ]);
    assert.deepEqual(addresses('kafka-cloudstack'), ['cloudstack']);
    assert.deepEqual(addresses('kafka-assisted'), ['events-stream']);
    assert.deepEqual(addresses('kafka-cloudevents'), ['herald.events']);
    assert.deepEqual(addresses('nats-ce'), ['herald.nats']);
    // Every channel has a send operation naming all its messages.
    const ops = Object.values(d.operations as Record<string, { action: string; channel: { $ref: string }; messages: unknown[] }>);
    assert.equal(ops.length, Object.keys(d.channels as object).length);
    assert.ok(ops.every((o) => o.action === 'send' && o.messages.length > 0));
  });

  it('describes headers, keys and bindings as each transport writes them', () => {
    const d = doc();
    const msg = (server: string, address: string, name: string) => channelsOf(d, server).find((c) => c.address === address)!.messages[name]! as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const kce = msg('kafka-cloudevents', 'herald.events', 'event');
    assert.deepEqual(kce.headers.required, ['ce_id', 'ce_source', 'ce_specversion', 'ce_type', 'ce_time', 'ce_severity']);
    assert.equal(kce.headers.properties.ce_specversion.const, '1.0');
    assert.ok(kce.bindings.kafka.key !== undefined, 'the record key is described');
    // NATS: structured CloudEvents, JetStream de-duplication id.
    const nce = msg('nats-ce', 'herald.nats', 'event');
    assert.deepEqual(Object.keys(nce.headers.properties).sort(), ['Nats-Msg-Id', 'content-type']);
    assert.equal(nce.payload.$ref, '#/components/schemas/cloudevents-event');
    // Choria on NATS: no headers but JetStream's id; AliECS on core NATS: no headers at all.
    assert.deepEqual(Object.keys(msg('nats-choria', 'choria.machine.transition', 'transition').headers.properties), ['Nats-Msg-Id']);
    assert.equal(msg('nats-userpass', 'aliecs.env_state.{state}', 'NewStateNotification').headers, undefined);
    // AliECS payload: the .proto, root message marked.
    const ali = msg('kafka-aliecs', 'aliecs.env_list.{state}', 'ActiveRunsList');
    assert.equal(ali.payload.schemaFormat, PROTOBUF_SCHEMA_FORMAT);
    assert.match(ali.payload.schema, /@RootNode\nmessage ActiveRunsList/);
    assert.equal(ali.headers, undefined, 'AliECS sends bare records');
    // CloudStack over AMQP: PERSISTENT_TEXT_PLAIN, no headers table.
    const cs = msg('amqp-cloudstack', '{source}.ActionEvent.{type}.{resourceType}.{resourceUuid}', 'ActionEvent');
    assert.equal(cs.contentType, 'text/plain');
    assert.equal(cs.headers, undefined);
    assert.deepEqual(cs['x-herald-amqp-properties'], { delivery_mode: 2, content_type: 'text/plain', priority: 0 });
    const csChannel = channelsOf(d, 'amqp-cloudstack')[0]! as unknown as { bindings: { amqp: { is: string; exchange: { name: string; vhost: string } } } };
    assert.equal(csChannel.bindings.amqp.is, 'routingKey');
    assert.equal(csChannel.bindings.amqp.exchange.name, 'cloudstack');
    assert.equal(csChannel.bindings.amqp.exchange.vhost, '/');
    // AMQP CloudEvents: cloudEvents_ application properties.
    assert.ok('cloudEvents_id' in msg('amqp-ce', 'herald.amqp', 'event').headers.properties);
    // Webhook: ce- headers, Standard Webhooks headers, and none of the configured headers.
    const wh = msg('webhook-ce', null as unknown as string, 'event');
    assert.ok(['ce-id', 'webhook-id', 'webhook-timestamp', 'webhook-signature'].every((h) => h in wh.headers.properties));
    assert.equal('authorization' in wh.headers.properties, false);
    assert.equal(wh.bindings.http.bindingVersion, '0.3.0');
    // Batched webhook: one message per request, an array of structured events with its own schema.
    const [batchChannel, ...others] = channelsOf(d, 'webhook-batch');
    assert.equal(others.length, 0);
    assert.deepEqual(Object.keys(batchChannel!.messages), ['batch']);
    const batch = batchChannel!.messages.batch as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(batch.contentType, 'application/cloudevents-batch+json; charset=UTF-8');
    assert.equal(batch.payload.$ref, '#/components/schemas/cloudevents-batch');
    assert.equal(batch['x-herald-schema'], '/v2/schemas/cloudevents/batch');
    assert.equal(Object.keys(batch.headers.properties).some((h) => h.startsWith('ce-')), false, 'no ce- headers: the events are structured');
    assert.ok(['content-type', 'webhook-id', 'webhook-signature'].every((h) => h in batch.headers.properties));
    const components = (d.components as { schemas: Record<string, { type?: string; items?: unknown }> }).schemas;
    assert.equal(components['cloudevents-batch']!.type, 'array');
    assert.deepEqual(components['cloudevents-batch']!.items, schemaEntry('cloudevents', 'event').schema);
  });
});

describe('the served schemas', () => {
  it('lists a schema for every profile, and every JSON schema compiles with Ajv 2020 (strict)', () => {
    const all = schemaCatalogue();
    assert.deepEqual([...new Set(all.map((e) => e.profile))].sort(), [...PROFILE_NAMES].sort());
    for (const e of all) {
      if (e.schema === undefined) continue;
      const served = servedSchema(e);
      assert.equal(served.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(served.$id, `/v2/schemas/${e.profile}/${e.name}`);
      validatorOf(e.profile, e.name);
    }
    assert.match(schemaEntry('aliecs', 'aliecs.proto').text!, /message NewStateNotification/);
    assert.throws(() => schemaEntry('choria', 'nope'), /no schema choria\/nope; choria has startup/);
  });

  it('every message each profile encodes validates against its served schema', () => {
    for (const profile of PROFILE_NAMES) {
      for (const [transport, extra] of [['kafka', {}], ['nats', {}], ['amqp', {}], ['kafka', { profileOptions: profile === 'choria' ? { format: 'plain' } : profile === 'assisted' ? { capitalized: false } : {} }], ['kafka', profile === 'cloudevents' ? { mode: 'structured' } : {}]] as const) {
        const config = { name: 's', type: transport, profile, ...(transport === 'kafka' ? { brokers: ['h:1'] } : { url: `${transport}://h:1` }), ...extra } as SinkConfig;
        const [binding] = createBindings(validateSinks([config]), { env: {} });
        let n = 0;
        for (const s of samplesOf(profile)) {
          for (const m of binding!.encode(s.event)) {
            const headers: Record<string, string> = { ...(m.contentType !== undefined && { 'content-type': m.contentType }) };
            for (const [k, v] of Object.entries(m.ceAttributes ?? {})) headers[`ce_${k}`] = v;
            assertPublishedValid(profile, { topic: m.topic, value: m.value, headers });
            n++;
          }
        }
        assert.ok(n > 0, `${profile} on ${transport} published something`);
      }
    }
  });

  it('a batched webhook request of the samples validates against cloudevents/batch', () => {
    const [binding] = createBindings(validateSinks([{ name: 'b', type: 'webhook', url: 'https://h.example/in', mode: 'structured', batch: 5 } as SinkConfig]), { env: {} });
    const messages = samplesOf('cloudevents').flatMap((s) => binding!.encode(s.event));
    const request = toBatchRequest(messages, messages.map((m) => m.eventId));
    assert.equal(assertPublishedValid('cloudevents', { transport: 'webhook', topic: '/in', value: request.body, headers: request.headers }), 'batch');
    assert.equal((JSON.parse(request.body!.toString()) as unknown[]).length, messages.length);
  });

  it('refuses what the profiles never publish', () => {
    // choria-io/schemas choria/machine/v1/transition.json: additionalProperties false.
    const transition = { protocol: 'io.choria.machine.v1.transition', identity: 'n1', id: 'i', version: '1', timestamp: 1, machine: 'm', transition: 't', from_state: 'a', to_state: 'b' };
    assert.deepEqual(schemaProblems('choria', 'transition', transition), []);
    assert.notDeepEqual(schemaProblems('choria', 'transition', { ...transition, extra: 1 }), []);
    assert.notDeepEqual(schemaProblems('choria', 'startup', { protocol: 'io.choria.lifecycle.v1.startup', id: 'x', identity: 'n', component: 'server', timestamp: 1 }), [], 'startup needs a version');
    // openshift/assisted-service models/event.go: severity info|warning|error|critical.
    assert.notDeepEqual(schemaProblems('assisted', 'Event', { Name: 'Event', Payload: { event_time: '2026-01-01T00:00:00.000Z', message: '', severity: 'debug' }, Metadata: { versions: {} } }), []);
    assert.notDeepEqual(schemaProblems('cloudstack', 'ActionEvent', { event: 'VM.CREATE', eventDateTime: '2026-01-01T00:00:00Z' }), [], 'eventDateTime is yyyy-MM-dd HH:mm:ss Z');
    assert.notDeepEqual(schemaProblems('cloudevents', 'event', { specversion: '1.0', id: 'x', source: 's', type: 't', time: '2026-01-01T00:00:00Z', severity: 'loud' }), []);
    // CloudEvents JSON batch format: an array of structured events, each checked as one.
    const ce = { specversion: '1.0', id: 'x', source: 's', type: 't', time: '2026-01-01T00:00:00Z' };
    assert.deepEqual(schemaProblems('cloudevents', 'batch', [ce, { ...ce, id: 'y', data: { n: 1 } }]), []);
    assert.notDeepEqual(schemaProblems('cloudevents', 'batch', ce), [], 'a single event is no batch');
    assert.notDeepEqual(schemaProblems('cloudevents', 'batch', [ce, { ...ce, id: undefined }]), [], 'every item needs an id');
  });
});

describe('herald describe', () => {
  const capture = async (argv: string[]): Promise<string> => {
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as typeof process.stdout.write;
    try {
      assert.equal(await runDescribe(argv), 0);
    } finally {
      process.stdout.write = write;
    }
    return out;
  };

  it('prints the document as JSON or YAML', async () => {
    const file = join(dir, 'herald.yaml');
    writeFileSync(file, `sinks:\n  - name: k\n    type: kafka\n    brokers: [127.0.0.1:19092]\n    profile: aliecs\n  - name: a\n    type: amqp\n    url: amqp://guest:${SECRETS.amqpPassword}@127.0.0.1:5672\n`);
    const json = JSON.parse(await capture(['--config', file])) as { asyncapi: string; servers: Record<string, unknown> };
    assert.equal(json.asyncapi, '3.0.0');
    assert.deepEqual(Object.keys(json.servers), ['k', 'a']);
    const yaml = await capture(['--config', file, '--format', 'yaml']);
    assert.match(yaml, /^asyncapi: 3\.0\.0$/m);
    assert.match(yaml, /address: aliecs\.env_state\.\{state\}/);
    assert.equal(yaml.includes(SECRETS.amqpPassword), false);
  });

  it('bad input: a UsageError naming the flag, exit 2 from the command line', async () => {
    await assert.rejects(runDescribe(['--config', 'x.yaml', '--format', 'xml']), (err: unknown) => err instanceof UsageError && err.details.some((p) => p.path === '--format'));
    const env = { ...process.env, HERALD_CONFIG: '' };
    await assert.rejects(runDescribe([]).finally(() => undefined), (err: unknown) => err instanceof UsageError && err.details[0]?.path === '--config');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'describe', '--format', 'xml', '--config', 'x.yaml'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format/);
  });
});
