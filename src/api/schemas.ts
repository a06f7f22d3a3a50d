/**
 * Route schemas. The same TypeBox definitions validate requests, shape responses and
 * generate the OpenAPI document (/openapi.json). Event bodies reuse the event module's
 * EventInput, and their validation goes through eventProblems/batchProblems so the API, the
 * CLI and the library report the same problems with the same paths.
 *
 * The response bodies are named schemas (`$id`), registered once with app.addSchema (see
 * COMPONENTS) and pointed at with ref(): they become the document's components.schemas and
 * the serializer resolves the same references. Request schemas stay inline: the validator
 * compiler (validation.ts) compiles each on its own, without the shared schemas.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { ERROR_CODES } from '../errors.js';
import { ENTITY_KIND_PATTERN, EntityRef as EventEntityRef, EventInput as EventInputSchema, HeraldEventSchema, SEVERITIES } from '../events/schema.js';

/** Deep copy without `$id`s: a schema reused in several routes (or twice in one) must not register an id twice. */
export function plain<T extends TSchema>(schema: T): T {
  return JSON.parse(JSON.stringify(schema), (k, v: unknown) => (k === '$id' ? undefined : v)) as T;
}

export type Named<T extends TSchema> = T & { $id: string };

/** A component schema: `schema` without inner ids, under the name `id` (register it with app.addSchema). */
export function named<T extends TSchema>(id: string, schema: T, description?: string): Named<T> {
  return { ...plain(schema), $id: id, ...(description !== undefined && { description }) };
}

/**
 * A reference to a named schema, typed as the schema (for the handlers' return types); `extra`
 * are keywords beside the reference that only the OpenAPI generator reads: `description` (of
 * the response) and `headers`. The serializer ignores them.
 */
export function ref<T extends TSchema>(schema: Named<T>, extra: Record<string, unknown> = {}) {
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#`, ...extra });
}

/** Marks a body schema whose validation is the event module's (see validation.ts). */
export const EVENTS_BODY = 'x-herald-events-body';

export const MAX_BATCH = 1000;
export const MAX_LIMIT = 5000;
export const DEFAULT_LIMIT = 100;

export const FieldProblem = named('FieldProblem', Type.Object({
  path: Type.String({ description: 'The field, e.g. `[3].type` (an event of a batch), `data.user`, `limit` (a query parameter); empty for the whole body' }),
  message: Type.String({ description: 'What is wrong with it' }),
}), 'One problem of a request, named by the path of its field');

export const ErrorBody = named('Error', Type.Object({
  error: Type.String({ description: 'What went wrong and what to do' }),
  code: Type.String({ enum: Object.keys(ERROR_CODES), description: 'Herald error code (its catalogue: the status follows from it), e.g. INVALID_EVENT, UNAUTHORIZED' }),
  details: Type.Optional(Type.Array(ref(FieldProblem), { description: 'Every problem found, with the path of its field (validation errors)' })),
}), "The body of every error response (the Assisted Installer's list has its own)");

/** Seconds to wait, sent with the errors a retry can outlive (api/errors.ts RETRY_AFTER_SECONDS). */
const RETRY_AFTER = Type.Integer({ minimum: 0, description: 'Seconds to wait before retrying' });

/** Why a route answers each status, when the route does not say better. */
const ERROR_RESPONSES: Record<number, { description: string; headers?: Record<string, unknown> }> = {
  400: { description: 'Invalid request: `details` names each bad field (an event field such as `[3].type`, a query or path parameter, `url` for percent-escapes that are not UTF-8)' },
  401: {
    description: 'No bearer token, and this route needs one (only when tokens are configured)',
    headers: { 'WWW-Authenticate': Type.String({ description: 'Always `Bearer`' }) },
  },
  403: { description: 'The bearer token is not accepted for this route' },
  404: { description: 'Not found' },
  413: { description: 'The body is larger than server.bodyLimit, or an event is larger than an event may be' },
  415: { description: 'The body is not application/json, application/cloudevents+json or application/cloudevents-batch+json' },
  503: {
    description: 'The event store does not answer, or the service is shutting down: retry (Retry-After)',
    headers: { 'Retry-After': RETRY_AFTER },
  },
  507: {
    description: 'The event store has no space left: writes resume by themselves once space returns (Retry-After)',
    headers: { 'Retry-After': RETRY_AFTER },
  },
};

