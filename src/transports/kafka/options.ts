/** The Kafka transport's option types and schema pieces (no client library here). */
import { Type } from 'typebox';
import type { KafkaConnection } from './connection.js';
import type { TopicSpec } from './topics.js';

/** Java's default `max.request.size`; the broker's default `message.max.bytes` is a little more. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/** Kafka topic settings a sink can create or verify (`herald topics` shows the same). */
export const TopicSettings = Type.Object(
  {
    create: Type.Optional(Type.Boolean({ description: 'create missing topics (default true)' })),
    partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    replicationFactor: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    minInsyncReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    retentionMs: Type.Optional(Type.Integer({ minimum: -1 })),
  },
  { additionalProperties: false },
);

/** A Kafka sink's own keys. */
export interface KafkaOptions {
  brokers?: string[];
  producerProperties?: string;
  clientId?: string;
  topics?: { create?: boolean; partitions?: number; replicationFactor?: number; minInsyncReplicas?: number; retentionMs?: number };
  timeoutMs?: number;
}

/** What a Kafka sink is built from. */
export interface KafkaResolved {
  conn: KafkaConnection;
  /** The `topics` settings, applied to the binding's topic on first connect. */
  topics?: Omit<TopicSpec, 'topic'> & { create?: boolean };
}

