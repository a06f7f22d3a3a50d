/**
 * The Kafka source of `herald view`, `tally` and `bridge`.
 *
 * With a consumer group, readers of the same group share partitions and offsets are committed
 * after ack() (at-least-once). Without one, the source joins a fresh random group that never
 * commits: every reader sees every message, and nothing is left behind but an empty group
 * the broker expires. A `pattern` is resolved against the cluster's topics once, at start.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { HeraldError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { ReceivedMessage, Source, SourceOptions } from '../types.js';
import { baseClientOptions, resolveKafkaConnection, type KafkaConnection } from './connection.js';
import { toHeraldError, withTimeout } from './errors.js';
import { fromKafkaRecord } from './mapping.js';
import { listTopicNames } from './topics.js';

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
}

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
      const stream = await withTimeout(
        consumer.consume({
          topics,
          autocommit: false,
          // A group resumes where it committed; a fresh group starts where asked.
          mode: group !== undefined ? 'committed' : from === 'beginning' ? 'earliest' : 'latest',
          fallbackMode: from === 'beginning' ? 'earliest' : 'latest',
        }),
        this.#conn.timeoutMs,
        `${where} (topics ${topics.join(', ')})`,
      );
      this.#logger.debug({ topics, group }, 'kafka source started');
      return stream;
    } catch (err) {
      await this.close();
      throw toHeraldError(err, `${where} (topics ${topics.join(', ')})`, this.#conn);
    }
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
    try {
      for await (const m of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
        if (this.#closed) break;
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

/** Creates a Kafka source (not started: reading starts with the first `messages()` iteration). */
export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  return new KafkaSource(options);
}