/** The response of one error status: the Error body, its usual description and headers. */
export function errorResponse(status: number, description?: string) {
  const known = ERROR_RESPONSES[status];
  return ref(ErrorBody, {
    description: description ?? known?.description ?? 'Error',
    ...(known?.headers !== undefined && { headers: known.headers }),
  });
}

/** Error responses by status; a `[status, description]` pair says why this route answers it. */
const errors = (...statuses: Array<number | [number, string]>) =>
  Object.fromEntries(statuses.map((s) => (Array.isArray(s) ? [s[0], errorResponse(s[0], s[1])] : [s, errorResponse(s)])));

export const EntityRef = named('EntityRef', EventEntityRef, 'The entity an event is about');

const withEntityRef = <T extends TSchema>(schema: T): T => {
  const copy = plain(schema) as T & { properties: Record<string, unknown> };
  copy.properties.entity = ref(EntityRef);
  return copy;
};

export const Event = named('Event', withEntityRef(HeraldEventSchema), 'An event as Herald stores, streams and returns it (CloudEvents 1.0 attributes and Herald\'s extensions)');

export const EventPage = named('EventPage', Type.Array(ref(Event)), 'One page of the list, in the requested order (the counts are in the response headers)');

export const EventInput = named('EventInput', withEntityRef(EventInputSchema), 'An event as a caller hands it in: id, time and severity are filled in when absent');

/** Only read by the OpenAPI generator: the body is validated by the ingest pipeline (EVENTS_BODY). */
export const EventsBody = {
  ...Type.Union([ref(EventInput), Type.Array(ref(EventInput), { minItems: 1, maxItems: MAX_BATCH })], {
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

export const Accepted = named('EventsAccepted', Type.Object({
  accepted: Type.Integer({ description: 'Events in the request, now durably stored (duplicates of stored ids are ignored)' }),
  ids: Type.Array(Type.String(), { description: 'Their ids, in the order of the request' }),
}), 'The events of the request are durably stored');

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

export const Entity = named('Entity', Type.Object({
  kind: Type.String(),
  id: Type.String(),
  state: Type.String(),
  previous: Type.Union([Type.String(), Type.Null()], { description: 'The state before this one' }),
  enteredAt: Type.String({ format: 'date-time', description: 'When it entered this state' }),
  updatedAt: Type.String({ format: 'date-time' }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
}), 'An entity with its current state');

export const StateResult = named('EntityStateChange', Type.Object({
  previous: Type.Union([ref(Entity), Type.Null()], { description: 'The entity before the change; null when it is new' }),
  current: ref(Entity),
  events: Type.Array(Type.String(), { description: 'Ids of the notifications produced (leave, enter, list)' }),
}), 'The result of setting an entity\'s state');

export const EntitiesQuery = Type.Object({
  kind: Type.Optional(Type.String({ minLength: 1 })),
  state: Type.Optional(Type.String({ minLength: 1 })),
});

export const SinkStatusSchema = named('SinkStatus', Type.Object({
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
}), 'One sink: whether it is enabled and connected, its outbox lag and delivery counters, its last error');

export const Status = named('Status', Type.Object({ status: Type.String() }, { additionalProperties: true }), 'ok (liveness) or ready (readiness, with the store\'s dialect)');

/**
 * Every named schema of this module, for app.addSchema on the root instance (with the route
 * modules' own: ASSISTED_COMPONENTS, DESCRIBE_COMPONENTS). Only there: a schema added inside a
 * route plugin gives that plugin Fastify's default validator instead of validation.ts's.
 */
export const COMPONENTS: ReadonlyArray<Named<TSchema>> = [FieldProblem, ErrorBody, EntityRef, Event, EventPage, EventInput, Accepted, Entity, StateResult, SinkStatusSchema, Status];

export { errors };
