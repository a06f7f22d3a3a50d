/**
 * The `assisted` profile: the OpenShift Assisted Installer's event stream, one topic
 * (`events-stream` by default) of envelopes `{Name, Payload, Metadata: {versions}}`.
 *
 * Canonical event ↔ wire (upstream: openshift/assisted-service internal/stream, models/, cmd/main.go):
 * - an ordinary event → `Event`, payload shaped like the service's `models.Event` (keys in its
 *   order): `name` = the event type (as is), `severity` (debug → info), `category`
 *   (data.category `metrics`, else `user`), `message`, `event_time` = time with exactly three
 *   fractional digits (strfmt RFC3339Millis), `cluster_id` / `host_id` / `infra_env_id` by the
 *   one rule of events/refs.ts (entity, else data; a host event names its cluster and
 *   infra-env in data), `request_id` from data, `props` = the rest of data as a JSON string
 *   with sorted keys (as the service's toProps marshals its map)
 * - `dev.herald.entity.state.enter` of kind cluster / host / infra-env → `ClusterState` /
 *   `HostState` / `InfraEnv` snapshot: the attributes with `id`, `status` (lower case) and
 *   `status_updated_at`, keys sorted as the generated models order them; `ClusterState` always
 *   has `"hosts":[]` (the service streams "a smaller cluster object"); `InfraEnv` has no
 *   status (models.InfraEnv has none); no snapshot has a previous status (no model has one).
 *   Secret-looking values are redacted.
 * - other entity notifications (leave, list, other kinds) are not carried
 * Key: the cluster id (empty string when none). profileOptions.capitalized (default true)
 * writes the envelope as the running service does: `Name`/`Payload`/`Metadata` with
 * `Metadata.versions` = `{release_tag?, versions: {…}}` (models.ListVersions); false writes the
 * shape docs/events.md documents: lower-case keys and a flat `metadata.versions` map.
 * profileOptions.versions fills the versions, profileOptions.releaseTag the release tag.
 */
import { HeraldError, UsageError } from '../errors.js';
import { commonEmitFields, flagString } from './emit.js';
import { ENTITY_EVENT_TYPES, isEntityEvent } from '../events/entity-states.js';
import { createValueRedactor } from '../events/redact.js';
import { assistedCategory, assistedIds } from '../events/refs.js';
import { SEVERITIES, type EventInput, type HeraldEvent, type Severity } from '../events/schema.js';
import { Type } from 'typebox';
import { stableMessageId } from '../shared/ids.js';
import { asRecord, jsonObject } from '../shared/json.js';
import type { DecodedMessage, EmitFlags, EncodeContext, IncomingMessage, OutgoingMessage, Profile, ProfileEmit } from './types.js';

/** Envelope names the stream carries: events and resource snapshots. */
export const ASSISTED_NAMES = ['Event', 'ClusterState', 'HostState', 'InfraEnv'] as const;
export type AssistedName = (typeof ASSISTED_NAMES)[number];

/** The default topic of the stream. */
export const ASSISTED_TOPIC = 'events-stream';
/** The source of canonical events decoded from the stream. */
export const ASSISTED_SOURCE = 'assisted-service';

