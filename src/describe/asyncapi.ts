/**
 * The AsyncAPI 3.0 document of what a configuration publishes: one server per sink (no
 * credentials: hosts, ports, vhosts, exchanges and paths only), one channel per topic /
 * subject / routing-key pattern each sink's profile publishes to, with parameters for the parts
 * that vary (`{state}`, `{type}`, `{component}`, ...), a `send` operation per channel, and the
 * messages each channel carries with their payload schema (schemas.ts), headers and key, and
 * the Kafka / NATS / AMQP / HTTP bindings objects.
 *
 * Nothing here restates a topic rule or a header mapping: every channel and header is read off
 * the messages the sink's own binding encodes for the profile's sample events (samples.ts) and
 * the transport's own mapping functions turn into the wire form (Kafka record headers, NATS
 * header pairs, AMQP publish options, the webhook request), so the document changes with the code.
 */
import { readFileSync } from 'node:fs';
import type { HeraldConfig } from '../config/schema.js';
import { resolveSinks, type SinkConfig } from '../config/sinks.js';
import { SinkBinding } from '../delivery/binding.js';
import type { HeraldEvent } from '../events/schema.js';
import type { OutgoingMessage } from '../messages.js';
import type { AmqpResolved } from '../transports/amqp/index.js';
import { amqpPublishOptions } from '../transports/amqp/mapping.js';
import type { KafkaResolved } from '../transports/kafka/index.js';
import { toKafkaRecord } from '../transports/kafka/mapping.js';
import type { NatsResolved } from '../transports/nats/index.js';
import { MSG_ID_HEADER, natsHeaderPairs } from '../transports/nats/mapping.js';
import type { WebhookResolved } from '../transports/webhook/index.js';
import { BATCH_CONTENT_TYPE, toBatchRequest, toWebhookRequest } from '../transports/webhook/mapping.js';
import { WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from '../transports/webhook/signature.js';
import { samplesOf, type Sample, type SampleParam } from './samples.js';
import { aliecsProtoFor, ALIECS_MESSAGES, CLOUDEVENT_ATTRIBUTES, SCHEMA_PATH, schemaCatalogue, type JsonSchema } from './schemas.js';

export type AsyncApiDocument = Record<string, unknown>;

export interface DescribeOptions {
  /** Environment for the transports' variables (HERALD_KAFKA_*, NATS_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** `info.version`; default Herald's package version. */
  version?: string;
}

/** The media type of a protobuf payload schema in AsyncAPI. */
export const PROTOBUF_SCHEMA_FORMAT = 'application/vnd.google.protobuf;version=3';

/** Transports a document describes (stdout is a local stream, not a server). */
const DESCRIBED = new Set(['kafka', 'nats', 'amqp', 'webhook']);

const BINDING_VERSIONS = { kafka: '0.5.0', nats: '0.1.0', amqp: '0.3.0', http: '0.3.0' } as const;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** A key usable as an AsyncAPI component / channel / operation id. */
const idOf = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';

// ---- What one sink's binding really produces --------------------------------------------

interface WireHeaders {
  /** Header names and their values in this message. */
  headers: Map<string, string>;
  /** AMQP: the properties the publish sets besides headers. */
  properties?: Record<string, unknown>;
}

/** The headers a message gets on the sink's transport, by the transport's own mapping. */
function wireHeaders(binding: SinkBinding, m: OutgoingMessage, resolved: unknown): WireHeaders {
  const out = new Map<string, string>();
  switch (binding.config.type) {
    case 'kafka': {
      for (const [k, v] of toKafkaRecord(m).headers as Map<Buffer, Buffer>) out.set(k.toString('utf8'), v.toString('utf8'));
      return { headers: out };
    }
    case 'nats': {
      const js = (resolved as NatsResolved).jetstream;
      for (const [k, v] of natsHeaderPairs(m, js ? m.eventId : undefined)) out.set(k, v);
      return { headers: out };
    }
    case 'amqp': {
      const o = amqpPublishOptions(m, Date.parse('2026-01-01T00:00:00Z'));
      for (const [k, v] of Object.entries(o.headers ?? {})) out.set(k, String(v));
      const properties: Record<string, unknown> = { delivery_mode: o.persistent ? 2 : 1 };
      if (o.contentType !== undefined) properties.content_type = o.contentType;
      if (o.messageId !== undefined) properties.message_id = 'the event id';
      if (o.timestamp !== undefined) properties.timestamp = 'publish time, Unix seconds';
      if (o.priority !== undefined) properties.priority = o.priority;
      return { headers: out, properties };
    }
    case 'webhook': {
      const r = resolved as WebhookResolved;
      // Batched mode sends the request of the batch, not the message's own (no ce- headers either way: it is structured).
      const request = r.batch !== undefined ? toBatchRequest([m], [m.eventId]) : toWebhookRequest(m, m.eventId);
      for (const [k, v] of Object.entries(request.headers)) out.set(k, v);
      out.set(WEBHOOK_ID, m.eventId);
      out.set(WEBHOOK_TIMESTAMP, '0');
      if (r.keys.length > 0) out.set(WEBHOOK_SIGNATURE, '');
      return { headers: out };
    }
    default:
      return { headers: out };
  }
}

/** A topic with the samples' marker / enumerated values as `{name}` parameters. */
function parametrize(topic: string, params: Readonly<Record<string, SampleParam>>): { address: string; used: Map<string, SampleParam> } {
  const used = new Map<string, SampleParam>();
  const segments = topic.split('.').map((seg) => {
    for (const [name, p] of Object.entries(params)) {
      if (seg === p.value) {
        used.set(name, p);
        return `{${name}}`;
      }
    }
    return seg;
  });
  return { address: segments.join('.'), used };
}

interface MessageStats {
  name: string;
  schema: string;
  format?: 'protobuf';
  count: number;
  keyed: number;
  headers: Map<string, { count: number; values: Set<string> }>;
  contentTypes: Set<string>;
  properties?: Record<string, unknown>;
}

interface ChannelStats {
  address: string;
  params: Map<string, { param: SampleParam; values: Set<string> }>;
  messages: Map<string, MessageStats>;
}

/** A sample's event as far as the sink's filter goes: only a type filter changes what a profile publishes. */
function passesTypeFilter(binding: SinkBinding, event: HeraldEvent): boolean {
  const types = binding.config.filter?.types;
  return binding.profile.name === 'cloudevents' || types === undefined || types.length === 0 || types.includes(event.type);
}

/** The channels of one sink, derived from the messages its binding encodes. */
function channelsOf(binding: SinkBinding, resolved: unknown): ChannelStats[] {
  const channels = new Map<string, ChannelStats>();
  const samples = samplesOf(binding.profile.name);
  const byTopic = new Map<string, Sample>();
  // A batched webhook sink sends no single event: each request is an array of them
  // (application/cloudevents-batch+json), a message of its own with the batch schema.
  const batched = binding.config.type === 'webhook' && (resolved as WebhookResolved).batch !== undefined;
  const record = (sample: Pick<Sample, 'message' | 'schema' | 'format' | 'params'>, m: OutgoingMessage) => {
    const { address, used } = parametrize(m.topic, sample.params);
    let ch = channels.get(address);
    if (ch === undefined) {
      ch = { address, params: new Map(), messages: new Map() };
      channels.set(address, ch);
    }
    for (const [name, p] of used) {
      const entry = ch.params.get(name) ?? { param: p, values: new Set<string>() };
      entry.values.add(p.value);
      ch.params.set(name, entry);
    }
    const name = batched ? 'batch' : sample.message;
    const schema = batched ? 'cloudevents/batch' : sample.schema(binding.ctx);
    let ms = ch.messages.get(name);
    if (ms === undefined) {
      ms = { name, schema, ...(sample.format !== undefined && { format: sample.format }), count: 0, keyed: 0, headers: new Map(), contentTypes: new Set() };
      ch.messages.set(name, ms);
    }
    ms.count++;
    if (m.key !== undefined) ms.keyed++;
    const contentType = batched ? BATCH_CONTENT_TYPE : m.contentType;
    if (contentType !== undefined) ms.contentTypes.add(contentType);
    const wire = wireHeaders(binding, m, resolved);
    for (const [k, v] of wire.headers) {
      const h = ms.headers.get(k) ?? { count: 0, values: new Set<string>() };
      h.count++;
      h.values.add(v);
      ms.headers.set(k, h);
    }
    if (wire.properties !== undefined) ms.properties = { ...ms.properties, ...wire.properties };
  };
  for (const sample of samples) {
    if (!passesTypeFilter(binding, sample.event)) continue;
    let messages: OutgoingMessage[];
    try {
      messages = binding.encode(sample.event);
    } catch {
      continue; // a sample this sink's options do not allow (e.g. a disabled category)
    }
    for (const m of messages) {
      record(sample, m);
      if (!byTopic.has(m.topic)) byTopic.set(m.topic, sample);
    }
  }
  // What a relay announces at start (aliecs: an empty list on the watched state), as the
  // message of the sample that publishes to the same topic.
  for (const m of binding.startMessages()) {
    const sample = byTopic.get(m.topic);
    if (sample !== undefined) record(sample, m);
  }
  if (samples.length === 0) {
    // A profile without samples: its messages go to the sink's topic, payload undescribed.
    channels.set(binding.topic, { address: binding.topic, params: new Map(), messages: new Map([['message', { name: 'message', schema: '', count: 1, keyed: 0, headers: new Map(), contentTypes: new Set() }]]) });
  }
  return [...channels.values()];
}

// ---- Servers -----------------------------------------------------------------------------

interface ServerPart {
  server: Record<string, unknown>;
  security?: Record<string, unknown>;
}

const hostOf = (url: string): { host: string; pathname?: string; protocol: string } => {
  const u = new URL(url);
  return { host: u.host, ...(u.pathname !== '' && u.pathname !== '/' && { pathname: u.pathname }), protocol: u.protocol.replace(/:$/, '') };
};

function serverOf(binding: SinkBinding, resolved: unknown): ServerPart {
  const c = binding.config;
  const description = `sink ${c.name} (profile ${binding.profile.name})`;
  switch (c.type) {
    case 'kafka': {
      const conn = (resolved as KafkaResolved).conn;
      const protocol = conn.security?.protocol ?? 'PLAINTEXT';
      const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
      const mechanism = conn.security?.sasl?.mechanism;
      const security = mechanism === undefined ? undefined
        : { type: mechanism === 'PLAIN' ? 'plain' : mechanism === 'SCRAM-SHA-256' ? 'scramSha256' : 'scramSha512', description: `SASL ${mechanism} (${protocol}); credentials from the sink's producer properties or HERALD_KAFKA_* variables` };
      return {
        server: {
          host: conn.brokers[0]!, protocol: tls ? 'kafka-secure' : 'kafka',
          description: `${description}; bootstrap servers ${conn.brokers.join(', ')}; security.protocol ${protocol}`,
          'x-herald-bootstrap-servers': [...conn.brokers],
          bindings: { kafka: { bindingVersion: BINDING_VERSIONS.kafka } },
        },
        ...(security !== undefined && { security }),
      };
    }
    case 'nats': {
      const r = resolved as NatsResolved;
      const tls = r.settings.tls !== undefined;
      return {
        server: {
          host: r.settings.servers[0]!, protocol: 'nats',
          description: `${description}; ${r.jetstream ? `JetStream stream ${r.stream} (acknowledged publishes, de-duplicated by Nats-Msg-Id)` : 'core NATS'}${tls ? '; TLS' : ''}; servers ${r.settings.servers.join(', ')}`,
          'x-herald-servers': [...r.settings.servers],
          ...(r.jetstream && { 'x-herald-jetstream-stream': r.stream }),
        },
        ...(r.settings.token !== undefined || r.settings.user !== undefined || r.settings.creds !== undefined
          ? { security: { type: 'userPassword', description: 'NATS credentials (user/password, token or creds file) from the sink settings or NATS_* variables' } } : {}),
      };
    }
    case 'amqp': {
      const r = resolved as AmqpResolved;
      const u = hostOf(r.built.url);
      return {
        server: {
          host: u.host, protocol: u.protocol === 'amqps' ? 'amqps' : 'amqp', ...(u.pathname !== undefined && { pathname: u.pathname }),
          description: `${description}; durable topic exchange ${r.exchange}`,
          'x-herald-exchange': r.exchange,
        },
        ...(hasUserInfo(r.built.url) && { security: { type: 'userPassword', description: 'AMQP PLAIN credentials from the sink URL' } }),
      };
    }
    case 'webhook': {
      const r = resolved as WebhookResolved;
      const u = new URL(r.endpoint.display.replace(/\?.*$/, ''));
      return {
        server: {
          host: u.host, protocol: r.endpoint.tls ? 'https' : 'http', ...(u.pathname !== '/' && { pathname: u.pathname }),
          description: `${description}; HTTP POST signed as Standard Webhooks${r.keys.length > 0 ? '' : ' (no signing secret configured)'}; configured extra headers are not shown`,
        },
        ...(r.keys.length > 0 && { security: { type: 'httpApiKey', name: WEBHOOK_SIGNATURE, in: 'header', description: 'Standard Webhooks HMAC-SHA256 signature (webhook-signature over webhook-id, webhook-timestamp and the body)' } }),
      };
    }
    default:
      return { server: { host: 'localhost', protocol: c.type, description } };
  }
}

function hasUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

// ---- Messages and channels ---------------------------------------------------------------

function headerDescription(name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const prefix of ['ce_', 'ce-', 'cloudevents_']) {
    if (lower.startsWith(prefix)) {
      const attr = CLOUDEVENT_ATTRIBUTES[lower.slice(prefix.length)];
      return `CloudEvents attribute ${lower.slice(prefix.length)}${typeof attr?.description === 'string' ? `: ${attr.description}` : ''}`;
    }
  }
  if (lower === 'content-type') return 'the media type of the value';
  if (name === MSG_ID_HEADER) return 'JetStream de-duplication id: the event id (<eventId>:<n> for an event\'s further messages)';
  if (lower === WEBHOOK_ID) return 'Standard Webhooks message id (stable across retries)';
  if (lower === WEBHOOK_TIMESTAMP) return 'Standard Webhooks timestamp, Unix seconds of the attempt';
  if (lower === WEBHOOK_SIGNATURE) return 'Standard Webhooks signatures (v1,<base64 HMAC-SHA256>, one per secret)';
  return undefined;
}

