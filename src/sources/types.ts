/**
 * A Source reads messages from one transport (Kafka topics, NATS subjects, an AMQP exchange)
 * for `herald view`, `herald tally`, `herald bridge` and the library's `subscribe()`.
 */
import type { IncomingMessage } from '../profiles/types.js';

export interface SourceOptions {
  /** Start at the oldest retained message, or only new ones (default). */
  from?: 'beginning' | 'latest';
  /**
   * Consumer group (Kafka group id, JetStream durable name, AMQP named durable queue): several
   * readers with the same group share the messages. Undefined = broadcast (each reader sees all).
   */
  group?: string;
  signal?: AbortSignal;
}

export interface ReceivedMessage extends IncomingMessage {
  /** Acknowledge/commit after processing (no-op where the transport has no acks). */
  ack(): Promise<void>;
}

export interface Source {
  /** Yields messages until close() or the signal aborts. Reconnects after transient failures. */
  messages(): AsyncIterable<ReceivedMessage>;
  /** Stops reading and disconnects. Idempotent. */
  close(): Promise<void>;
}
