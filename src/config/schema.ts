/**
 * The configuration schema: one definition for the file form, validated once at start.
 * Unknown keys are errors. Defaults live in defaults.ts; loading and merging in load.ts.
 */
import { Type, type Static } from 'typebox';
import { SEVERITIES } from '../events/schema.js';

export const SINK_TYPES = ['kafka', 'nats', 'amqp', 'stdout'] as const;
export const PROFILES = ['cloudevents', 'aliecs', 'choria', 'cloudstack', 'assisted'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const SinkFilter = Type.Object(
  {
    types: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    severities: Type.Optional(Type.Array(Type.Enum(SEVERITIES))),
    entityKinds: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/** Kafka topic settings a sink can create or verify (`herald topics` shows the same). */
export const TopicSettings = Type.Object(
  {
    create: Type.Optional(Type.Boolean({ description: 'create missing topics (default true)' })),
    partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    replicationFactor: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    minInsyncReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    retentionMs: Type.Optional(Type.Integer({ minimum: -1 })),
  },
  { additionalProperties: false },
);

/** Profile-specific settings, each owned by its profile module. */
export const ProfileOptions = Type.Object(
  {
    /** choria: `cloudevents` (default) or `plain` JSON. */
    format: Type.Optional(Type.Union([Type.Literal('cloudevents'), Type.Literal('plain')])),
    /** assisted: send `Name`/`Payload`/`Metadata` as the running service does (default true). */
    capitalized: Type.Optional(Type.Boolean()),
    /** assisted: component versions to put in `metadata.versions`. */
    versions: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** cloudstack: categories switched off, e.g. ["UsageEvent"]. */
    disabledCategories: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** aliecs: the watched state whose list is published (default RUNNING). */
    watchedState: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const SinkConfig = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'unique sink name' }),
    type: Type.Enum(SINK_TYPES),
    enabled: Type.Optional(Type.Boolean()),
    /** kafka */
    brokers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** nats / amqp */
    url: Type.Optional(Type.String({ minLength: 1 })),
    profile: Type.Optional(Type.Enum(PROFILES)),
    topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249 })),
    mode: Type.Optional(Type.Union([Type.Literal('binary'), Type.Literal('structured')])),
    producerProperties: Type.Optional(Type.String({ minLength: 1 })),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
    filter: Type.Optional(SinkFilter),
    topics: Type.Optional(TopicSettings),
    profileOptions: Type.Optional(ProfileOptions),
    /** amqp: the durable topic exchange (default herald.events). */
    exchange: Type.Optional(Type.String({ minLength: 1 })),
    /** nats: publish through JetStream with acknowledgements (default true). */
    jetstream: Type.Optional(Type.Boolean()),
    /** nats: create the stream when missing. */
    createStream: Type.Optional(Type.Boolean()),
    stream: Type.Optional(Type.String({ minLength: 1 })),
    subjects: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** nats: auth token (instead of nats://TOKEN@host). */
    token: Type.Optional(Type.String({ minLength: 1 })),
    /** nats: a JWT + nkey seed credentials file. */
    creds: Type.Optional(Type.String({ minLength: 1 })),
    /** nats / amqp (amqps://): PEM files for TLS server verification and client certificates. */
    tls: Type.Optional(Type.Object({
      ca: Type.Optional(Type.String({ minLength: 1 })),
      cert: Type.Optional(Type.String({ minLength: 1 })),
      key: Type.Optional(Type.String({ minLength: 1 })),
    }, { additionalProperties: false })),
    /** Relay tuning. */
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600000 })),
  },
  { additionalProperties: false },
);
export type SinkConfig = Static<typeof SinkConfig>;

export const HeraldConfigSchema = Type.Object(
  {
    server: Type.Optional(Type.Object({
      host: Type.Optional(Type.String({ minLength: 1 })),
      port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      bodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
    }, { additionalProperties: false })),
    store: Type.Optional(Type.Object({
      url: Type.Optional(Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$' })),
    }, { additionalProperties: false })),
    streaming: Type.Optional(Type.Boolean()),
    auth: Type.Optional(Type.Object({
      apiTokens: Type.Optional(Type.Array(Type.String({ minLength: 8 }))),
      readTokens: Type.Optional(Type.Array(Type.String({ minLength: 8 }))),
    }, { additionalProperties: false })),
    redact: Type.Optional(Type.Object({
      keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }, { additionalProperties: false })),
    retention: Type.Optional(Type.Object({
      days: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    }, { additionalProperties: false })),
    entities: Type.Optional(Type.Object({
      watchedStates: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }, { additionalProperties: false })),
    logLevel: Type.Optional(Type.Enum(LOG_LEVELS)),
    sinks: Type.Optional(Type.Array(SinkConfig)),
  },
  { additionalProperties: false },
);
export type HeraldConfigInput = Static<typeof HeraldConfigSchema>;

/** The validated, defaulted, frozen configuration every component receives. */
export interface HeraldConfig {
  readonly server: { readonly host: string; readonly port: number; readonly bodyLimit: number };
  readonly store: { readonly url: string };
  readonly streaming: boolean;
  readonly auth: { readonly apiTokens: readonly string[]; readonly readTokens: readonly string[] };
  readonly redact: { readonly keys: readonly string[] };
  readonly retention: { readonly days: number };
  readonly entities: { readonly watchedStates: readonly string[] };
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly sinks: readonly Readonly<SinkConfig>[];
}