const CONSTANT_HEADERS = /(^|[_-])(specversion|content-type)$/i;

function headersSchema(ms: MessageStats): JsonSchema | undefined {
  if (ms.headers.size === 0) return undefined;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, h] of ms.headers) {
    const d = headerDescription(name);
    const one = h.values.size === 1 && CONSTANT_HEADERS.test(name) ? { const: [...h.values][0] } : {};
    properties[name] = { type: 'string', ...one, ...(d !== undefined && { description: d }) };
    if (h.count === ms.count) required.push(name);
  }
  return { type: 'object', properties, ...(required.length > 0 && { required }) };
}

function payloadOf(ms: MessageStats, schemaIds: Map<string, string>): unknown {
  if (ms.format === 'protobuf') {
    const message = (ALIECS_MESSAGES as readonly string[]).includes(ms.name) ? (ms.name as (typeof ALIECS_MESSAGES)[number]) : ALIECS_MESSAGES[0];
    return { schemaFormat: PROTOBUF_SCHEMA_FORMAT, schema: aliecsProtoFor(message) };
  }
  const id = schemaIds.get(ms.schema);
  return id === undefined ? { description: 'not described' } : { $ref: `#/components/schemas/${id}` };
}

function messageOf(binding: SinkBinding, ms: MessageStats, schemaIds: Map<string, string>): Record<string, unknown> {
  const transport = binding.config.type;
  const headers = headersSchema(ms);
  const contentType = ms.contentTypes.size === 1 ? [...ms.contentTypes][0] : undefined;
  const keySchema: JsonSchema | undefined = ms.keyed === 0 ? undefined
    : { type: 'string', description: `the record key${ms.keyed < ms.count ? ' (not on every message)' : ''}` };
  const bindings: Record<string, unknown> = {};
  if (transport === 'kafka') bindings.kafka = { ...(keySchema !== undefined && { key: keySchema }), bindingVersion: BINDING_VERSIONS.kafka };
  if (transport === 'nats') bindings.nats = { bindingVersion: BINDING_VERSIONS.nats };
  if (transport === 'amqp') bindings.amqp = { bindingVersion: BINDING_VERSIONS.amqp };
  if (transport === 'webhook') bindings.http = { ...(headers !== undefined && { headers }), bindingVersion: BINDING_VERSIONS.http };
  return {
    name: ms.name,
    title: `${binding.profile.name} ${ms.name}`,
    ...(contentType !== undefined && { contentType }),
    ...(headers !== undefined && { headers }),
    payload: payloadOf(ms, schemaIds),
    ...(ms.schema !== '' && { 'x-herald-schema': `${SCHEMA_PATH}/${ms.schema}` }),
    ...(ms.format === 'protobuf' && { 'x-herald-protobuf-message': `kafka.${ms.name}` }),
    ...(ms.keyed > 0 && transport !== 'kafka' && { 'x-herald-key': 'the ordering key (not sent on this transport)' }),
    ...(ms.properties !== undefined && { 'x-herald-amqp-properties': ms.properties }),
    bindings,
  };
}

