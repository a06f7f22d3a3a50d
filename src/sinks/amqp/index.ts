/** The AMQP 0-9-1 (RabbitMQ) sink. */
export { createAmqpSink, type AmqpSinkDeps } from './sink.js';
export {
  amqpConnectError,
  buildAmqpOptions,
  connectAmqp,
  type AmqpConnectSettings,
  type BuiltAmqpOptions,
} from './connection.js';
export { CE_HEADER_PREFIX, DEFAULT_EXCHANGE, amqpPublishOptions, headerValueToString } from './mapping.js';
