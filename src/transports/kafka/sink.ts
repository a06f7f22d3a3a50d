/**
 * The Kafka sink: publishes encoded messages with acks=all through the idempotent producer
 * (one request in flight per connection, so records of one key keep their order even when
 * the client retries). Connects lazily; every operation is bounded by `timeoutMs`, after
 * which the producer is dropped and rebuilt on the next call, so nothing ever hangs.
 */
import { Producer, ProduceAcks, compatibilityPartitioner, compressionsAlgorithms } from '@platformatic/kafka';
import { ConfigError, HeraldError } from '../../errors.js';
import { messageBytes } from '../../messages.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { Delivery, OutgoingMessage, PublishOutcome, Sink, SinkFactory } from '../types.js';
import { baseClientOptions, type KafkaConnection } from './connection.js';
import { isPermanentKafkaError, isValidTopicName, toHeraldError, withTimeout } from './errors.js';
import { toKafkaRecord } from './mapping.js';
import { DEFAULT_MAX_REQUEST_BYTES, type KafkaResolved } from './options.js';
import type { TopicSpec } from './topics.js';

/** What a KafkaSink is built from: a resolved connection and the topics it creates or verifies. */
export interface KafkaSinkOptions {
  name: string;
  conn: KafkaConnection;
  /** Topics to create or verify on first connect (from the sink's `topics` settings). */
  topics?: TopicSpec[];
  /** Create missing topics in `topics` (default true). */
  createTopics?: boolean;
  logger?: Logger;
}

/** Bytes a record adds to a request besides its key, value and headers (varints, attributes). */
const RECORD_OVERHEAD = 24;

/** A message's approximate size on the wire, as Java's producer estimates it for max.request.size. */
const recordBytes = (m: OutgoingMessage): number => RECORD_OVERHEAD + messageBytes(m);

/**
 * Buffers the Kafka client builds for one request, at most. It writes every varint, key, value,
 * header name and header value of a record as a buffer of its own and copies the list of them
 * at each level of the request (record batch, partition, topic, request). Past about 16,000
 * entries such a list no longer fits V8's young generation, and appending to it costs ten
 * times as much: the bare client sent 100,000 binary CloudEvents (7 headers) in 4.5 s as
 * requests of 1000 records and in 1.45–1.6 s as requests of 300–350 (measured in
 * docs/benchmarks.md). So a request stays under this many.
 */
export const MAX_REQUEST_PIECES = 12_000;

/** Buffers the client writes for a record: attributes, timestamp, offset, key and value with their lengths, header count; four per header. */
const recordPieces = (m: OutgoingMessage): number => {
  let headers = m.contentType !== undefined ? 1 : 0;
  if (m.ceAttributes !== undefined) for (const _ in m.ceAttributes) headers++;
  if (m.headers !== undefined) for (const _ in m.headers) headers++;
  return 8 + 4 * headers;
};

/**
 * Splits records, in order, into requests of at most `max` bytes (a larger single record goes
 * alone) and at most `maxPieces` client buffers (MAX_REQUEST_PIECES).
 */
