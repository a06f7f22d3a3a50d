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
import type { ProfileName } from '../profiles/registry.js';
import type { DecodedMessage } from '../profiles/types.js';
import { SOURCE_TRANSPORTS, TRANSPORTS, type TransportName } from '../transports/registry.js';
import type { ReceivedMessage, Source, TransportDefinition } from '../transports/types.js';

type SpecOf<D> = D extends TransportDefinition<unknown, unknown, infer S> ? S : never;

/** What each readable transport reads: `kafka: { brokers, topics | pattern }`, `nats: { url, subjects }`, `amqp: { url, exchange?, binding? }`. */
export type SourceSpecs = { [T in Exclude<TransportName, 'stdout'>]?: SpecOf<(typeof TRANSPORTS)[T]> };

export interface SubscribeOptions extends SourceSpecs {
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

/** Opens the Source the options describe (exactly one transport; its client library is loaded now). */
export async function openSource(options: SubscribeOptions): Promise<Source> {
  const chosen = SOURCE_TRANSPORTS.filter((t) => (options as unknown as Record<string, unknown>)[t] !== undefined);
  if (chosen.length !== 1) {
    throw new HeraldError('USAGE', `choose exactly one transport (${SOURCE_TRANSPORTS.join(', ')}), got ${chosen.length === 0 ? 'none' : chosen.join(' and ')}`);
  }
  const name = chosen[0]!;
  const group = options.consumer === 'broadcast' ? undefined : options.consumer.group;
  const createSource = await TRANSPORTS[name].loadSource!();
  return (createSource as (spec: unknown, o: object) => Source)((options as unknown as Record<string, unknown>)[name], {
    ...(group !== undefined && { group }),
    ...(options.from !== undefined && { from: options.from }),
    ...(options.signal !== undefined && { signal: options.signal }),
    logger: options.logger ?? silentLogger,
  });
}

/**
 * Yields every message decoded (ok) or with its decode error (not ok); never throws for a
 * single bad message. The caller acks (`item.message.ack()`) after processing. Ends when the
 * signal aborts or the loop is left (the source is closed either way).
 */
export async function* subscribe(options: SubscribeOptions): AsyncGenerator<Received> {
  const source = await openSource(options);
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
