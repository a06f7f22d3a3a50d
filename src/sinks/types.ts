/**
 * A Sink is one transport connection (Kafka, NATS, AMQP, stdout). It knows nothing of
 * profiles or the outbox: it publishes already-encoded messages and reports, per message,
 * whether the broker acknowledged it.
 */
import type { HeraldError } from '../errors.js';
import type { OutgoingMessage } from '../profiles/types.js';

export type PublishOutcome =
  | { ok: true }
  /** permanent: the broker will never take this message (too large, invalid topic); retrying is pointless. */
  | { ok: false; permanent: boolean; error: HeraldError };

export interface Sink {
  readonly name: string;
  readonly type: 'kafka' | 'nats' | 'amqp' | 'stdout';
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
  /** Flushes what is in flight and disconnects. Idempotent. */
  close(): Promise<void>;
}

/** What `GET /v2/sinks` and the metrics report per sink. */
export interface SinkStatus {
  name: string;
  type: Sink['type'];
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
}
