/**
 * Route schemas. The same TypeBox definitions validate requests, shape responses and
 * generate the OpenAPI document (/openapi.json). Event bodies reuse the event module's
 * EventInput, and their validation goes through eventProblems/batchProblems so the API, the
 * CLI and the library report the same problems with the same paths.
 */
import { Type, type TSchema } from 'typebox';
import { ENTITY_KIND_PATTERN, EventInput, HeraldEventSchema, SEVERITIES } from '../events/schema.js';

/** Deep copy without `$id`s: a schema reused in several routes (or twice in one) must not register an id twice. */
export function plain<T extends TSchema>(schema: T): T {
  return JSON.parse(JSON.stringify(schema), (k, v: unknown) => (k === '$id' ? undefined : v)) as T;
}

/** Marks a body schema whose validation is the event module's (see validation.ts). */
export const EVENTS_BODY = 'x-herald-events-body';

export const MAX_BATCH = 1000;
export const MAX_LIMIT = 5000;
export const DEFAULT_LIMIT = 100;

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'What went wrong and what to do' }),
  code: Type.String({ description: 'Herald error code, e.g. INVALID_EVENT, UNAUTHORIZED' }),
  details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorBody]));

export const Event = plain(HeraldEventSchema);

export const EventsBody = {
  ...Type.Union([plain(EventInput), Type.Array(plain(EventInput), { minItems: 1, maxItems: MAX_BATCH })], {
    description: `One event or an array of at most ${MAX_BATCH}; all or nothing`,
  }),
  [EVENTS_BODY]: true,
};

const StringOrList = (description: string) =>
  Type.Union([Type.String(), Type.Array(Type.String())], { description: `${description}; repeat the parameter or give a comma-separated list` });

export const EventsQuery = Type.Object({
  entity_kind: Type.Optional(Type.String({ minLength: 1, description: 'Entity kind, e.g. cluster' })),
  entity_id: Type.Optional(StringOrList('Entity id(s)')),
  severities: Type.Optional(StringOrList(`Severities (${SEVERITIES.join(', ')})`)),
  types: Type.Optional(StringOrList('Event types')),
  source: Type.Optional(Type.String({ minLength: 1, description: 'Exact event source' })),
  message: Type.Optional(Type.String({ description: 'Case-insensitive substring of the message' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time (RFC 3339)' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time (RFC 3339)' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `Page size (max ${MAX_LIMIT})` })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  order: Type.Optional(Type.Union([Type.Literal('ascending'), Type.Literal('descending')], { default: 'ascending', description: 'By event time' })),
  cluster_id: Type.Optional(Type.String({ minLength: 1, description: 'Alias: entity_kind=cluster&entity_id=ID' })),
  host_ids: Type.Optional(StringOrList('Alias: entity_kind=host&entity_id=IDs')),
  infra_env_id: Type.Optional(Type.String({ minLength: 1, description: 'Alias: entity_kind=infra-env&entity_id=ID' })),
});

/** The list filters without paging, for the live stream; `last_event_id` stands in for the header. */
export const StreamQuery = Type.Object({
  ...Type.Omit(EventsQuery, ['limit', 'offset', 'order']).properties,
  last_event_id: Type.Optional(Type.String({ minLength: 1, description: 'Resume after this event id (like the Last-Event-ID header)' })),
});

export const Accepted = Type.Object({
  accepted: Type.Integer({ description: 'Events in the request, now durably stored (duplicates of stored ids are ignored)' }),
  ids: Type.Array(Type.String()),
});

export const EntityParams = Type.Object({
  kind: Type.String({ pattern: ENTITY_KIND_PATTERN }),
  id: Type.String({ minLength: 1, maxLength: 255 }),
});

export const StateBody = Type.Object(
  {
    state: Type.String({ maxLength: 64, description: 'New state, e.g. RUNNING; DESTROY or empty is recorded as UNKNOWN' }),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'E.g. runNumber, runType, detectors; omitted keeps the current attributes' })),
  },
  { additionalProperties: false },
);

export const Entity = Type.Object({
  kind: Type.String(),
  id: Type.String(),
  state: Type.String(),
  previous: Type.Union([Type.String(), Type.Null()]),
  enteredAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
});

export const StateResult = Type.Object({
  previous: Type.Union([Entity, Type.Null()]),
  current: Entity,
  events: Type.Array(Type.String(), { description: 'Ids of the notifications produced (leave, enter, list)' }),
});

export const EntitiesQuery = Type.Object({
  kind: Type.Optional(Type.String({ minLength: 1 })),
  state: Type.Optional(Type.String({ minLength: 1 })),
});

export const SinkStatusSchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  profile: Type.String(),
  enabled: Type.Boolean(),
  connected: Type.Boolean(),
  pending: Type.Integer(),
  parked: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  retries: Type.Integer(),
  oldestPendingAgeSeconds: Type.Union([Type.Number(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastErrorAt: Type.Union([Type.String(), Type.Null()]),
});

export const Status = Type.Object({ status: Type.String() }, { additionalProperties: true });

export { errors };