function channelBindings(binding: SinkBinding, ch: ChannelStats, resolved: unknown): Record<string, unknown> {
  switch (binding.config.type) {
    case 'kafka': {
      const t = (resolved as KafkaResolved).topics;
      return {
        kafka: {
          ...(ch.params.size === 0 && { topic: ch.address }),
          ...(t?.partitions !== undefined && { partitions: t.partitions }),
          ...(t?.replicationFactor !== undefined && { replicas: t.replicationFactor }),
          ...(t?.retentionMs !== undefined || t?.minInsyncReplicas !== undefined
            ? { topicConfiguration: { ...(t.retentionMs !== undefined && { 'retention.ms': t.retentionMs }) } } : {}),
          bindingVersion: BINDING_VERSIONS.kafka,
        },
      };
    }
    case 'amqp': {
      const r = resolved as AmqpResolved;
      const vhost = hostOf(r.built.url).pathname;
      return { amqp: { is: 'routingKey', exchange: { name: r.exchange, type: 'topic', durable: true, autoDelete: false, vhost: vhost === undefined ? '/' : decodeURIComponent(vhost.slice(1)) }, bindingVersion: BINDING_VERSIONS.amqp } };
    }
    case 'nats':
      return { nats: { bindingVersion: BINDING_VERSIONS.nats } };
    default:
      return {};
  }
}

