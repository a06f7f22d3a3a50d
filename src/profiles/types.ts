/**
 * A profile maps canonical events to one ecosystem's topics, keys and bytes (encode), and
 * recognises that ecosystem's messages when reading (decode). Profiles are pure: no I/O.
 */
import type { HeraldEvent } from '../events/schema.js';
import type { SinkConfig } from '../config/schema.js';

export type ProfileName = NonNullable<SinkConfig['profile']>;
export type Transport = 'kafka' | 'nats' | 'amqp' | 'stdout';

/** A message ready for any transport; each sink binds it to its protocol. */
export interface OutgoingMessage {
  /** The canonical event this message came from (JetStream Nats-Msg-Id, AMQP messageId). */
  eventId: string;
  /** Kafka topic, NATS subject, or AMQP routing key. */
  topic: string;
  /** Ordering key: Kafka record key; undefined = no key. */
  key?: string;
  /** The bytes; null = no value (a binary-mode CloudEvent without data). */
  value: Buffer | null;
  /** The value's media type (`content-type` header / AMQP property). */
  contentType?: string;
  /**
   * CloudEvents attributes carried beside the value (binary mode), without prefix:
   * Kafka writes them as `ce_<name>` headers, AMQP as `cloudEvents_<name>`.
   */
  ceAttributes?: Record<string, string>;
  /** Other transport headers, as is. */
  headers?: Record<string, string>;
}

export interface EncodeContext {
  transport: Transport;
  /** The sink's configured topic (profiles with their own topic scheme ignore it). */
  topic: string;
  /** cloudevents: binary (default on Kafka/AMQP) or structured (always on NATS). */
  mode?: 'binary' | 'structured';
  options?: NonNullable<SinkConfig['profileOptions']>;
}

/** A message as a source read it. */
export interface IncomingMessage {
  topic: string;
  key?: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition?: number;
  offset?: string;
  /** Broker timestamp, ms since epoch. */
  timestamp?: number;
}

/** What a decoder recognised. */
export interface DecodedMessage {
  /** The profile that recognised it (cloudevents, aliecs, choria, cloudstack, assisted, json). */
  profile: string;
  /** The form within the profile, e.g. binary | structured | plain | protobuf | legacy. */
  format: string;
  /** The message as a canonical event (best effort for foreign formats). */
  event: HeraldEvent;
  /** The profile's own decoded document (e.g. the Choria plain event), for `--format json`. */
  document: unknown;
}

export interface Profile {
  readonly name: ProfileName;
  /** Maps one canonical event to zero or more messages (zero = this profile does not carry it). */
  encode(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[];
  /** Messages to publish when a relay for this profile starts (aliecs: an empty active list). */
  onStart?(ctx: EncodeContext): OutgoingMessage[];
  /** Recognises a message of this profile; returns undefined when it is not one of its forms. */
  decode?(msg: IncomingMessage): DecodedMessage | undefined;
  /** One readable line (without the time), e.g. `[startup] c1.example.net: server 0.6.0`. */
  summary?(decoded: DecodedMessage): string;
}
