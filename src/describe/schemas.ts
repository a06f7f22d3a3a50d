/**
 * The schemas of what Herald publishes, one per profile message: JSON Schema 2020-12 for every
 * JSON message and the `.proto` for AliECS. `GET /v2/schemas/{profile}/{name}` serves them, the
 * AsyncAPI document (asyncapi.ts) embeds them as message payloads, and Herald's own tests
 * validate what the sinks really publish against them.
 *
 * The field lists come from the profiles' own tables (Choria's document keys and required
 * fields, CloudStack's categories and fields, Assisted's names, the canonical event's
 * severities), so a schema cannot drift from the encoder. Upstream references:
 * - CloudEvents 1.0 (cloudevents/spec cloudevents/spec.md: id, source, specversion, type
 *   required; extension names lower-case alphanumerics);
 * - Choria: choria-io/schemas choria/lifecycle/v1/*.json, choria/machine/v1/transition.json
 *   (additionalProperties false), and go-choria lifecycle/governor.go for the governor event;
 * - CloudStack: apache/cloudstack plugins/event-bus (flat Gson maps, `eventDateTime`);
 * - Assisted Installer: openshift/assisted-service swagger.yaml models event, cluster, host,
 *   infra-env and internal/stream (the `{Name, Payload, Metadata}` envelope).
 * Schemas stay within what JSON Schema draft-07 and 2020-12 share (no $defs in the embedded
 * form), so the same object is a valid AsyncAPI Schema Object.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SEVERITIES } from '../events/schema.js';
import { ALIECS_STATES } from '../profiles/aliecs.js';
import { ASSISTED_NAMES } from '../profiles/assisted.js';
import {
  CHORIA_EVENT_KINDS, GOVERNOR_EVENT_TYPES, LIFECYCLE_SOURCE, MACHINE_SOURCE, choriaProtocol, documentKeys, REQUIRED_FIELDS,
  type ChoriaEventKind,
} from '../profiles/choria.js';
import { CLOUDSTACK_CATEGORIES, CLOUDSTACK_FIELDS, CLOUDSTACK_REQUIRED, VM_STATE_STATUSES, type CloudStackCategory } from '../profiles/cloudstack.js';
import { HeraldError } from '../errors.js';

/** A JSON Schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** The dialect of the served schemas. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The `$id` base of the served schemas: the API path, resolved against the server a consumer used. */
export const SCHEMA_PATH = '/v2/schemas';

/** One schema of the catalogue. */
export interface SchemaEntry {
  profile: string;
  /** The name within the profile (`startup`, `ActionEvent`, `aliecs.proto`). */
  name: string;
  /** `application/schema+json` or `text/plain` (the .proto). */
  mediaType: string;
  description: string;
  /** The JSON Schema (without `$schema`/`$id`, as embedded in the AsyncAPI document); absent for the .proto. */
  schema?: JsonSchema;
  /** The .proto text (aliecs). */
  text?: string;
}

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
const RFC3339 = 'RFC 3339 date-time';

// ---- CloudEvents -------------------------------------------------------------------------

/** The CloudEvents attributes Herald writes (context attributes and Herald's extensions). */
export const CLOUDEVENT_ATTRIBUTES: Readonly<Record<string, JsonSchema>> = {
  specversion: { type: 'string', const: '1.0', description: 'CloudEvents spec version' },
  id: str('event id, unique per source', { minLength: 1 }),
  source: str('URI reference of the producer', { minLength: 1 }),
  type: str('event type', { minLength: 1 }),
  time: str(`${RFC3339} of the occurrence`, { format: 'date-time' }),
  subject: str('the subject of the event within the source'),
  dataschema: str('URI of the schema data adheres to', { format: 'uri' }),
  datacontenttype: str('media type of data (structured mode; binary mode: the content-type)'),
  severity: { type: 'string', enum: [...SEVERITIES], description: 'Herald extension: severity' },
  entitykind: str('Herald extension: the entity kind (with entityid)'),
  entityid: str('Herald extension: the entity id (with entitykind)'),
  partitionkey: str('CloudEvents partitioning extension: the record key'),
  message: str('Herald extension: a human-readable message'),
};

