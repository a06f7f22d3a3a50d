/**
 * Herald's public API: create and validate events, publish them with `createPublisher`, read
 * them with `subscribe`, and the types of configuration, profiles, transports and errors.
 */
export * from './events/index.js';
export * from './errors.js';
export * from './config/index.js';
export { parseProperties, producerSettingsFromProperties, loadProducerProperties, type KafkaClientSettings, type ProducerPropertiesResult } from './transports/kafka/properties.js';
export { createPublisher, type Publisher, type PublisherOptions, type DurableOptions } from './pipeline/publisher.js';
export { Ingest, type IngestResult, type StateChange } from './pipeline/ingest.js';
export { openDurablePipeline, type DurablePipeline } from './pipeline/durable.js';
export type { Profile, EncodeContext, DecodedMessage, RoundTripField, OutgoingMessage, IncomingMessage } from './profiles/types.js';
export { getProfile, PROFILES as PROFILE_REGISTRY, PROFILE_NAMES, type ProfileName } from './profiles/registry.js';
export { decodeMessage } from './profiles/decode.js';
export type { Sink, Source, PublishOutcome, SinkStatus, ReceivedMessage, SourceOptions, TransportDefinition } from './transports/types.js';
export { TRANSPORTS, TRANSPORT_NAMES, type TransportName } from './transports/registry.js';
export { SinkBinding, createBindings } from './delivery/binding.js';
export type { Logger } from './log.js';
export { subscribe, openSource, type SubscribeOptions, type SourceSpecs, type Received } from './consumer/subscribe.js';
export { lifecycle, machine } from './profiles/choria/lifecycle.js';
export { startAliveTicker } from './profiles/choria/alive-ticker.js';
export { createRedactor, createValueRedactor } from './events/redact.js';
export { openStore } from './store/index.js';
export type { EventStore, EventQuery, EventPage } from './store/types.js';
export { buildApp } from './api/index.js';
export { startService } from './service/index.js';
export { createOutbox, outboxSchema, type Outbox } from './outbox/index.js';
export { Tally, type TallyOptions } from './tally/tally.js';
export { startConnectHealth, ConnectHealth, type ConnectHealthOptions } from './connect-health/index.js';
