/**
 * The Kafka source of `herald view`, `tally` and `bridge`.
 *
 * With a consumer group, readers of the same group share partitions and offsets are committed
 * after ack() (at-least-once). Without one, the source joins a fresh random group that never
 * commits: every reader sees every message, and nothing is left behind but an empty group
 * the broker expires. A `pattern` is resolved against the cluster's topics once, at start.
 * With `seek` (`herald view --partition/--offset`, like `kcat -C -p -o`) the start offset of
 * every partition read is resolved first (ListOffsets: earliest, latest, or the first offset
 * at or after a timestamp) and reading starts there, committing to the group if one is given.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { HeraldError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { ReceivedMessage, Source, SourceOptions, SourceFactory } from '../types.js';
import { baseClientOptions, resolveKafkaConnection, type KafkaConnection } from './connection.js';
import { kafkaErrorIds, toHeraldError, withTimeout } from './errors.js';
import { fromKafkaRecord } from './mapping.js';
import { startOffset, type OffsetSpec } from './offsets.js';
import { listTopicNames } from './topics.js';

/**
 * The most one fetch asks for (see the Consumer options). Fetches of 1 MiB, as Kafka's own
 * consumer takes per partition (max.partition.fetch.bytes; a larger first batch still comes
 * whole, KIP-74): with the client's 10 MiB default the bare consumer read 100,000 records 2.8
 * times slower here, as it assembles and decodes each response at once.
 */
const FETCH_MAX_BYTES = 1_048_576;

/** Options of a Kafka source: topics or a pattern, where to start, an optional group. */
export interface KafkaSourceOptions extends SourceOptions {
  brokers: readonly string[];
  /** Topics to read; or `pattern`. */
  topics?: readonly string[];
  /** A regular expression matched against the cluster's topic names at start. */
  pattern?: RegExp;
  /** Bound for starting to read (metadata, group join); default 30 s. */
  timeoutMs?: number;
  clientId?: string;
  /** Optional Java-style properties file for TLS/SASL settings. */
  producerProperties?: string;
  logger?: Logger;
  /** Start at these offsets (of this partition only, when given) instead of the group's or `from`. */
  seek?: { partition?: number; offset: OffsetSpec };
}

/** Retriable answers to a group join while the coordinator moves or loads (see #whileCoordinatorMoves). */
const COORDINATOR_MOVING = new Set(['NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE']);
const COORDINATOR_RETRY_MS = 500;

/** A Source reading Kafka topics; see the module comment for groups and patterns. */
export class KafkaSource implements Source {
  readonly #options: KafkaSourceOptions;
  readonly #conn: KafkaConnection;
  readonly #logger: Logger;
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #closed = false;
  #starting: Promise<void> | undefined;

