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
export { createNatsSource, type NatsSourceOptions } from './sources/nats.js';
export { createAmqpSource, type AmqpSourceOptions } from './sources/amqp.js';
export { subscribe, openSource, type SubscribeOptions, type Received } from './consumer/subscribe.js';
export { lifecycle, machine } from './profiles/choria/lifecycle.js';
export { startAliveTicker } from './profiles/choria/alive-ticker.js';
export { createRedactor, createValueRedactor } from './events/redact.js';
export { openStore } from './store/index.js';
export type { EventStore, EventQuery, EventPage } from './store/types.js';
export { buildApp } from './api/index.js';
export { startService } from './service/index.js';
export { createOutbox, createDurableDispatcher, type Outbox } from './outbox/index.js';
export { Tally, type TallyOptions } from './tally/tally.js';
export { startConnectHealth, ConnectHealth, type ConnectHealthOptions } from './connect-health/index.js';