function operationBindings(binding: SinkBinding, resolved: unknown, messages: MessageStats[]): Record<string, unknown> {
  switch (binding.config.type) {
    case 'kafka':
      return { kafka: { clientId: { type: 'string', enum: [(resolved as KafkaResolved).conn.clientId] }, bindingVersion: BINDING_VERSIONS.kafka } };
    case 'nats':
      return { nats: { bindingVersion: BINDING_VERSIONS.nats } };
    case 'amqp': {
      const props = messages.map((m) => m.properties ?? {});
      const priority = props.find((p) => typeof p.priority === 'number')?.priority as number | undefined;
      return { amqp: { deliveryMode: 2, mandatory: true, timestamp: props.some((p) => p.timestamp !== undefined), ...(priority !== undefined && { priority }), ack: true, bindingVersion: BINDING_VERSIONS.amqp } };
    }
    case 'webhook':
      return { http: { method: 'POST', bindingVersion: BINDING_VERSIONS.http } };
    default:
      return {};
  }
}

// ---- The document ------------------------------------------------------------------------

/** Bindings and what their transports resolved, for every described sink. */
function describedBindings(sinks: readonly Readonly<SinkConfig>[], env: NodeJS.ProcessEnv | undefined): Array<{ binding: SinkBinding; resolved: unknown }> {
  return resolveSinks(sinks, env !== undefined ? { env } : {})
    .map((r) => ({ binding: new SinkBinding(r), resolved: r.resolved }))
    .filter(({ binding }) => binding.enabled && DESCRIBED.has(binding.config.type));
}

