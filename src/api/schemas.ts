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
  // The Assisted Installer's scope (src/api/query.ts assistedScope); an event's cluster, host and
  // infra-env come from its entity or data (src/events/refs.ts).
  cluster_id: Type.Optional(Type.String({ minLength: 1, description: "Assisted alias: every event of the cluster, its hosts' events included; narrowed by host_ids / cluster_level (either matches)" })),
  host_ids: Type.Optional(StringOrList('Assisted alias: events of these hosts (within cluster_id when given)')),
  host_id: Type.Optional(Type.String({ minLength: 1, description: 'Deprecated Assisted alias: one host, added to host_ids' })),
  infra_env_id: Type.Optional(Type.String({ minLength: 1, description: "Assisted alias: every event of the infra-env, its hosts' events included (when neither cluster_id nor host_ids is given)" })),
  cluster_level: Type.Optional(Type.Boolean({ description: 'Assisted alias, with cluster_id: the cluster-level events (no host); with host_ids too, those OR the hosts\' events' })),
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
  /** HTTP sinks (webhook) only: the endpoint's latency and last response status. */
  endpoint: Type.Optional(Type.Object({
    url: Type.String({ description: 'the endpoint, without credentials or query' }),
    lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last answer' }),
    lastResponseAt: Type.Union([Type.String(), Type.Null()]),
    requests: Type.Integer(),
    succeeded: Type.Integer({ description: 'requests answered 2xx' }),
    latencyMs: Type.Object({
      last: Type.Union([Type.Number(), Type.Null()]),
      p50: Type.Union([Type.Number(), Type.Null()]),
      p99: Type.Union([Type.Number(), Type.Null()]),
      max: Type.Union([Type.Number(), Type.Null()]),
    }, { description: 'round-trip times of the recent requests (up to 1024)' }),
    retryAfterUntil: Type.Union([Type.String(), Type.Null()], { description: "while the endpoint's Retry-After holds requests back" }),
  })),
});

export const Status = Type.Object({ status: Type.String() }, { additionalProperties: true });

export { errors };
