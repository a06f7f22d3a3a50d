/**
 * The `assisted` profile: the OpenShift Assisted Installer's event stream, one topic
 * (`events-stream` by default) of envelopes `{Name, Payload, Metadata: {versions}}`.
 *
 * Canonical event ↔ wire:
 * - an ordinary event → `Event`, payload shaped like the Assisted event model: `name` = the
 *   event type (as is), `severity` (debug → info), `category` (data.category or `user`),
 *   `message`, `event_time` = time, `cluster_id` / `host_id` / `infra_env_id` from the entity
 *   (kinds cluster, host, infra-env) or from data, `request_id` from data, `props` = the rest
 *   of data as a JSON string (as the service's model carries it)
 * - `dev.herald.entity.state.enter` of kind cluster / host / infra-env → `ClusterState` /
 *   `HostState` / `InfraEnv` snapshot: `{id, ...attributes, status (lower case),
 *   status_updated_at, previous_status?}`, secret-looking values redacted
 * - other entity notifications (leave, list, other kinds) are not carried
 * Key: the cluster id (empty string when none). profileOptions.capitalized (default true)
 * writes `Name`/`Payload`/`Metadata` as the running service does; false writes the documented
 * lower-case keys. profileOptions.versions fills `metadata.versions`.
 */
import { HeraldError, UsageError } from '../errors.js';
import { commonEmitFields, flagString } from './emit.js';
import { ENTITY_EVENT_TYPES, isEntityEvent } from '../events/entity-states.js';
import { createValueRedactor } from '../events/redact.js';
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

/** The Assisted `Event` payload of a canonical event (keys in the service model's order). */
export function assistedEventPayload(event: HeraldEvent): Record<string, unknown> {
  const data = asRecord(event.data);
  const kind = event.entity?.kind;
  const fromEntity = (k: string) => (event.entity !== undefined && (k === 'infra-env' ? SNAPSHOT_OF_KIND[kind ?? ''] === 'InfraEnv' : kind === k) ? event.entity.id : undefined);
  const clusterId = fromEntity('cluster') ?? str(data?.cluster_id);
  const hostId = fromEntity('host') ?? str(data?.host_id);
  const infraEnvId = fromEntity('infra-env') ?? str(data?.infra_env_id);
  let props: string | undefined;
  if (data !== undefined) {
    const rest = Object.fromEntries(Object.entries(data).filter(([k]) => !(LIFTED as readonly string[]).includes(k)));
    if (Object.keys(rest).length > 0) props = JSON.stringify(redactSnapshot(rest));
  } else if (event.data !== undefined) {
    props = JSON.stringify(redactSnapshot(event.data));
  }
  const category = data?.category === 'metrics' ? 'metrics' : 'user';
  const requestId = str(data?.request_id);
  return {
    category,
    ...(clusterId !== undefined && { cluster_id: clusterId }),
    event_time: event.time,
    ...(hostId !== undefined && { host_id: hostId }),
    ...(infraEnvId !== undefined && { infra_env_id: infraEnvId }),
    message: event.message ?? '',
    name: event.type,
    ...(props !== undefined && { props }),
    ...(requestId !== undefined && { request_id: requestId }),
    severity: event.severity === 'debug' ? 'info' : event.severity,
  };
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
  const previous = str(data.previous);
  const payload: Record<string, unknown> = {
    id,
    ...attributes,
    status: String(data.state ?? '').toLowerCase(),
    status_updated_at: str(data.enteredAt) ?? event.time,
    ...(previous !== undefined && { previous_status: previous.toLowerCase() }),
  };
  const clusterId = name === 'ClusterState' ? id : str(attributes.cluster_id) ?? '';
  return { name, payload, clusterId };
}

/** Wraps a payload in the stream's envelope. */
export function assistedEnvelope(name: AssistedName, payload: unknown, options: { capitalized?: boolean; versions?: Record<string, string> } = {}): Record<string, unknown> {
  const versions = { ...(options.versions ?? {}) };
  return options.capitalized ?? true
    ? { Name: name, Payload: payload, Metadata: { versions } }
    : { name, payload, metadata: { versions } };
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
  const options = ctx.options as { capitalized?: boolean; versions?: Record<string, string> } | undefined;
  const envelope = assistedEnvelope(name, payload, {
    ...(options?.capitalized !== undefined && { capitalized: options.capitalized }),
    ...(options?.versions !== undefined && { versions: options.versions }),
  });
  return [{ eventId: event.id, topic: ctx.topic, key, value: Buffer.from(JSON.stringify(envelope), 'utf8'), contentType: 'application/json' }];
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
  const { id: _id, status, status_updated_at, previous_status, ...attributes } = p;
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
    versions: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'component versions for Metadata.versions' })),
  },
  decodeOrder: 50,
  // The wire carries no event id and no source.
  roundTrip: ['type', 'time', 'entity', 'message', 'severity'],
  emit: assistedEmit,
  encode: encodeAssisted,
  decode: decodeAssisted,
  summary: summarizeAssisted,
};