/** A structured-mode CloudEvent of Herald's (the `cloudevents` profile). */
function cloudEventSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'CloudEvents 1.0 structured mode (JSON event format) with Herald\'s extension attributes severity, entitykind, entityid, partitionkey and message',
    required: ['specversion', 'id', 'source', 'type', 'time'],
    properties: { ...CLOUDEVENT_ATTRIBUTES, data: { description: 'the event payload (any JSON value)' } },
    additionalProperties: false,
  };
}

/** Binary mode: the value is the event's data (any JSON value or text); the attributes are headers. */
function cloudEventDataSchema(): JsonSchema {
  return { description: 'CloudEvents binary mode: the value is the event data as is (JSON when datacontenttype is JSON, else text); the attributes travel as headers' };
}

/**
 * Batched mode (webhooks, `application/cloudevents-batch+json`): a JSON array of structured
 * CloudEvents (CloudEvents JSON event format 1.0, section 4 "JSON Batch Format"; an empty array
 * is valid there, though Herald never sends one).
 */
function cloudEventBatchSchema(): JsonSchema {
  return {
    type: 'array',
    description: 'CloudEvents JSON batch format (application/cloudevents-batch+json): an array of structured-mode CloudEvents, in publish order',
    items: cloudEventSchema(),
  };
}

// ---- Choria ------------------------------------------------------------------------------

/** The JSON type of each Choria document field (go-choria's structs; choria-io/schemas). */
function choriaField(kind: ChoriaEventKind, key: string): JsonSchema {
  switch (key) {
    case 'protocol': return { type: 'string', const: choriaProtocol(kind) };
    case 'id': return str(kind === 'transition' ? 'the machine instance id that produced the message' : 'unique correlation id of this event (UUID v4)', { minLength: 1 });
    case 'identity': return str('the configured identity of the component', { minLength: 1 });
    case 'timestamp': return { type: 'integer', minimum: 0, description: 'Unix seconds' };
    case 'sequence': return { type: 'integer', minimum: 0, description: 'the governor slot sequence' };
    case 'event_type': return { type: 'string', enum: [...GOVERNOR_EVENT_TYPES], description: 'the governor stage' };
    default: return { type: 'string', minLength: 1 };
  }
}

/** The plain Choria document of a kind (`protocol` io.choria.lifecycle.v1.<type> / io.choria.machine.v1.transition). */
export function choriaDocumentSchema(kind: ChoriaEventKind): JsonSchema {
  const keys = documentKeys(kind);
  const properties = Object.fromEntries(keys.map((k) => [k, choriaField(kind, k)]));
  return {
    type: 'object',
    title: choriaProtocol(kind),
    description: kind === 'transition' ? 'Event published when a Choria Machine transitions between states' : `Choria lifecycle event: ${kind}`,
    required: ['protocol', 'id', 'identity', 'timestamp', ...REQUIRED_FIELDS[kind]],
    properties,
    // transition.json forbids other keys; lifecycle schemas allow them.
    additionalProperties: kind !== 'transition',
  };
}

/** A Choria document wrapped in a CloudEvent, as Choria's CloudEvents SDK writes it. */
export function choriaCloudEventSchema(kind: ChoriaEventKind): JsonSchema {
  return {
    type: 'object',
    title: `${choriaProtocol(kind)} (CloudEvent)`,
    description: 'CloudEvents 1.0 structured mode whose data is the Choria document',
    required: ['specversion', 'id', 'source', 'type', 'subject', 'datacontenttype', 'time', 'data'],
    properties: {
      specversion: { type: 'string', const: '1.0' },
      id: str('the event id', { minLength: 1 }),
      source: { type: 'string', const: kind === 'transition' ? MACHINE_SOURCE : LIFECYCLE_SOURCE },
      type: { type: 'string', const: choriaProtocol(kind) },
      subject: str('the identity'),
      datacontenttype: { type: 'string', const: 'application/json' },
      time: str(`${RFC3339} in whole seconds (the document's timestamp)`, { format: 'date-time' }),
      data: choriaDocumentSchema(kind),
    },
    additionalProperties: false,
  };
}

// ---- CloudStack --------------------------------------------------------------------------

const SCALAR: JsonSchema = { type: ['string', 'number', 'boolean'] };

