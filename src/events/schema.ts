/**
 * The canonical event: CloudEvents 1.0 attributes plus Herald's extensions. These JSON
 * schemas are the single definition used to validate events at every entry point (library,
 * CLI, REST API) and to generate the OpenAPI document.
 */
import { Type, type Static } from 'typebox';

export const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Entity kinds are short identifiers such as `cluster`, `host`, `environment`, `node`. */
export const ENTITY_KIND_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';

export const EntityRef = Type.Object(
  {
    kind: Type.String({ pattern: ENTITY_KIND_PATTERN, description: 'Entity kind, e.g. cluster, host, environment' }),
    id: Type.String({ minLength: 1, maxLength: 255, description: 'Entity id, unique within its kind' }),
  },
  { additionalProperties: false, $id: 'EntityRef' },
);
export type EntityRef = Static<typeof EntityRef>;

const common = {
  source: Type.String({ minLength: 1, maxLength: 1024, pattern: '^\\S+$', description: 'CloudEvents source: a URI reference identifying the producer' }),
  type: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$', description: 'Event type, reverse-DNS recommended (com.example.cluster.state_changed)' }),
  subject: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  entity: Type.Optional(EntityRef),
  partitionkey: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Kafka record key; default: the entity, else the subject' })),
  message: Type.Optional(Type.String({ maxLength: 4096, description: 'Human-readable message' })),
  datacontenttype: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  dataschema: Type.Optional(Type.String({ format: 'uri' })),
  data: Type.Optional(Type.Unknown({ description: 'Event payload (any JSON value)' })),
};

/** An event as a caller hands it in: id, time and severity are optional and filled in once. */
export const EventInput = Type.Object(
  {
    specversion: Type.Optional(Type.Literal('1.0')),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    severity: Type.Optional(Type.Enum(SEVERITIES)),
    ...common,
    // CloudEvents-style flat spelling of `entity`, accepted so a CloudEvent from the wire validates.
    entitykind: Type.Optional(Type.String({ pattern: ENTITY_KIND_PATTERN })),
    entityid: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false, $id: 'EventInput' },
);
export type EventInput = Static<typeof EventInput>;

/** An event as Herald stores, streams and returns it: id, time and severity always present. */
export const HeraldEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 255 }),
    time: Type.String({ format: 'date-time' }),
    severity: Type.Enum(SEVERITIES),
    ...common,
  },
  { additionalProperties: false, $id: 'HeraldEvent' },
);

export interface HeraldEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** RFC 3339 timestamp, assigned once when the event is created. */
  readonly time: string;
  readonly severity: Severity;
  readonly subject?: string;
  readonly entity?: EntityRef;
  readonly partitionkey?: string;
  readonly message?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: unknown;
}

/** Keys allowed in an event input, for error messages. */
export const EVENT_INPUT_KEYS = Object.keys(EventInput.properties);