  constructor(options: KafkaSourceOptions) {
    if ((options.topics === undefined || options.topics.length === 0) && options.pattern === undefined) {
      throw new HeraldError('INVALID_REQUEST', 'a Kafka source needs topics or a pattern');
    }
    this.#options = options;
    this.#conn = resolveKafkaConnection({
      brokers: options.brokers,
      timeoutMs: Math.min(options.timeoutMs ?? 30_000, 30_000),
      ...(options.producerProperties !== undefined && { producerProperties: options.producerProperties }),
      ...(options.clientId !== undefined && { clientId: options.clientId }),
    }, 'herald-source');
    this.#logger = options.logger ?? silentLogger;
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** The topics to read, resolving the pattern. */
  async #topics(): Promise<string[]> {
    if (this.#options.pattern === undefined) return [...this.#options.topics!];
    const re = this.#options.pattern;
    const names = (await listTopicNames(this.#conn)).filter((n) => re.test(n)).sort();
    const extra = this.#options.topics ?? [];
    const all = [...new Set([...extra, ...names])];
    if (all.length === 0) throw new HeraldError('NOT_FOUND', `no topic at ${this.#conn.brokers.join(',')} matches the pattern ${re.source}`);
    return all;
  }

  async #start(): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
    const where = `reading from Kafka at ${this.#conn.brokers.join(',')}`;
    const topics = await this.#topics();
    const group = this.#options.group;
    const from = this.#options.from ?? 'latest';
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...baseClientOptions(this.#conn),
      groupId: group ?? `herald-view-${randomUUID()}`,
      // Like kafka-console-consumer: reading a topic that does not exist yet creates it where
      // the broker allows that (auto.create.topics.enable), else fails naming the topic.
      autocreateTopics: true,
      autocommit: false,
      maxWaitTime: 500,
      maxBytes: FETCH_MAX_BYTES,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    this.#consumer = consumer;
    if (group !== undefined) {
      // A rebalance moves partitions between readers and, at least once, may deliver again what
      // was read but not yet committed: say so, so a repeat can be told from a bug.
      consumer.on('consumer:group:join', (info: { generationId?: number; assignments?: { topic: string; partitions: number[] }[] }) => {
        const partitions = (info.assignments ?? []).map((a) => `${a.topic}[${a.partitions.join(',')}]`);
        this.#logger.info({ group, generation: info.generationId, partitions }, 'joined the consumer group');
      });
    }
    try {
      if (this.#options.seek !== undefined) return await this.#seek(consumer, topics, this.#options.seek, where);
      const stream = await this.#whileCoordinatorMoves(() => withTimeout(
        consumer.consume({
          topics,
          autocommit: false,
          // A group resumes where it committed; a fresh group starts where asked.
          mode: group !== undefined ? 'committed' : from === 'beginning' ? 'earliest' : 'latest',
          fallbackMode: from === 'beginning' ? 'earliest' : 'latest',
        }),
        this.#conn.timeoutMs,
        `${where} (topics ${topics.join(', ')})`,
      ));
      this.#logger.debug({ topics, group }, 'kafka source started');
      return stream;
    } catch (err) {
      await this.close();
      throw toHeraldError(err, `${where} (topics ${topics.join(', ')})`, this.#conn);
    }
  }

  /**
   * Joining a group right after a broker restarted (or lost its leadership) answers
   * NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS until the group coordinator has loaded its
   * partition of __consumer_offsets — retriable errors by the protocol, which the client gives
   * up on after its few quick retries. Like Kafka's own consumer, keep trying for the start
   * timeout instead of failing the reader.
   */
  async #whileCoordinatorMoves<T>(join: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#conn.timeoutMs;
    for (;;) {
      try {
        return await join();
      } catch (err) {
        const moving = kafkaErrorIds(err).some((id) => COORDINATOR_MOVING.has(id));
        if (!moving || this.#closed || Date.now() + COORDINATOR_RETRY_MS >= deadline) throw err;
        this.#logger.debug({ errors: kafkaErrorIds(err) }, 'the group coordinator is not ready yet; joining again');
        await new Promise((r) => setTimeout(r, COORDINATOR_RETRY_MS));
      }
    }
  }

  /** Reads from resolved offsets (see the module comment). */
  async #seek(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, topics: string[], seek: NonNullable<KafkaSourceOptions['seek']>, where: string): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
    const only = seek.partition;
    const partitions = only !== undefined ? Object.fromEntries(topics.map((t) => [t, [only]])) : undefined;
    const list = (timestamp: bigint) => withTimeout(consumer.listOffsets({ topics, ...(partitions && { partitions }), timestamp }), this.#conn.timeoutMs, where)
      .catch((err: unknown) => {
        if (/partition\(s\) not found/i.test((err as Error)?.message ?? '')) throw new HeraldError('NOT_FOUND', `no partition ${only} in ${topics.join(', ')}`, { cause: err });
        throw err;
      });
    const [earliest, latest] = [await list(-2n), await list(-1n)];
    const at = seek.offset.kind === 'timestamp' ? await list(seek.offset.ms) : undefined;
    const offsets: { topic: string; partition: number; offset: bigint }[] = [];
    for (const topic of topics) {
      (latest.get(topic) ?? []).forEach((end, partition) => {
        if (end === undefined) return;
        offsets.push({ topic, partition, offset: startOffset(seek.offset, earliest.get(topic)?.[partition] ?? 0n, end, at?.get(topic)?.[partition]) });
      });
    }
    if (offsets.length === 0) throw new HeraldError('NOT_FOUND', `no partition ${only ?? ''} in ${topics.join(', ')}`);
    return this.#whileCoordinatorMoves(() => withTimeout(consumer.consume({ topics, autocommit: false, mode: 'manual', offsets }), this.#conn.timeoutMs, where));
  }

  /**
   * Connects and joins (idempotent); messages() calls it too. Callers that time idleness
   * (`view --timeout`) await it first so joining the group does not count as idle time.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().then((stream) => {
      this.#stream = stream;
    });
    return this.#starting;
  }

  async *messages(): AsyncIterable<ReceivedMessage> {
    if (this.#closed) return;
    await this.start();
    const stream = this.#stream;
    if (stream === undefined) return;
    const committing = this.#options.group !== undefined;
    const owns = committing && this.#consumer !== undefined ? ownership(this.#consumer) : undefined;
    const only = this.#options.seek?.partition;
    try {
      for await (const m of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
        if (this.#closed) break;
        if (only !== undefined && m.partition !== only) continue;
        if (owns !== undefined && !owns(m.topic, m.partition)) continue;
        yield {
          ...fromKafkaRecord(m),
          ack: async () => {
            if (committing) await m.commit();
          },
        };
      }
    } catch (err) {
      if (!this.#closed) throw toHeraldError(err, `reading from Kafka at ${this.#conn.brokers.join(',')}`, this.#conn);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stream = this.#stream;
    const consumer = this.#consumer;
    this.#stream = undefined;
    this.#consumer = undefined;
    if (stream !== undefined) await withTimeout(stream.close(), 5000, 'closing the Kafka stream').catch(() => undefined);
    if (consumer !== undefined) {
      await withTimeout(consumer.close(), 5000, 'closing the Kafka consumer').catch(() => consumer.close(true, () => undefined));
    }
  }
}

/**
 * Whether a group member owns a partition now. The client keeps a fetch in flight (up to
 * maxWaitTime) with the partitions it owned when it sent it, and delivers what comes back even
 * when a rebalance gave some of them to another member meanwhile: both members would then read
 * the same records. A record of a partition the member no longer owns is dropped uncommitted.
 * Nothing is lost: its owner reads from the group's committed offset, and should the partition
 * come back here, the client rejoins and reads from the committed offset again too.
 */
function ownership(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): (topic: string, partition: number) => boolean {
  let of: unknown;
  let owned = new Set<string>();
  return (topic, partition) => {
    const assignments = consumer.assignments;
    if (assignments !== of) {
      of = assignments;
      owned = new Set((assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
    }
    return owned.has(`${topic}:${partition}`);
  };
}

/** Creates a Kafka source (not started: reading starts with the first `messages()` iteration). */
export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  return new KafkaSource(options);
}

/** What `view`, `tally` and `bridge` read, from their flags (the source options without the run's own). */
export type KafkaSourceSpec = Omit<KafkaSourceOptions, 'from' | 'group' | 'signal' | 'logger'>;

/** The source factory the transport registry loads (`view`, `tally`, `bridge`, `subscribe()`). */
export const sourceFactory: SourceFactory<KafkaSourceSpec> = (spec, options) => new KafkaSource({ ...spec, ...options });
