/**
 * `herald view --partition N --offset beginning|end|N|-N|@<timestamp ms>` on Kafka, like
 * `kcat -C -p N -o …`: the start offset of every partition read is resolved first (ListOffsets:
 * earliest, latest, or the first offset at or after a timestamp), then the messages are read
 * from there. `-N` is N before the end of each partition (never before its beginning). With
 * --group the offsets read are committed to that group after each message, as without --offset.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { HeraldError, UsageError } from '../errors.js';
import type { ReceivedMessage, Source } from '../transports/types.js';
import { baseClientOptions, resolveKafkaConnection } from '../transports/kafka/connection.js';
import { toHeraldError, withTimeout } from '../transports/kafka/errors.js';
import { fromKafkaRecord } from '../transports/kafka/mapping.js';

export type OffsetSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'absolute'; offset: bigint }
  | { kind: 'fromEnd'; count: bigint }
  | { kind: 'timestamp'; ms: bigint };

/** Parses `--offset`: beginning, end, N, -N or @<timestamp in ms>. */
export function parseOffset(value: string): OffsetSpec {
  const v = value.trim();
  if (v === 'beginning' || v === 'earliest') return { kind: 'beginning' };
  if (v === 'end' || v === 'latest') return { kind: 'end' };
  if (/^\d+$/.test(v)) return { kind: 'absolute', offset: BigInt(v) };
  if (/^-\d+$/.test(v)) return { kind: 'fromEnd', count: BigInt(v.slice(1)) };
  if (/^@\d+$/.test(v)) return { kind: 'timestamp', ms: BigInt(v.slice(1)) };
  throw new UsageError(`--offset must be beginning, end, N, -N or @<timestamp in ms>, got "${value}"`, [{ path: '--offset', message: 'must be beginning, end, N, -N or @<timestamp ms>' }]);
}

export interface SeekOptions {
  brokers: readonly string[];
  producerProperties?: string;
  topics: readonly string[];
  /** Only this partition (every partition when undefined). */
  partition?: number;
  /** Where to start; beginning when undefined and fromBeginning, else end. */
  offset: OffsetSpec;
  group?: string;
  signal?: AbortSignal;
}

/** Start offset of one partition from its earliest/latest offsets and the spec. */
export function startOffset(spec: OffsetSpec, earliest: bigint, latest: bigint, atTimestamp?: bigint): bigint {
  switch (spec.kind) {
    case 'beginning': return earliest;
    case 'end': return latest;
    case 'absolute': return spec.offset < earliest ? earliest : spec.offset > latest ? latest : spec.offset;
    case 'fromEnd': return latest - spec.count < earliest ? earliest : latest - spec.count;
    // ListOffsets answers -1 when no message is that recent: start at the end.
    case 'timestamp': return atTimestamp === undefined || atTimestamp < 0n ? latest : atTimestamp;
  }
}

/** A Source reading from resolved offsets (the `--offset`/`--partition` form of the Kafka source). */
export class SeekingKafkaSource implements Source {
  readonly #o: SeekOptions;
  readonly #conn;
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(options: SeekOptions) {
    this.#o = options;
    this.#conn = resolveKafkaConnection({
      brokers: options.brokers,
      timeoutMs: 30_000,
      ...(options.producerProperties !== undefined && { producerProperties: options.producerProperties }),
    }, 'herald-view');
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  async #start(): Promise<void> {
    const where = `reading from Kafka at ${this.#conn.brokers.join(',')} (topics ${this.#o.topics.join(', ')})`;
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...baseClientOptions(this.#conn),
      groupId: this.#o.group ?? `herald-view-${randomUUID()}`,
      autocommit: false,
      maxWaitTime: 500,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    this.#consumer = consumer;
    try {
      const topics = [...this.#o.topics];
      const partitions = this.#o.partition !== undefined ? Object.fromEntries(topics.map((t) => [t, [this.#o.partition!]])) : undefined;
      const list = (timestamp: bigint) => withTimeout(consumer.listOffsets({ topics, ...(partitions && { partitions }), timestamp }), this.#conn.timeoutMs, where);
      const [earliest, latest] = [await list(-2n), await list(-1n)];
      const spec = this.#o.offset;
      const at = spec.kind === 'timestamp' ? await list(spec.ms) : undefined;
      const offsets: { topic: string; partition: number; offset: bigint }[] = [];
      for (const topic of topics) {
        const hi = latest.get(topic) ?? [];
        hi.forEach((end, partition) => {
          if (end === undefined) return;
          const start = earliest.get(topic)?.[partition] ?? 0n;
          offsets.push({ topic, partition, offset: startOffset(spec, start, end, at?.get(topic)?.[partition]) });
        });
      }
      if (offsets.length === 0) throw new HeraldError('NOT_FOUND', `no partition ${this.#o.partition ?? ''} in ${topics.join(', ')}`);
      this.#stream = await withTimeout(consumer.consume({ topics, autocommit: false, mode: 'manual', offsets }), this.#conn.timeoutMs, where);
    } catch (err) {
      await this.close();
      if (err instanceof HeraldError) throw err;
      const msg = (err as Error).message ?? '';
      if (/partition\(s\) not found/i.test(msg)) {
        throw new UsageError(`--partition ${this.#o.partition}: no such partition in ${this.#o.topics.join(', ')}`, [{ path: '--partition', message: 'no such partition' }]);
      }
      throw toHeraldError(err, where, this.#conn);
    }
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async *messages(): AsyncIterable<ReceivedMessage> {
    if (this.#closed) return;
    await this.start();
    const stream = this.#stream;
    if (stream === undefined) return;
    const committing = this.#o.group !== undefined;
    const only = this.#o.partition;
    try {
      for await (const m of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
        if (this.#closed) break;
        if (only !== undefined && m.partition !== only) continue;
        yield { ...fromKafkaRecord(m), ack: async () => { if (committing) await m.commit(); } };
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
    if (stream !== undefined) await withTimeout(stream.close(), 5000, 'closing the Kafka stream').catch(() => undefined);
    if (consumer !== undefined) await withTimeout(consumer.close(), 5000, 'closing the Kafka consumer').catch(() => consumer.close(true, () => undefined));
  }
}
