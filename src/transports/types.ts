/**
 * The contracts every transport folder fulfils. A transport (kafka, nats, amqp, stdout) is
 * described by a light {@link TransportDefinition} — its option schema, checks, resolution
 * and CLI flags — and loads its heavy implementation (client library, sink, source) only when
 * a command or a sink really uses it, so `herald emit --nats` never loads the Kafka client.
 *
 * A Sink knows nothing of profiles or the outbox: it publishes already-encoded messages and
 * reports, per message, whether the broker acknowledged it. A Source yields what a broker
 * delivers, its headers already mapped back (CloudEvents attributes in `ceAttributes`).
 */
import type { TProperties } from 'typebox';
import type { FieldProblem, HeraldError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IncomingMessage, OutgoingMessage } from '../messages.js';
import type { FlagValues } from './shared/flags.js';

export type { OutgoingMessage, IncomingMessage } from '../messages.js';

export type PublishOutcome =
  | { ok: true }
  /** permanent: the broker will never take this message (too large, invalid topic); retrying is pointless. */
  | { ok: false; permanent: boolean; error: HeraldError };

export interface Sink {
  readonly name: string;
  readonly type: string;
  /** Connects (lazily, idempotent). Rejects with BROKER_UNAVAILABLE / BROKER_AUTH. */
  connect(signal?: AbortSignal): Promise<void>;
  /**
   * Publishes a batch and resolves once the broker acknowledged (Kafka acks=all, JetStream
   * ack, AMQP confirm) with one outcome per message, in order. Messages with the same key are
   * written in the given order. Rejects (BROKER_UNAVAILABLE / TIMEOUT) when the whole batch
   * failed for a transient reason.
   */
  publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]>;
  /** True while the last connect/publish succeeded. */
  readonly connected: boolean;
  /** Where the last publish landed, for commands that print it (Kafka: topic, partition, offset). */
  readonly lastDeliveries?: readonly Delivery[];
  /** An HTTP sink's endpoint figures (webhook), for GET /v2/sinks; absent for brokers. */
  endpoint?(): EndpointStatus;
  /** Flushes what is in flight and disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Where one message landed. */
export interface Delivery {
  topic: string;
  partition?: number;
  offset?: string;
}

/** What an HTTP sink reports about its endpoint (GET /v2/sinks `endpoint`). */
export interface EndpointStatus {
  /** The URL without credentials or query (token-like path segments masked). */
  url: string;
  /** HTTP status of the last answer; null before the first one. */
  lastStatus: number | null;
  lastResponseAt: string | null;
  /** Requests sent, and of them answered 2xx. */
  requests: number;
  succeeded: number;
  /** Round-trip times of the recent requests (up to the last 1024), ms; null before the first. */
  latencyMs: { last: number | null; p50: number | null; p99: number | null; max: number | null };
  /** While the endpoint's Retry-After holds requests back: until when (ISO 8601); else null. */
  retryAfterUntil: string | null;
}

/** What `GET /v2/sinks` and the metrics report per sink. */
export interface SinkStatus {
  name: string;
  type: string;
  profile: string;
  /** false when streaming is switched off or the sink is disabled. */
  enabled: boolean;
  connected: boolean;
  /** Outbox entries waiting for delivery (the lag). */
  pending: number;
  /** Entries the broker rejected permanently, kept with their error. */
  parked: number;
  delivered: number;
  failed: number;
  retries: number;
  oldestPendingAgeSeconds: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** HTTP sinks (webhook): the endpoint's latency and last response status. */
  endpoint?: EndpointStatus;
}

