/**
 * The two message shapes between profiles and transports: what a profile encodes for the wire
 * (OutgoingMessage) and what a transport read from it (IncomingMessage). Both sides import
 * them from here, so neither depends on the other.
 */

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
