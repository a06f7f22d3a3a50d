/** The NATS (JetStream / core) sink. */
export { createNatsSink, type NatsSinkDeps } from './sink.js';
export {
  buildNatsOptions,
  classifyNatsError,
  connectNats,
  type BuiltNatsOptions,
  type NatsConnectSettings,
} from './connection.js';
export {
  DEFAULT_STREAM,
  DUPLICATE_WINDOW_MS,
  MSG_ID_HEADER,
  defaultStreamSubjects,
  natsHeaderPairs,
  natsMessageIds,
} from './mapping.js';