/** The AsyncAPI 3.0 document of a list of valid sinks. */
export function describeSinks(sinks: readonly Readonly<SinkConfig>[], options: DescribeOptions = {}): AsyncApiDocument {
  const servers: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const securitySchemes: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const schemaIds = new Map<string, string>();
  for (const e of schemaCatalogue()) {
    if (e.schema === undefined) continue;
    const id = idOf(`${e.profile}-${e.name}`);
    schemaIds.set(`${e.profile}/${e.name}`, id);
  }
  const usedSchemas = new Set<string>();

  for (const { binding, resolved } of describedBindings(sinks, options.env)) {
    const serverId = idOf(binding.name);
    const part = serverOf(binding, resolved);
    if (part.security !== undefined) {
      securitySchemes[serverId] = part.security;
      part.server.security = [{ $ref: `#/components/securitySchemes/${serverId}` }];
    }
    servers[serverId] = part.server;
    for (const ch of channelsOf(binding, resolved)) {
      let channelId = idOf(`${binding.name}-${ch.address}`);
      while (channels[channelId] !== undefined) channelId = `${channelId}_`;
      const messages: Record<string, unknown> = {};
      const msgs = [...ch.messages.values()];
      for (const ms of msgs) {
        messages[idOf(ms.name)] = messageOf(binding, ms, schemaIds);
        if (ms.schema !== '' && ms.format === undefined) usedSchemas.add(ms.schema);
      }
      const parameters = Object.fromEntries([...ch.params].map(([name, { param, values }]) => [name, {
        description: param.description,
        ...(param.enumerated && { enum: [...values] }),
      }]));
      const webhook = binding.config.type === 'webhook';
      channels[channelId] = {
        address: webhook ? null : ch.address,
        title: `${binding.name}: ${webhook ? 'POST' : ch.address}`,
        description: webhook ? `the endpoint of sink ${binding.name} (${(resolved as WebhookResolved).batch !== undefined ? `up to ${(resolved as WebhookResolved).batch} structured events per application/cloudevents-batch+json request` : 'one request per message'})`
          : `${binding.config.type === 'amqp' ? 'routing key' : binding.config.type === 'nats' ? 'subject' : 'topic'} of sink ${binding.name}`,
        servers: [{ $ref: `#/servers/${serverId}` }],
        ...(Object.keys(parameters).length > 0 && { parameters }),
        messages,
        bindings: channelBindings(binding, ch, resolved),
      };
      operations[idOf(`send-${channelId}`)] = {
        action: 'send',
        title: `${binding.name} publishes`,
        channel: { $ref: `#/channels/${channelId}` },
        messages: Object.keys(messages).map((m) => ({ $ref: `#/channels/${channelId}/messages/${m}` })),
        bindings: operationBindings(binding, resolved, msgs),
      };
    }
  }
  for (const e of schemaCatalogue()) {
    const key = `${e.profile}/${e.name}`;
    if (e.schema !== undefined && usedSchemas.has(key)) schemas[schemaIds.get(key)!] = e.schema;
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Herald',
      version: options.version ?? packageVersion(),
      description: 'What this Herald configuration publishes: one server per sink, one channel per topic, subject or routing-key pattern, the messages each carries. Payload schemas are also served at /v2/schemas.',
    },
    servers,
    channels,
    operations,
    components: { schemas, ...(Object.keys(securitySchemes).length > 0 && { securitySchemes }) },
  };
}

/** The AsyncAPI 3.0 document of a loaded configuration. */
export function describeConfig(config: Pick<HeraldConfig, 'sinks'>, options: DescribeOptions = {}): AsyncApiDocument {
  return describeSinks(config.sinks, options);
}