export function byRequestSize<T extends { m: OutgoingMessage }>(items: readonly T[], max: number, maxPieces = MAX_REQUEST_PIECES): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  let pieces = 0;
  for (const item of items) {
    const b = recordBytes(item.m);
    const p = recordPieces(item.m);
    if (current.length > 0 && (bytes + b > max || pieces + p > maxPieces)) {
      parts.push(current);
      current = [];
      bytes = 0;
      pieces = 0;
    }
    current.push(item);
    bytes += b;
    pieces += p;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** A Sink writing to Kafka; see the module comment for its guarantees. */
export class KafkaSink implements Sink {
  readonly name: string;
  readonly type = 'kafka' as const;
  readonly #conn: KafkaConnection;
  readonly #logger: Logger;
  readonly #topics: TopicSpec[];
  readonly #createTopics: boolean;
  #producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  #waiting: Array<{ messages: readonly OutgoingMessage[]; signal?: AbortSignal; resolve: (o: PublishOutcome[]) => void; reject: (e: unknown) => void }> = [];
  /** The running pump, while calls wait or a send is in flight. */
  #pumped: Promise<void> | undefined;
  #connected = false;
  #closed = false;
  #topicsChecked = false;
  #inflight = new Set<Promise<unknown>>();
  /** Offsets of the last successful publish (one per partition written). */
  lastDeliveries: Delivery[] = [];
  /** Produce requests sent so far (a publish larger than max.request.size takes several). */
  requests = 0;

  constructor(options: KafkaSinkOptions) {
    this.name = options.name;
    this.#conn = options.conn;
    this.#logger = options.logger ?? silentLogger;
    this.#topics = options.topics ?? [];
    this.#createTopics = options.createTopics ?? true;
    for (const w of this.#conn.warnings) this.#logger.warn({ sink: this.name }, w);
    const compression = this.#conn.settings.compression;
    if (compression !== undefined && !(compressionsAlgorithms as Record<string, { available?: boolean }>)[compression]?.available) {
      // zstd needs Node.js 22's zlib; fail at start rather than on every send.
      throw new ConfigError(`compression.type ${compression} is not available on Node.js ${process.versions.node}; use gzip, snappy, lz4 or none`, [{ path: 'compression.type', message: 'not available on this Node.js' }]);
    }
  }

  get connected(): boolean {
    return this.#connected;
  }

  get #where(): string {
    return `at ${this.#conn.brokers.join(',')}`;
  }

  #getProducer(): Producer<Buffer, Buffer, Buffer, Buffer> {
    if (this.#closed) throw new HeraldError('CLOSED', `Kafka sink ${this.name} is closed`);
    if (this.#producer === undefined) {
      const acks = this.#conn.settings.acks ?? ProduceAcks.ALL;
      // Idempotence needs acks=all; a properties file asking for acks=0/1 gets what it asked for.
      const idempotent = acks === ProduceAcks.ALL && this.#conn.settings.idempotent !== false;
      this.#producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
        ...baseClientOptions(this.#conn),
        ...(this.#conn.settings.retries !== undefined && { retries: Math.max(2, Math.min(this.#conn.settings.retries, 10)) }),
        idempotent,
        acks,
        // Java-compatible murmur2 partitioning: the same key lands on the same partition as
        // with the Java client, Kafka Connect or kcat -X partitioner=murmur2_random.
        partitioner: (message, key) => compatibilityPartitioner(message, key),
        ...(this.#conn.settings.compression !== undefined && { compression: this.#conn.settings.compression }),
        // Like the Java producer: the broker decides (auto.create.topics.enable).
        autocreateTopics: true,
      });
    }
    return this.#producer;
  }

  /** Drops a producer that failed or timed out; the next call builds a fresh one. */
  #discardProducer(): void {
    const p = this.#producer;
    this.#producer = undefined;
    if (p !== undefined) p.close(true, () => undefined);
  }

  async connect(signal?: AbortSignal): Promise<void> {
    const producer = this.#getProducer();
    try {
      await withTimeout(producer.metadata({ topics: [] }), this.#conn.timeoutMs, `connecting ${this.#where}`, () => this.#discardProducer(), signal);
      if (!this.#topicsChecked && this.#topics.length > 0) {
        // The admin client (and its option validators) is loaded only by a sink that checks topics.
        const { ensureTopics } = await import('./topics.js');
        const warnings = await ensureTopics(this.#conn, this.#topics, { create: this.#createTopics });
        for (const w of warnings) this.#logger.warn({ sink: this.name }, w);
        this.#topicsChecked = true;
      }
      this.#connected = true;
    } catch (err) {
      this.#connected = false;
      this.#discardProducer();
      throw toHeraldError(err, `connecting ${this.#where}`, this.#conn);
    }
  }

  /**
   * Publishes in call order. Calls made while a send is in flight wait and then go out together
   * as one send: the idempotent producer must never have two sends overlapping (the broker
   * answers OUT_OF_ORDER_SEQUENCE_NUMBER), and coalescing keeps concurrent callers (many
   * emit() calls of a service) at batch speed rather than one round trip each.
   */
  publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<PublishOutcome[]>((resolve, reject) => {
      this.#waiting.push({ messages, resolve, reject, ...(signal !== undefined && { signal }) });
      this.#kick();
    });
  }

  /** Starts the pump unless it runs; a call that arrived while it was finishing starts it again. */
  #kick(): void {
    if (this.#pumped !== undefined) return;
    this.#pumped = this.#pump().finally(() => {
      this.#pumped = undefined;
      if (this.#waiting.length > 0) this.#kick();
    });
  }

  async #pump(): Promise<void> {
    // Yield once so calls made in the same tick join the first send.
    await Promise.resolve();
    while (this.#waiting.length > 0) {
      const jobs = this.#waiting.splice(0).filter((job) => {
        if (!job.signal?.aborted) return true;
        job.reject(new HeraldError('TIMEOUT', `publishing ${this.#where} was aborted before it was sent`));
        return false;
      });
      if (jobs.length === 0) continue;
      // One caller: its own signal bounds the send; several: each send is bounded by timeoutMs.
      const signal = jobs.length === 1 ? jobs[0]!.signal : undefined;
      try {
        const outcomes = await this.#publishNow(jobs.flatMap((j) => j.messages), signal);
        let at = 0;
        for (const job of jobs) {
          job.resolve(outcomes.slice(at, at + job.messages.length));
          at += job.messages.length;
        }
      } catch (err) {
        for (const job of jobs) job.reject(err);
      }
    }
  }

  async #publishNow(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    const outcomes: (PublishOutcome | undefined)[] = messages.map((m) =>
      isValidTopicName(m.topic)
        ? undefined
        : { ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', `"${m.topic}" is not a valid Kafka topic name (1-249 of letters, digits, . _ -)`) },
    );
    const pending = messages.map((m, i) => ({ m, i })).filter((x) => outcomes[x.i] === undefined);
    // One request at a time, each at most max.request.size: a larger request would exceed the
    // broker's message.max.bytes for its partitions and be rejected as a whole.
    for (const part of byRequestSize(pending, this.#conn.settings.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES)) {
      const op = this.#publishBatch(part, outcomes, signal);
      this.#inflight.add(op);
      try {
        await op;
      } finally {
        this.#inflight.delete(op);
      }
    }
    return outcomes.map((o) => o ?? { ok: true });
  }

  async #send(records: OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    const producer = this.#getProducer();
    const topics = [...new Set(records.map((r) => r.topic))].join(', ');
    this.requests += 1;
    const result = await withTimeout(
      producer.send({ messages: records.map(toKafkaRecord) }),
      this.#conn.timeoutMs,
      `publishing to ${topics} ${this.#where}`,
      () => this.#discardProducer(),
      signal,
    );
    this.lastDeliveries = (result.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() }));
  }

  async #publishBatch(pending: { m: OutgoingMessage; i: number }[], outcomes: (PublishOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const topics = [...new Set(pending.map((p) => p.m.topic))].join(', ');
    try {
      await this.#send(pending.map((p) => p.m), signal);
      this.#connected = true;
      return;
    } catch (err) {
      if (!isPermanentKafkaError(err)) {
        this.#connected = false;
        if (!(err instanceof HeraldError)) this.#discardProducer();
        throw toHeraldError(err, `publishing to ${topics} ${this.#where}`, this.#conn);
      }
      this.#connected = true;
      // The idempotent producer has already counted the rejected batch's sequence numbers; the
      // broker has not. Reusing it would fail with OUT_OF_ORDER_SEQUENCE_NUMBER, so start afresh.
      this.#discardProducer();
      if (pending.length === 1) {
        outcomes[pending[0]!.i] = { ok: false, permanent: true, error: toHeraldError(err, `on topic ${pending[0]!.m.topic}`, this.#conn) };
        return;
      }
    }
    // Part of the batch was rejected for good: find which records by sending them one at a
    // time, in order (so per-key order holds). Records of partitions the batch already wrote
    // may be written twice; consumers de-duplicate by the CloudEvents id.
    for (const { m, i } of pending) {
      try {
        await this.#send([m], signal);
        outcomes[i] = { ok: true };
      } catch (err) {
        if (!isPermanentKafkaError(err)) {
          this.#connected = false;
          if (!(err instanceof HeraldError)) this.#discardProducer();
          throw toHeraldError(err, `publishing to ${m.topic} ${this.#where}`, this.#conn);
        }
        outcomes[i] = { ok: false, permanent: true, error: toHeraldError(err, `on topic ${m.topic}`, this.#conn) };
        this.#discardProducer(); // as above: a fresh producer id for the records after it
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Flush: wait for what is in flight (each bounded by its own timeout), then disconnect.
    await this.#pumped;
    await Promise.allSettled([...this.#inflight]);
    const p = this.#producer;
    this.#producer = undefined;
    this.#connected = false;
    if (p !== undefined) {
      await withTimeout(p.close(), this.#conn.timeoutMs, `closing ${this.#where}`).catch(() => p.close(true, () => undefined));
    }
  }
}

/** The sink factory the transport registry loads: topics to check when the sink names their settings. */
export const sinkFactory: SinkFactory<KafkaResolved> = (base, r, deps) => {
  const topics = r.topics !== undefined && base.topic !== undefined ? [{ topic: base.topic, ...withoutCreate(r.topics) }] : [];
  return new KafkaSink({ name: base.name, conn: r.conn, topics, createTopics: r.topics?.create ?? true, logger: deps.logger });
};

function withoutCreate(t: NonNullable<KafkaResolved['topics']>) {
  const { create: _create, ...rest } = t;
  return rest;
}
