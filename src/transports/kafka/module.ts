/** The Kafka transport's implementation, loaded on first use (it brings the client library). */
import type { TransportModule } from '../types.js';
import type { KafkaResolved, KafkaSourceSpec } from './options.js';
import { KafkaSink } from './sink.js';
import { KafkaSource } from './source.js';

export const kafkaModule: TransportModule<KafkaResolved, KafkaSourceSpec> = {
  createSink(base, r, deps) {
    const topics = r.topics !== undefined && base.topic !== undefined
      ? [{ topic: base.topic, ...withoutCreate(r.topics) }]
      : [];
    return new KafkaSink({ name: base.name, conn: r.conn, topics, createTopics: r.topics?.create ?? true, logger: deps.logger });
  },
  createSource: (spec, options) => new KafkaSource({ ...spec, ...options }),
};

function withoutCreate(t: NonNullable<KafkaResolved['topics']>) {
  const { create: _create, ...rest } = t;
  return rest;
}