const SNAPSHOT_OF_KIND: Readonly<Record<string, Exclude<AssistedName, 'Event'>>> = {
  cluster: 'ClusterState', host: 'HostState', 'infra-env': 'InfraEnv', infra_env: 'InfraEnv', infraenv: 'InfraEnv',
};
const KIND_OF_SNAPSHOT: Readonly<Record<Exclude<AssistedName, 'Event'>, string>> = {
  ClusterState: 'cluster', HostState: 'host', InfraEnv: 'infra-env',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

// The original leaks BMC credentials, config overrides and proxy credentials into snapshots.
// Herald's API already redacts events before storing them; snapshots and props go through the
// same redactor again (with config overrides added), so nothing secret reaches the stream
// even from events that bypassed the API (library use, bridge, replay of old events).
const redactValue = createValueRedactor(['configoverrides']);

/** A copy with secret-looking values replaced and URL passwords removed. */
export function redactSnapshot(value: unknown): unknown {
  return redactValue(value);
}

const LIFTED = ['cluster_id', 'host_id', 'infra_env_id', 'request_id', 'category'] as const;

/**
 * A time as strfmt.DateTime marshals it (RFC3339Millis: exactly three fractional digits, the
 * rest cut off as Go's formatting does), in UTC.
 */
export function rfc3339Millis(time: string): string {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/** Object keys sorted at every level, as Go's encoding/json writes a map. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  const o = asRecord(v);
  if (o === undefined) return v;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
}

/**
 * JSON text with <, >, &, U+2028 and U+2029 escaped as Go's json.Marshal escapes them (these
 * characters occur in JSON text only inside strings, so the whole text can be rewritten).
 */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON as Go's json.Marshal writes a map: sorted keys, escaped as goEscape. */
export function goJson(v: unknown): string {
  return goEscape(JSON.stringify(sortKeys(v)));
}

/** The Assisted `Event` payload of a canonical event (keys in the service model's order). */
export function assistedEventPayload(event: HeraldEvent): Record<string, unknown> {
  const data = asRecord(event.data);
  const ids = assistedIds(event);
  let props: string | undefined;
  if (data !== undefined) {
    const rest = Object.fromEntries(Object.entries(data).filter(([k]) => !(LIFTED as readonly string[]).includes(k)));
    if (Object.keys(rest).length > 0) props = goJson(redactSnapshot(rest));
  } else if (event.data !== undefined) {
    props = goJson(redactSnapshot(event.data));
  }
  const requestId = str(data?.request_id);
  return {
    category: assistedCategory(event),
    ...(ids.cluster_id !== undefined && { cluster_id: ids.cluster_id }),
    event_time: rfc3339Millis(event.time),
    ...(ids.host_id !== undefined && { host_id: ids.host_id }),
    ...(ids.infra_env_id !== undefined && { infra_env_id: ids.infra_env_id }),
    message: event.message ?? '',
    name: event.type,
    ...(props !== undefined && { props }),
    ...(requestId !== undefined && { request_id: requestId }),
    severity: event.severity === 'debug' ? 'info' : event.severity,
  };
}

/**
 * An item of the REST list (GET /api/assisted-install/v2/events): the service copies only
 * name, cluster_id, host_id, infra_env_id, severity, event_time, message and props into the
 * models.Event it returns (internal/events/events_api.go V2ListEvents), so the list never has
 * `category` nor `request_id`, while the stream's Event does.
 */
export function assistedListEvent(event: HeraldEvent): Record<string, unknown> {
  const { category: _c, request_id: _r, ...item } = assistedEventPayload(event);
  return item;
}

/** The snapshot name and payload of an entity enter event, or undefined when not carried. */
export function assistedSnapshot(event: HeraldEvent): { name: Exclude<AssistedName, 'Event'>; payload: Record<string, unknown>; clusterId: string } | undefined {
  if (event.type !== ENTITY_EVENT_TYPES.enter) return undefined;
  const data = asRecord(event.data) ?? {};
  const kind = str(data.kind) ?? event.entity?.kind;
  const name = SNAPSHOT_OF_KIND[kind ?? ''];
  const id = str(data.id) ?? event.entity?.id;
  if (name === undefined || id === undefined) return undefined;
  const attributes = (redactSnapshot(asRecord(data.attributes) ?? {}) as Record<string, unknown>);
  const fields: Record<string, unknown> = { ...attributes, id };
  // models.Cluster / models.Host have `status` and `status_updated_at`; models.InfraEnv has neither.
  if (name !== 'InfraEnv') {
    fields.status = String(data.state ?? '').toLowerCase();
    fields.status_updated_at = rfc3339Millis(str(data.enteredAt) ?? event.time);
  }
  // NotifiableCluster.Payload streams the cluster with its hosts emptied ("notify smaller cluster object").
  if (name === 'ClusterState') fields.hosts = [];
  // go-swagger orders a model's fields by name; ClusterPayload's own primary_ip_stack follows the embedded cluster.
  const { primary_ip_stack: ipStack, ...rest } = fields;
  const payload: Record<string, unknown> = Object.fromEntries(Object.keys(rest).sort().map((k) => [k, rest[k]]));
  if (ipStack !== undefined) payload.primary_ip_stack = ipStack;
  const clusterId = name === 'ClusterState' ? id : str(attributes.cluster_id) ?? '';
  return { name, payload, clusterId };
}

export interface AssistedEnvelopeOptions {
  capitalized?: boolean;
  versions?: Record<string, string>;
  releaseTag?: string;
}

/**
 * Wraps a payload in the stream's envelope. Capitalised (the running service): `Metadata` is
 * cmd/main.go's `{"versions": ListVersions}`, i.e. `{release_tag?, versions?}` with the map's
 * keys sorted (both omitempty). Lower case: the flat map docs/events.md shows.
 */
export function assistedEnvelope(name: AssistedName, payload: unknown, options: AssistedEnvelopeOptions = {}): Record<string, unknown> {
  const versions = Object.fromEntries(Object.keys(options.versions ?? {}).sort().map((k) => [k, options.versions![k]!]));
  if (!(options.capitalized ?? true)) return { name, payload, metadata: { versions } };
  const list: Record<string, unknown> = {};
  if (options.releaseTag !== undefined && options.releaseTag !== '') list.release_tag = options.releaseTag;
  if (Object.keys(versions).length > 0) list.versions = versions;
  return { Name: name, Payload: payload, Metadata: { versions: list } };
}

/** Canonical event → one envelope on ctx.topic (default events-stream). */
export function encodeAssisted(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[] {
  let name: AssistedName;
  let payload: Record<string, unknown>;
  let key: string;
  if (isEntityEvent(event)) {
    const snap = assistedSnapshot(event);
    if (snap === undefined) return [];
    ({ name, payload } = snap);
    key = snap.clusterId;
  } else {
    name = 'Event';
    payload = assistedEventPayload(event);
    key = typeof payload.cluster_id === 'string' ? payload.cluster_id : '';
  }
  const options = ctx.options as AssistedEnvelopeOptions | undefined;
  const envelope = assistedEnvelope(name, payload, {
    ...(options?.capitalized !== undefined && { capitalized: options.capitalized }),
    ...(options?.versions !== undefined && { versions: options.versions }),
    ...(options?.releaseTag !== undefined && { releaseTag: options.releaseTag }),
  });
  // The bytes of pkg/kafka/json_writer.go Write: json.Marshal of the envelope (struct and model
  // fields in their order, HTML characters escaped). No record headers, as the service's
  // kafka-go writer sends none (metadata 'none'); an empty key stays a zero-length key, not a
  // null one, as the service's []byte("").
  return [{ eventId: event.id, topic: ctx.topic, key, value: Buffer.from(goEscape(JSON.stringify(envelope)), 'utf8'), contentType: 'application/json', metadata: 'none' }];
}

const decodeError = (message: string, path: string, problem: string) => new HeraldError('DECODE', message, { details: [{ path, message: problem }] });
const validTime = (v: unknown): string | undefined => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined);

function eventFromPayload(p: Record<string, unknown>, id: string, prefix: string): HeraldEvent {
  const name = p.name;
  if (typeof name !== 'string' || !/^\S{1,255}$/.test(name)) throw decodeError(`assisted: ${prefix}.name must be a non-empty event name without spaces`, `${prefix}.name`, 'must be a non-empty name without spaces');
  const time = validTime(p.event_time);
  if (time === undefined) throw decodeError(`assisted: ${prefix}.event_time must be an RFC 3339 time`, `${prefix}.event_time`, 'must be an RFC 3339 time');
  const hostId = str(p.host_id);
  const infraEnvId = str(p.infra_env_id);
  const clusterId = str(p.cluster_id);
  const entity = hostId !== undefined ? { kind: 'host', id: hostId }
    : infraEnvId !== undefined ? { kind: 'infra-env', id: infraEnvId }
    : clusterId !== undefined ? { kind: 'cluster', id: clusterId } : undefined;
  const data: Record<string, unknown> = {};
  if (p.props !== undefined && p.props !== '') {
    let props: unknown = p.props;
    if (typeof props === 'string') {
      try { props = JSON.parse(props); } catch { /* not JSON: keep the text */ }
    }
    if (asRecord(props)) Object.assign(data, props);
    else data.props = props;
  }
  if (clusterId !== undefined && entity?.kind !== 'cluster') data.cluster_id = clusterId;
  if (infraEnvId !== undefined && entity?.kind !== 'infra-env') data.infra_env_id = infraEnvId;
  if (str(p.request_id) !== undefined) data.request_id = p.request_id;
  if (p.category !== undefined && p.category !== 'user') data.category = p.category;
  const severity: Severity = (SEVERITIES as readonly unknown[]).includes(p.severity) ? (p.severity as Severity) : 'info';
  const message = str(p.message);
  return Object.freeze({
    specversion: '1.0', id, source: ASSISTED_SOURCE, type: name, time, severity,
    ...(entity !== undefined && { entity }),
    ...(message !== undefined && { message: message.slice(0, 4096) }),
    ...(Object.keys(data).length > 0 && { data }),
  });
}

function eventFromSnapshot(name: Exclude<AssistedName, 'Event'>, p: Record<string, unknown>, id: string, prefix: string, fallbackTime: number | undefined): HeraldEvent {
  const entityId = str(p.id);
  if (entityId === undefined) throw decodeError(`assisted: ${prefix}.id is required in a ${name}`, `${prefix}.id`, 'is required');
  // `hosts` of a ClusterState is always [] on the stream: nothing to keep.
  const { id: _id, status, status_updated_at, previous_status, hosts, ...rest } = p;
  const attributes = Array.isArray(hosts) && hosts.length === 0 ? rest : { ...rest, ...(hosts !== undefined && { hosts }) };
  const kind = KIND_OF_SNAPSHOT[name];
  const enteredAt = validTime(status_updated_at);
  const time = enteredAt ?? validTime(p.updated_at) ?? new Date(fallbackTime ?? Date.now()).toISOString();
  return Object.freeze({
    specversion: '1.0', id, source: ASSISTED_SOURCE, type: ENTITY_EVENT_TYPES.enter, time, severity: 'info',
    subject: entityId,
    entity: { kind, id: entityId },
    data: {
      kind, id: entityId,
      state: typeof status === 'string' ? status.toUpperCase() : '',
      previous: typeof previous_status === 'string' ? previous_status.toUpperCase() : null,
      enteredAt: enteredAt ?? time,
      attributes,
    },
  });
}

/** Recognises an envelope in either capitalisation; undefined when the value is not one. */
export function decodeAssisted(msg: IncomingMessage): DecodedMessage | undefined {
  if (msg.value === null || msg.value.length === 0) return undefined;
  const o = jsonObject(msg.value);
  if (!o) return undefined;
  const capitalized = typeof o.Name === 'string';
  const name = capitalized ? o.Name : o.name;
  if (typeof name !== 'string' || !(ASSISTED_NAMES as readonly string[]).includes(name)) return undefined;
  const payloadKey = capitalized ? 'Payload' : 'payload';
  if (!('Payload' in o) && !('payload' in o)) return undefined;
  const payload = asRecord(o[payloadKey]);
  if (!payload) throw decodeError(`assisted: ${payloadKey} of a ${name} must be an object`, payloadKey, 'must be an object');
  const id = stableMessageId('assisted', msg.topic, msg.value);
  const event = name === 'Event'
    ? eventFromPayload(payload, id, payloadKey)
    : eventFromSnapshot(name as Exclude<AssistedName, 'Event'>, payload, id, payloadKey, msg.timestamp);
  return { profile: 'assisted', format: capitalized ? 'capitalized' : 'lowercase', event, document: o };
}

/** One line, e.g. `[host_registration_succeeded] host h1: Host h1 registered` or `[ClusterState] c1: installing (was ready)`. */
export function summarizeAssisted(d: DecodedMessage): string {
  const e = d.event;
  if (e.type === ENTITY_EVENT_TYPES.enter) {
    const data = asRecord(e.data) ?? {};
    const name = SNAPSHOT_OF_KIND[String(data.kind)] ?? 'State';
    const prev = str(data.previous);
    return `[${name}] ${String(data.id)}: ${String(data.state ?? '').toLowerCase()}${prev ? ` (was ${prev.toLowerCase()})` : ''}`;
  }
  const who = e.entity ? `${e.entity.kind} ${e.entity.id}` : '-';
  return `[${e.type}] ${who}: ${e.severity}${e.message ? ` ${e.message}` : ''}`;
}

const ASSISTED_KINDS = ['cluster', 'host', 'infra-env'];

function assistedFromFlags(flags: EmitFlags): EventInput {
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError('--type is required for --profile assisted: the event name, e.g. host_registration_succeeded', [{ path: '--type', message: 'is required' }]);
  }
  if (flags.entity !== undefined && !ASSISTED_KINDS.includes(flags.entity.kind)) {
    throw new UsageError(`--entity must be cluster:ID, host:ID or infra-env:ID for --profile assisted, got kind "${flags.entity.kind}"`, [{ path: '--entity', message: 'kind must be cluster, host or infra-env' }]);
  }
  const message = flagString(flags, 'message');
  return {
    ...commonEmitFields(flags),
    source: flags.source ?? ASSISTED_SOURCE,
    type: flags.type,
    ...(flags.entity !== undefined && { entity: { kind: flags.entity.kind, id: flags.entity.id } }),
    ...(message !== undefined && { message }),
    ...(flags.data !== undefined && { data: flags.data }),
  };
}

/** `herald emit --profile assisted`: --type is the event name. */
const assistedEmit: ProfileEmit = {
  typeHelp: 'the event name, e.g. host_registration_succeeded; --entity cluster:ID, host:ID or infra-env:ID',
  flags: { message: 'the user-facing message' },
  input: assistedFromFlags,
};

/** The assisted profile (see the module comment for the mapping). */
export const assistedProfile: Profile = {
  name: 'assisted',
  description: 'OpenShift Assisted Installer event stream: {Name, Payload, Metadata} envelopes',
  defaultTopic: ASSISTED_TOPIC,
  options: {
    capitalized: Type.Optional(Type.Boolean({ description: 'write Name/Payload/Metadata as the running service does (default true)' })),
    versions: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'component versions for Metadata.versions (e.g. assisted-installer, assisted-installer-controller, assisted-installer-service, discovery-agent)' })),
    releaseTag: Type.Optional(Type.String({ description: 'Metadata.versions.release_tag (capitalized envelope only; omitted when empty, as upstream)' })),
  },
  decodeOrder: 50,
  // The wire carries no event id and no source.
  roundTrip: ['type', 'time', 'entity', 'message', 'severity'],
  emit: assistedEmit,
  encode: encodeAssisted,
  decode: decodeAssisted,
  summary: summarizeAssisted,
};
