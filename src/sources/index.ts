export * from './types.js';
export { KafkaSource, createKafkaSource, type KafkaSourceOptions } from './kafka.js';
export { createNatsSource, type NatsSourceOptions } from './nats.js';
export { createAmqpSource, type AmqpSourceOptions } from './amqp.js';
