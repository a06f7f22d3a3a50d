/**
 * Herald's public API: create and validate events, publish them with `createPublisher`, and
 * the types of configuration, profiles and errors.
 */
export * from './events/index.js';
export * from './errors.js';
export * from './config/index.js';
export { loadProducerProperties, parseProperties, producerSettingsFromProperties, type KafkaClientSettings, type ProducerPropertiesResult } from './config/producer-properties.js';
export * from './publisher/index.js';
export type { Profile, ProfileName, OutgoingMessage, IncomingMessage, DecodedMessage, EncodeContext, Transport } from './profiles/types.js';
export { getProfile, PROFILES as PROFILE_REGISTRY } from './profiles/index.js';
export { decodeMessage } from './profiles/decode.js';
export type { Sink, PublishOutcome, SinkStatus } from './sinks/types.js';
export { createSink } from './sinks/index.js';
export type { Source, ReceivedMessage, SourceOptions } from './sources/types.js';
export { createKafkaSource, type KafkaSourceOptions } from './sources/index.js';
export type { Logger } from './log.js';
