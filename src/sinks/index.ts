/** The sink factory: one Sink per configured sink (kafka, nats, amqp, stdout). */
import type { SinkConfig } from '../config/schema.js';
import { HeraldError } from '../errors.js';
import type { Logger } from '../log.js';
import { KafkaSink } from './kafka/sink.js';
import type { TopicSpec } from './kafka/topics.js';
import { StdoutSink } from './stdout.js';
import { createAmqpSink } from './amqp/index.js';
import { createNatsSink } from './nats/index.js';
import type { Sink } from './types.js';

export * from './types.js';
export { KafkaSink, toKafkaRecord, type KafkaSinkOptions, type KafkaDelivery } from './kafka/sink.js';
export { ensureTopics, describeTopics, listTopicNames, type TopicSpec, type TopicDescription } from './kafka/topics.js';
export { StdoutSink, type StdoutSinkOptions } from './stdout.js';
export { createNatsSink } from './nats/index.js';
export { createAmqpSink } from './amqp/index.js';

/** What createSink passes to every sink. */
export interface SinkDeps {
  logger: Logger;
  /** stdout sink: where lines go (default process.stdout). */
  stream?: NodeJS.WritableStream;
}

/** Topics a Kafka sink should create or verify, from its `topics` settings. */
function topicSpecs(config: SinkConfig): TopicSpec[] {
  if (config.topics === undefined || config.topic === undefined) return [];
  const t = config.topics;
  return [{
    topic: config.topic,
    ...(t.partitions !== undefined && { partitions: t.partitions }),
    ...(t.replicationFactor !== undefined && { replicationFactor: t.replicationFactor }),
    ...(t.minInsyncReplicas !== undefined && { minInsyncReplicas: t.minInsyncReplicas }),
    ...(t.retentionMs !== undefined && { retentionMs: t.retentionMs }),
  }];
}

/** Builds the sink of one config entry (not connected yet: sinks connect lazily). */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  switch (config.type) {
    case 'kafka':
      return new KafkaSink({
        name: config.name,
        ...(config.brokers !== undefined && { brokers: config.brokers }),
        ...(config.producerProperties !== undefined && { producerProperties: config.producerProperties }),
        ...(config.clientId !== undefined && { clientId: config.clientId }),
        ...(config.timeoutMs !== undefined && { timeoutMs: config.timeoutMs }),
        topics: topicSpecs(config),
        createTopics: config.topics?.create ?? true,
        logger: deps.logger,
      });
    case 'stdout':
      return new StdoutSink({ name: config.name, ...(deps.stream !== undefined && { stream: deps.stream }) });
    case 'nats':
      return createNatsSink(config, deps);
    case 'amqp':
      return createAmqpSink(config, deps);
    default:
      throw new HeraldError('CONFIG', `unknown sink type "${String((config as { type: unknown }).type)}"`);
  }
}