/** One CloudStack category's flat body. */
export function cloudstackSchema(category: CloudStackCategory): JsonSchema {
  const fields = CLOUDSTACK_FIELDS[category].filter((f) => !(category === 'ResourceStateEvent' && f === 'event'));
  const properties: Record<string, JsonSchema> = Object.fromEntries(fields.map((f) => [f, { ...SCALAR }]));
  if (category === 'ResourceStateEvent') properties.status = { type: 'string', enum: [...VM_STATE_STATUSES] };
  properties.eventDateTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}$', description: 'yyyy-MM-dd HH:mm:ss Z' };
  return {
    type: 'object',
    title: category,
    description: `CloudStack ${category}: a flat JSON object (Gson, nulls left out); other flat fields may follow`,
    required: [...CLOUDSTACK_REQUIRED[category], 'eventDateTime'],
    properties,
    additionalProperties: SCALAR,
  };
}

// ---- Assisted Installer ------------------------------------------------------------------

const UUID = 'a UUID in the Assisted Service';

/** models.Event as the stream carries it. */
function assistedEventPayload(): JsonSchema {
  return {
    type: 'object',
    title: 'models.Event',
    required: ['event_time', 'message', 'severity'],
    properties: {
      category: { type: 'string', enum: ['user', 'metrics'] },
      cluster_id: str(`the cluster this event relates to (${UUID})`),
      event_time: str(`${RFC3339} with milliseconds`, { format: 'date-time' }),
      host_id: str(`the host this event relates to (${UUID})`),
      infra_env_id: str(`the infra-env this event relates to (${UUID})`),
      message: str('the user-facing message'),
      name: str('the event name'),
      props: str('additional properties as a JSON text'),
      request_id: str(`the request that caused this event (${UUID})`),
      severity: { type: 'string', enum: ['info', 'warning', 'error', 'critical'] },
    },
    additionalProperties: false,
  };
}

/** ClusterState / HostState / InfraEnv: the entity's attributes with Herald's id and status fields. */
function assistedSnapshotPayload(name: Exclude<(typeof ASSISTED_NAMES)[number], 'Event'>): JsonSchema {
  const model = name === 'ClusterState' ? 'models.Cluster' : name === 'HostState' ? 'models.Host' : 'models.InfraEnv';
  const properties: Record<string, JsonSchema> = { id: str(`the ${model.slice(7).toLowerCase()} id (${UUID})`, { minLength: 1 }) };
  const required = ['id'];
  if (name !== 'InfraEnv') {
    properties.status = str('the status, lower case');
    properties.status_updated_at = str(RFC3339, { format: 'date-time' });
    required.push('status', 'status_updated_at');
  }
  if (name === 'ClusterState') {
    properties.hosts = { type: 'array', maxItems: 0, description: 'always empty on the stream ("a smaller cluster object")' };
    required.push('hosts');
  }
  return {
    type: 'object',
    title: model,
    description: `${model} fields as the entity's attributes give them (keys sorted); secret-looking values redacted`,
    required,
    properties,
    additionalProperties: true,
  };
}

/** The `{Name, Payload, Metadata}` envelope (capitalized, default) or its lower-case form. */
export function assistedEnvelopeSchema(name: (typeof ASSISTED_NAMES)[number]): JsonSchema {
  const payload = name === 'Event' ? assistedEventPayload() : assistedSnapshotPayload(name);
  const versions = { type: 'object', additionalProperties: { type: 'string' } };
  return {
    title: name,
    description: `Assisted Installer event stream envelope carrying ${name === 'Event' ? 'an event' : `a ${name} snapshot`}`,
    oneOf: [
      {
        type: 'object',
        description: 'capitalized (the running service; profileOptions.capitalized true, the default)',
        required: ['Name', 'Payload', 'Metadata'],
        properties: {
          Name: { type: 'string', const: name },
          Payload: payload,
          Metadata: {
            type: 'object', required: ['versions'], additionalProperties: false,
            properties: { versions: { type: 'object', additionalProperties: false, properties: { release_tag: { type: 'string' }, versions } } },
          },
        },
        additionalProperties: false,
      },
      {
        type: 'object',
        description: 'lower case (docs/events.md; profileOptions.capitalized false)',
        required: ['name', 'payload', 'metadata'],
        properties: {
          name: { type: 'string', const: name },
          payload,
          metadata: { type: 'object', required: ['versions'], additionalProperties: false, properties: { versions } },
        },
        additionalProperties: false,
      },
    ],
  };
}

