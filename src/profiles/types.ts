/**
 * A profile maps canonical events to one ecosystem's topics, keys and bytes (encode), and
 * recognises that ecosystem's messages when reading (decode). Profiles are pure: no I/O.
 *
 * A profile also describes itself — its default topic, its options, the `herald emit` flags
 * it adds, where it sits in the decode chain and what survives a round trip through its wire
 * format — and the registry (registry.ts) derives everything else from that: the config
 * schema, CLI help and flags, the decode order and the conformance suite's expectations.
 */
import type { TProperties } from 'typebox';
import type { FieldProblem } from '../errors.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import type { IncomingMessage, OutgoingMessage } from '../messages.js';

export type { IncomingMessage, OutgoingMessage } from '../messages.js';

export interface EncodeContext {
  /** The transport the messages go to (`kafka`, `nats`, `amqp`, `stdout`). */
  transport: string;
  /** The sink's resolved topic (profiles with their own topic scheme ignore it). */
  topic: string;
  /** cloudevents: binary (default on Kafka/AMQP) or structured (always on NATS). */
  mode?: 'binary' | 'structured';
  /** The sink's profileOptions, validated against the profile's own schema. */
  options?: Readonly<Record<string, unknown>>;
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

/** Event fields a profile's wire format carries through an encode → decode round trip. */
export type RoundTripField = 'id' | 'type' | 'source' | 'subject' | 'time' | 'timeSeconds' | 'entity' | 'data' | 'message' | 'severity';

/** `herald emit` flags as parsed: string values, `data` already parsed JSON, `entity` split. */
export interface EmitFlags {
  type?: string;
  source?: string;
  subject?: string;
  id?: string;
  time?: string;
  severity?: string;
  entity?: { kind: string; id: string };
  key?: string;
  data?: unknown;
  [flag: string]: unknown;
}

/** How a profile turns `herald emit` flags into an event. */
export interface ProfileEmit {
  /** The flags this profile adds (without `--`), each with its help text. */
  readonly flags: Readonly<Record<string, string>>;
  /** What `--type` means for this profile (help text). */
  readonly typeHelp?: string;
  /** The event input; throws UsageError naming the flag when one is missing or wrong. */
  input(flags: EmitFlags): EventInput;
}

export interface Profile {
  readonly name: string;
  /** One line for help texts and docs. */
  readonly description: string;
  /** The topic its ecosystem's consumers read when a sink names none. */
  readonly defaultTopic?: string;
  /** Its `profileOptions` keys (TypeBox properties); none when it takes no options. */
  readonly options?: TProperties;
  /** CloudEvents modes it can write (`mode` of a sink); undefined: `mode` does not apply. */
  readonly modes?: readonly ('binary' | 'structured')[];
  /** Place in the decode chain, lower first: the most specific recognisers go first. */
  readonly decodeOrder: number;
  /** What survives encode → decode through its wire format (the conformance suite checks it). */
  readonly roundTrip: readonly RoundTripField[];
  /** `herald emit` support beyond the common flags; undefined: the common flags map 1:1. */
  readonly emit?: ProfileEmit;
  /**
   * What keeps an event from being encoded (paths like `data.component`), found cheaply at
   * ingest so the event is refused (400) before it is stored; empty when it can be encoded.
   */
  check?(event: HeraldEvent, ctx: EncodeContext): FieldProblem[];
  /** Maps one canonical event to zero or more messages (zero = this profile does not carry it). */
  encode(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[];
  /** Messages to publish when a relay for this profile starts (aliecs: an empty active list). */
  onStart?(ctx: EncodeContext): OutgoingMessage[];
  /** Recognises a message of this profile; returns undefined when it is not one of its forms. */
  decode?(msg: IncomingMessage): DecodedMessage | undefined;
  /** One readable line (without the time), e.g. `[startup] c1.example.net: server 0.6.0`. */
  summary?(decoded: DecodedMessage): string;
}
