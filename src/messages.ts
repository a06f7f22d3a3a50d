/**
 * The two message shapes between profiles and transports: what a profile encodes for the wire
 * (OutgoingMessage) and what a transport read from it (IncomingMessage). Both sides import
 * them from here, so neither depends on the other.
 */

/**
 * What a transport may add to a message besides its topic, key, value and the fields the
 * profile set (`ceAttributes`, `headers`, `priority`):
 * - `herald` (the default): Herald's own metadata — a `content-type` header from `contentType`
 *   (Kafka, NATS), the AMQP `messageId` (the event id) and `timestamp` properties.
 * - `none`: the upstream system sends bare messages and its consumers see nothing else.
 *   `contentType` then travels only where the protocol has a property for it (AMQP's
 *   content-type), never as a header; no message id, no timestamp, no empty headers table.
 * Kept in both, because a delivery promise rests on them: AMQP delivery mode 2 (persistent)
 * and the mandatory flag (unroutable messages are parked, not lost; a publish flag, never on
 * the delivered message), and JetStream's `Nats-Msg-Id` (de-duplication of retried publishes;
 * core NATS gets no header at all).
 */
export type WireMetadata = 'herald' | 'none';

/** A message ready for any transport; each transport maps it to its protocol. */
export interface OutgoingMessage {
  /** The canonical event this message came from (JetStream Nats-Msg-Id, AMQP messageId). */
  eventId: string;
  /** Kafka topic, NATS subject, or AMQP routing key. */
  topic: string;
  /** Ordering key: Kafka record key; undefined = no key. */
  key?: string;
  /** The bytes; null = no value (a binary-mode CloudEvent without data). */
  value: Buffer | null;
  /** The value's media type (`content-type` header / AMQP property). */
  contentType?: string;
  /**
   * CloudEvents attributes carried beside the value (binary mode), without prefix. Each
   * transport writes them with its binding's prefix: Kafka `ce_<name>` headers, AMQP
   * `cloudEvents_<name>` application properties, NATS `ce-<name>` headers.
   */
  ceAttributes?: Record<string, string>;
  /** Other transport headers, as is. */
  headers?: Record<string, string>;
  /** What the transport may add (see WireMetadata); undefined = `herald`. */
  metadata?: WireMetadata;
  /** AMQP `priority` property (0-9), where the protocol has one; undefined = not set. */
  priority?: number;
}

/** A message as a source read it. */
export interface IncomingMessage {
  /** The transport it came from (`kafka`, `nats`, `amqp`); names foreign JSON's source. */
  transport?: string;
  topic: string;
  key?: string | null;
  value: Buffer | null;
  /** Every transport header as text, names as received. */
  headers: Record<string, string>;
  /**
   * CloudEvents attributes of a binary-mode message, prefix removed by the transport that
   * read it (`datacontenttype` from the content type); undefined when there are none.
   */
  ceAttributes?: Record<string, string>;
  partition?: number;
  offset?: string;
  /** Broker timestamp, ms since epoch. */
  timestamp?: number;
}

/** The bytes a message takes on the wire besides framing: value, key, content type, headers. */
export function messageBytes(m: OutgoingMessage): number {
  let n = (m.value?.length ?? 0) + (m.key !== undefined ? Buffer.byteLength(m.key) : 0) + (m.contentType !== undefined ? 12 + m.contentType.length : 0);
  if (m.ceAttributes !== undefined) for (const k in m.ceAttributes) n += 5 + k.length + Buffer.byteLength(m.ceAttributes[k]!);
  if (m.headers !== undefined) for (const k in m.headers) n += 2 + k.length + Buffer.byteLength(m.headers[k]!);
  return n;
}