// ---- AliECS ------------------------------------------------------------------------------

/** The AliECS .proto as Herald encodes with it. */
export function aliecsProto(): string {
  return readFileSync(fileURLToPath(new URL('../../proto/aliecs.proto', import.meta.url)), 'utf8');
}

/** The protobuf message types of the .proto Herald publishes. */
export const ALIECS_MESSAGES = ['NewStateNotification', 'ActiveRunsList'] as const;

/**
 * The .proto with one message marked as the root (`@RootNode`), for an AsyncAPI payload whose
 * schema format is protobuf (the message a channel carries; the rest are its field types).
 */
export function aliecsProtoFor(message: (typeof ALIECS_MESSAGES)[number]): string {
  return aliecsProto().replace(new RegExp(`\\n(message ${message} \\{)`), '\n// @RootNode\n$1');
}

// ---- The catalogue -----------------------------------------------------------------------

let catalogue: readonly SchemaEntry[] | undefined;

/** Every schema, in registry order of the profiles. */
export function schemaCatalogue(): readonly SchemaEntry[] {
  if (catalogue !== undefined) return catalogue;
  const out: SchemaEntry[] = [
    { profile: 'cloudevents', name: 'event', mediaType: 'application/schema+json', description: 'a structured-mode CloudEvent (NATS, mode: structured)', schema: cloudEventSchema() },
    { profile: 'cloudevents', name: 'data', mediaType: 'application/schema+json', description: 'a binary-mode value: the event data', schema: cloudEventDataSchema() },
    { profile: 'cloudevents', name: 'batch', mediaType: 'application/schema+json', description: 'a batched-mode webhook body (application/cloudevents-batch+json): an array of structured CloudEvents', schema: cloudEventBatchSchema() },
    { profile: 'aliecs', name: 'aliecs.proto', mediaType: 'text/plain', description: `protobuf (package kafka): ${ALIECS_MESSAGES.join(', ')}; states ${ALIECS_STATES.join(', ')}`, text: aliecsProto() },
  ];
  for (const kind of CHORIA_EVENT_KINDS) {
    out.push({ profile: 'choria', name: kind, mediaType: 'application/schema+json', description: `the plain ${choriaProtocol(kind)} document`, schema: choriaDocumentSchema(kind) });
    out.push({ profile: 'choria', name: `${kind}.cloudevent`, mediaType: 'application/schema+json', description: `${choriaProtocol(kind)} as a CloudEvent`, schema: choriaCloudEventSchema(kind) });
  }
  for (const c of CLOUDSTACK_CATEGORIES) out.push({ profile: 'cloudstack', name: c, mediaType: 'application/schema+json', description: `the flat ${c} body`, schema: cloudstackSchema(c) });
  for (const n of ASSISTED_NAMES) out.push({ profile: 'assisted', name: n, mediaType: 'application/schema+json', description: `the ${n} envelope`, schema: assistedEnvelopeSchema(n) });
  catalogue = Object.freeze(out);
  return catalogue;
}

/** One schema by profile and name; NOT_FOUND naming what exists otherwise. */
export function schemaEntry(profile: string, name: string): SchemaEntry {
  const all = schemaCatalogue();
  const hit = all.find((e) => e.profile === profile && (e.name === name || `${e.name}.json` === name));
  if (hit !== undefined) return hit;
  const ofProfile = all.filter((e) => e.profile === profile).map((e) => e.name);
  const hint = ofProfile.length > 0 ? `; ${profile} has ${ofProfile.join(', ')}` : `; profiles: ${[...new Set(all.map((e) => e.profile))].join(', ')}`;
  throw new HeraldError('NOT_FOUND', `no schema ${profile}/${name}${hint}`, { details: [{ path: ofProfile.length > 0 ? 'name' : 'profile', message: 'unknown schema' }] });
}

/** The served form of a JSON schema: with `$schema`, `$id` and `title`. */
export function servedSchema(entry: SchemaEntry): JsonSchema {
  if (entry.schema === undefined) throw new HeraldError('NOT_FOUND', `${entry.profile}/${entry.name} is not a JSON Schema`);
  return { $schema: JSON_SCHEMA_DIALECT, $id: `${SCHEMA_PATH}/${entry.profile}/${entry.name}`, title: `${entry.profile} ${entry.name}`, ...entry.schema };
}
