/**
 * The library's consumer API: an async iterator of decoded, typed events from any transport
 * and profile. `herald view`, `tally` and `bridge` are built on it.
 *
 *   for await (const item of subscribe({ kafka: { brokers, topics: ['herald.events'] }, consumer: 'broadcast' })) {
 *     if (item.ok) console.log(item.decoded.event.type);
 *   }
 */
import { HeraldError, isHeraldError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { decodeMessage } from '../profiles/decode.js';
import type { DecodedMessage, ProfileName } from '../profiles/types.js';
import { createAmqpSource } from '../sources/amqp.js';
import { createKafkaSource } from '../sources/kafka.js';
import { createNatsSource } from '../sources/nats.js';
import type { ReceivedMessage, Source } from '../sources/types.js';

export interface KafkaTransport {
  brokers: string[];
  topics?: string[];
  pattern?: RegExp;
  producerProperties?: string;
}
export interface NatsTransport {
  url: string;
  subjects: string[];
  /** JetStream stream (optional): read from JetStream rather than core NATS. */
  stream?: string;
}
export interface AmqpTransport {
  url: string;
  exchange?: string;
  binding?: string | string[];
}

export interface SubscribeOptions {
  kafka?: KafkaTransport;
  nats?: NatsTransport;
  amqp?: AmqpTransport;
  /**
   * Chosen explicitly: `{ group }` shares messages among readers of the same group (Kafka
   * consumer group, JetStream durable, named AMQP queue); `'broadcast'` gives this reader
   * every message.
   */
  consumer: { group: string } | 'broadcast';
  from?: 'beginning' | 'latest';
  /** Decoder tried first. */
  profile?: ProfileName;
  signal?: AbortSignal;
  logger?: Logger;
}

export type Received =
  | { ok: true; decoded: DecodedMessage; message: ReceivedMessage }
  | { ok: false; error: HeraldError; message: ReceivedMessage };

/** Opens the Source the options describe (exactly one transport). */
export function openSource(options: SubscribeOptions): Source {
  const chosen = [options.kafka && 'kafka', options.nats && 'nats', options.amqp && 'amqp'].filter(Boolean);
  if (chosen.length !== 1) {
    throw new HeraldError('USAGE', `choose exactly one transport (kafka, nats or amqp), got ${chosen.length === 0 ? 'none' : chosen.join(' and ')}`);
  }
  const group = options.consumer === 'broadcast' ? undefined : options.consumer.group;
  const common = {
    ...(group !== undefined && { group }),
    ...(options.from !== undefined && { from: options.from }),
    ...(options.signal !== undefined && { signal: options.signal }),
    logger: options.logger ?? silentLogger,
  };
  if (options.kafka) {
    return createKafkaSource({
      ...common,
      brokers: options.kafka.brokers,
      ...(options.kafka.topics !== undefined && { topics: options.kafka.topics }),
      ...(options.kafka.pattern !== undefined && { pattern: options.kafka.pattern }),
      ...(options.kafka.producerProperties !== undefined && { producerProperties: options.kafka.producerProperties }),
    });
  }
  if (options.nats) {
    return createNatsSource({
      ...common,
      url: options.nats.url,
      subjects: options.nats.subjects,
      ...(options.nats.stream !== undefined && { stream: options.nats.stream }),
    });
  }
  const amqp = options.amqp!;
  return createAmqpSource({
    ...common,
    url: amqp.url,
    ...(amqp.exchange !== undefined && { exchange: amqp.exchange }),
    ...(amqp.binding !== undefined && { binding: amqp.binding }),
  });
}

/**
 * Yields every message decoded (ok) or with its decode error (not ok); never throws for a
 * single bad message. The caller acks (`item.message.ack()`) after processing. Ends when the
 * signal aborts or the loop is left (the source is closed either way).
 */
export async function* subscribe(options: SubscribeOptions): AsyncGenerator<Received> {
  const source = openSource(options);
  try {
    for await (const message of source.messages()) {
      try {
        yield { ok: true, decoded: decodeMessage(message, options.profile), message };
      } catch (err) {
        const error = isHeraldError(err) ? err : new HeraldError('DECODE', `cannot decode message on ${message.topic}: ${String(err)}`, { cause: err });
        yield { ok: false, error, message };
      }
    }
  } finally {
    await source.close();
  }
}