export interface SourceOptions {
  /** Start at the oldest retained message, or only new ones (default). */
  from?: 'beginning' | 'latest';
  /**
   * Consumer group (Kafka group id, JetStream durable name, AMQP named durable queue): several
   * readers with the same group share the messages. Undefined = broadcast (each reader sees all).
   */
  group?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface ReceivedMessage extends IncomingMessage {
  /** Acknowledge/commit after processing (no-op where the transport has no acks). */
  ack(): Promise<void>;
}

export interface Source {
  /** Connects and joins (idempotent); messages() does it too. Idle timers should start after it. */
  start?(): Promise<void>;
  /** Yields messages until close() or the signal aborts. Reconnects after transient failures. */
  messages(): AsyncIterable<ReceivedMessage>;
  /** Stops reading and disconnects. Idempotent. */
  close(): Promise<void>;
}

/** What every sink receives besides its options. */
export interface SinkDeps {
  logger: Logger;
  /** stdout sink: where lines go (default process.stdout). */
  stream?: NodeJS.WritableStream;
  /** Environment for the transport's own variables (HERALD_KAFKA_*, NATS_*); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The common sink keys a transport's sink reads (the rest are its own, already resolved). */
export interface SinkBase {
  name: string;
  /** The topic the binding resolved (Kafka creates or verifies it per its `topics` settings). */
  topic?: string;
  /** The binding's profile (a NATS sink derives the subjects of a stream it creates from it). */
  profile?: string;
  /** Bound of one connect/publish in ms. */
  timeoutMs?: number;
}

/** Names a key in messages: a config path (`sinks[0].brokers`), a variable or a CLI flag (`--brokers`). */
export type KeyNamer = (key: string) => string;

/** A command's defaults for what to read when no topic flag is given (tally: Choria's topics). */
export interface ReadDefaults {
  /** Topics, subjects or binding patterns, in the transport's own wildcard syntax. */
  topics?: readonly string[];
  /** A regular expression over topic names (Kafka). */
  pattern?: RegExp;
}

/** The command-line face of a transport. */
export interface TransportCli<SourceSpec = unknown> {
  /** The flag that selects it (`--brokers`, `--nats`, `--amqp`). */
  readonly flag: string;
  /** Sink keys as flags, for messages (`url` → `--nats`). */
  readonly keys: Readonly<Record<string, string>>;
  /** The transport's own sink keys from a command's flags (`herald emit`). */
  sink(values: FlagValues): Record<string, unknown>;
  /** What `view`, `tally` and `bridge` read, from their flags (`--topic`, `--pattern`, `--binding`, ...). */
  source(values: FlagValues, defaults: ReadDefaults): SourceSpec;
}

/**
 * The heavy halves of a transport, each loaded on first use and apart: a command that only
 * publishes never loads the consumer side of a client library (for Kafka, its option
 * validators are compiled when the module is evaluated), and a reader never loads the producer.
 */
export type SinkFactory<Resolved = unknown> = (base: SinkBase, options: Resolved, deps: SinkDeps) => Sink;
export type SourceFactory<SourceSpec = unknown> = (spec: SourceSpec, options: SourceOptions) => Source;

/**
 * The light half of a transport: everything config validation, the CLI and the registry need
 * without loading a client library.
 */
export interface TransportDefinition<Options = Record<string, unknown>, Resolved = unknown, SourceSpec = unknown> {
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /** The transport's own sink keys (TypeBox properties), added to the common ones. */
  readonly sinkOptions: TProperties;
  /** Checks the schema cannot express; `at` names a key in the caller's terms. */
  check?(options: Options, at: KeyNamer): FieldProblem[];
  /**
   * Completes valid options into what the sink needs (reads referenced files, merges the
   * transport's environment variables). Throws ConfigError naming the key via `at`.
   */
  resolve(options: Options, at: KeyNamer, env: NodeJS.ProcessEnv): Resolved;
  /** A topic the transport's own settings name (Kafka: `topic` of the producer properties). */
  settingsTopic?(resolved: Resolved): string | undefined;
  /** The largest message the transport takes, in bytes, as far as it is known before connecting. */
  maxMessageBytes(resolved: Resolved): number | undefined;
  /** How the command line reaches this transport (absent: no flag selects it). */
  readonly cli?: TransportCli<SourceSpec>;
  /** Loads the sink half (and its client library). */
  loadSink(): Promise<SinkFactory<Resolved>>;
  /** Loads the source half; absent for a sink-only transport (stdout, webhook). */
  loadSource?(): Promise<SourceFactory<SourceSpec>>;
}
