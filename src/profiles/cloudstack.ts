/**
 * The `cloudstack` profile: Apache CloudStack's event export, a flat JSON object per event, as
 * its event buses publish it (plugins/event-bus/rabbitmq RabbitMQEventBus, plugins/event-bus/
 * kafka KafkaEventBus; bodies from ActionEventUtils, AlertGenerator, UsageEventUtils and the
 * state listeners; serialised by a plain `new Gson()`).
 *
 * Canonical event ↔ wire:
 * - type `cloudstack.<Category>` (ActionEvent, AlertEvent, UsageEvent, ResourceStateEvent;
 *   the bare category name is accepted too) ↔ the category
 * - data = the category's flat fields (`event`, `status`, `entity`, `entityuuid`, ...) ↔ the
 *   JSON value, null values left out and `<>&='` escaped as Gson writes them, plus
 *   `eventDateTime` = the event time as `yyyy-MM-dd HH:mm:ss Z` (UTC, `+0000`; a
 *   `data.eventDateTime` naming the same second is kept, so another zone survives)
 * - entity = {kind: resource type, id: resource UUID} ↔ record key (the UUID; none when empty)
 *   and the AMQP routing key `<source>.<category>.<type>.<resourceType>.<resourceUuid>`
 *   (routingOf says which field gives each part per category; an AlertEvent has no resource)
 * - subject ↔ a ResourceStateEvent's type: the state machine's event name (StartRequested,
 *   OperationSucceeded, ...), which CloudStack puts only in the routing key, never in the body
 *   (a `data.event` stands in for a missing subject there and is left out of the body)
 * - source (default `management-server`) ↔ the routing key's first part
 * A VirtualMachine ResourceStateEvent without `status` goes out twice, with `status`
 * preStateTransitionEvent then postStateTransitionEvent, as UserVmStateListener publishes a
 * successful transition. Topic: ctx.topic (the producer properties' `topic`, default
 * `cloudstack`); over AMQP the routing key. No metadata of Herald's own (metadata 'none'):
 * Kafka records without headers, AMQP messages with RabbitMQ's PERSISTENT_TEXT_PLAIN
 * properties (content type text/plain, delivery mode 2, priority 0); profileOptions.
 * wireMetadata: herald adds Herald's own again. Categories in profileOptions.disabledCategories
 * are not published.
 */
import { HeraldError, UsageError, ValidationError, type FieldProblem } from '../errors.js';
import type { EventInput } from '../events/schema.js';
import { commonEmitFields } from './emit.js';
import { ENTITY_KIND_PATTERN, type HeraldEvent } from '../events/schema.js';
import { Type } from 'typebox';
import { stableMessageId } from '../shared/ids.js';
import { asRecord, jsonObject } from '../shared/json.js';
import { wireMetadata, wireMetadataOption } from './wire-metadata.js';
import type { DecodedMessage, EmitFlags, EncodeContext, IncomingMessage, OutgoingMessage, Profile, ProfileEmit } from './types.js';

/** CloudStack's event categories, each with its own flat field set. */
export const CLOUDSTACK_CATEGORIES = ['ActionEvent', 'AlertEvent', 'UsageEvent', 'ResourceStateEvent'] as const;
export type CloudStackCategory = (typeof CLOUDSTACK_CATEGORIES)[number];

/** The default event source (CloudStack's own). */
export const CLOUDSTACK_SOURCE = 'management-server';
/** The default topic when the producer properties name none. */
export const CLOUDSTACK_TOPIC = 'cloudstack';
/** Prefix of canonical CloudStack event types. */
export const CLOUDSTACK_TYPE_PREFIX = 'cloudstack.';

/** Documented fields per category (for help texts and docs; extra fields are allowed). */
export const CLOUDSTACK_FIELDS: Readonly<Record<CloudStackCategory, readonly string[]>> = {
  ActionEvent: ['event', 'status', 'entity', 'entityuuid', 'description', 'user', 'account', 'project'],
  AlertEvent: ['event', 'dataCenterId', 'podId', 'subject', 'body'],
  UsageEvent: ['event', 'account', 'zone', 'resource', 'id'],
  ResourceStateEvent: ['resource', 'id', 'old-state', 'new-state', 'status'],
};

/** The two `status` values of a VirtualMachine ResourceStateEvent (UserVmStateListener). */
export const VM_STATE_STATUSES = ['preStateTransitionEvent', 'postStateTransitionEvent'] as const;

/** Fields without which a category's event means nothing to a consumer. */
export const CLOUDSTACK_REQUIRED: Readonly<Record<CloudStackCategory, readonly string[]>> = {
  ActionEvent: ['event'],
  AlertEvent: ['event'],
  UsageEvent: ['event'],
  ResourceStateEvent: ['resource', 'new-state'],
};

/** The canonical type of a category. */
export const cloudstackType = (category: CloudStackCategory): string => `${CLOUDSTACK_TYPE_PREFIX}${category}`;

/** The category a canonical type names (`cloudstack.ActionEvent` or `ActionEvent`), if any. */
export function cloudstackCategory(type: string): CloudStackCategory | undefined {
  const t = type.startsWith(CLOUDSTACK_TYPE_PREFIX) ? type.slice(CLOUDSTACK_TYPE_PREFIX.length) : type;
  return (CLOUDSTACK_CATEGORIES as readonly string[]).includes(t) ? (t as CloudStackCategory) : undefined;
}

const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');

/**
 * Formats a time as CloudStack does (`yyyy-MM-dd HH:mm:ss Z`, e.g. `2017-07-23 14:09:08 +0700`)
 * in the zone `offsetMinutes` east of UTC (default 0 → `+0000`).
 */
export function formatCloudStackDate(time: Date | string, offsetMinutes = 0): string {
  const ms = (typeof time === 'string' ? Date.parse(time) : time.getTime()) + offsetMinutes * 60_000;
  const d = new Date(ms);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(offsetMinutes);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(off / 60)}${pad(off % 60)}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** Parses CloudStack's `yyyy-MM-dd HH:mm:ss Z`; undefined when it is not in that form. */
export function parseCloudStackDate(text: string): Date | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, sign, oh, om] = m;
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offset * 60_000;
  const check = new Date(ms + offset * 60_000);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return new Date(ms);
}

/** `an ActionEvent`, `a ResourceStateEvent`. */
const article = (word: string) => (/^[AEIOU]/.test(word) ? `an ${word}` : `a ${word}`);

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Problems of a category's fields: flat scalar values, the category's required fields present. */
export function cloudstackFieldProblems(category: CloudStackCategory, data: unknown, prefix = 'data'): FieldProblem[] {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const o = asRecord(data);
  if (!o) return [{ path: prefix, message: `must be an object with the flat fields of ${article(category)} (${CLOUDSTACK_FIELDS[category].join(', ')})` }];
  const out: FieldProblem[] = [];
  for (const k of CLOUDSTACK_REQUIRED[category]) {
    if (o[k] === undefined || o[k] === null || o[k] === '') out.push({ path: at(k), message: `is required for ${article(category)}` });
  }
  for (const [k, v] of Object.entries(o)) {
    if (!isScalar(v)) out.push({ path: at(k), message: 'must be a string, number, boolean or null (CloudStack events are flat)' });
  }
  if (category === 'ResourceStateEvent' && o.status !== undefined && o.status !== null && !(VM_STATE_STATUSES as readonly unknown[]).includes(o.status)) {
    out.push({ path: at('status'), message: `must be ${VM_STATE_STATUSES.join(' or ')} (or left out)` });
  }
  if (o.eventDateTime !== undefined && (typeof o.eventDateTime !== 'string' || parseCloudStackDate(o.eventDateTime) === undefined)) {
    out.push({ path: at('eventDateTime'), message: 'must be yyyy-MM-dd HH:mm:ss Z, e.g. 2017-07-23 14:09:08 +0700' });
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** The resource UUID a category's fields name (ActionEvent: entityuuid; Usage/ResourceState: id). */
export function resourceUuidOf(category: CloudStackCategory, data: Record<string, unknown>): string | undefined {
  if (category === 'ActionEvent') return str(data.entityuuid);
  if (category === 'UsageEvent' || category === 'ResourceStateEvent') return str(data.id);
  return undefined;
}

/** The resource type a category's fields name (ActionEvent: short class name of `entity`). */
export function resourceTypeOf(category: CloudStackCategory, data: Record<string, unknown>): string | undefined {
  if (category === 'ActionEvent') {
    const e = str(data.entity);
    return e === undefined ? undefined : e.slice(e.lastIndexOf('.') + 1);
  }
  if (category === 'UsageEvent' || category === 'ResourceStateEvent') return str(data.resource);
  return undefined;
}

/** One part of a routing key: dots become `-`, an empty part `*`. */
const routingPart = (s: string | undefined): string => (s === undefined || s === '' ? '*' : s.replace(/\./g, '-'));

/** `<source>.<category>.<type>.<resourceType>.<resourceUuid>`, as CloudStack's AMQP export. */
export function cloudstackRoutingKey(parts: { source?: string; category: string; type?: string; resourceType?: string; resourceUuid?: string }): string {
  return [parts.source, parts.category, parts.type, parts.resourceType, parts.resourceUuid].map(routingPart).join('.');
}

/**
 * The Event fields CloudStack builds the routing key and the Kafka record key from, per
 * category, as its publishers fill `new Event(source, category, type, resourceType, uuid)`:
 * - ActionEvent (ActionEventUtils): type = `event`; resource = the entity (kind, id), else
 *   `entity` (the short name of a class name) and `entityuuid`
 * - AlertEvent (AlertGenerator): type = `event`; no resource (`*.*`, no record key)
 * - UsageEvent (UsageEventUtils): type = `event`; resource type = `resource` as given (a class
 *   name such as `com.cloud.storage.Volume` → `com-cloud-storage-Volume`), else the entity
 *   kind; uuid = the entity id, else `id`
 * - ResourceStateEvent (UserVmStateListener, VolumeStateListener, ...): type = the state
 *   machine's event name, which the body does not carry: the event's `subject` (else a
 *   `data.event` a caller added); resource type = `resource`, else the entity kind; uuid = the
 *   entity id, else `id`
 */
export function routingOf(category: CloudStackCategory, event: Pick<HeraldEvent, 'subject' | 'entity'>, data: Record<string, unknown>): { type?: string; resourceType?: string; resourceUuid?: string } {
  const type = category === 'ResourceStateEvent' ? event.subject ?? str(data.event) : str(data.event);
  if (category === 'AlertEvent') return { ...(type !== undefined && { type }) };
  const resourceType = category === 'ActionEvent'
    ? event.entity?.kind ?? resourceTypeOf(category, data)
    : resourceTypeOf(category, data) ?? event.entity?.kind;
  const resourceUuid = event.entity?.id ?? resourceUuidOf(category, data);
  return { ...(type !== undefined && { type }), ...(resourceType !== undefined && { resourceType }), ...(resourceUuid !== undefined && { resourceUuid }) };
}

/** Gson's HTML-safe escapes (its default): `<`, `>`, `&`, `=`, `'`, and U+2028/U+2029. */
const GSON_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '=': '\\u003d', "'": '\\u0027', '\u2028': '\\u2028', '\u2029': '\\u2029',
};

/**
 * A flat body as CloudStack's `new Gson().toJson(map)` writes it: null values left out
 * (serializeNulls is off), and the characters Gson escapes by default escaped (they can only
 * occur inside strings, so the JSON text is rewritten as a whole). Keys keep the data's
 * order; CloudStack's order is its HashMap's, which no consumer can rely on.
 */
export function gsonJson(body: Record<string, unknown>): string {
  const kept = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== undefined));
  return JSON.stringify(kept).replace(/[<>&='\u2028\u2029]/g, (c) => GSON_ESCAPES[c]!);
}

/** The category this profile publishes the event as; undefined for other types and switched-off categories. */
function publishedCategory(event: HeraldEvent, ctx: EncodeContext): CloudStackCategory | undefined {
  const category = cloudstackCategory(event.type);
  if (category === undefined) return undefined;
  if ((ctx.options?.disabledCategories as readonly string[] | undefined)?.includes(category)) return undefined;
  return category;
}

/** What would keep a canonical event from being published by this profile (checked at ingest). */
export function checkCloudStack(event: HeraldEvent, ctx: EncodeContext): FieldProblem[] {
  const category = publishedCategory(event, ctx);
  return category === undefined ? [] : cloudstackFieldProblems(category, event.data);
}

/** Canonical event → one flat JSON message (two for a VM state change); [] for other types and switched-off categories. */
export function encodeCloudStack(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[] {
  const category = publishedCategory(event, ctx);
  if (category === undefined) return [];
  const problems = cloudstackFieldProblems(category, event.data);
  if (problems.length > 0) {
    throw new ValidationError(`cloudstack: event ${event.id} (${category}) cannot be published: ${problems[0]!.path} ${problems[0]!.message}`, problems);
  }
  const data = asRecord(event.data)!;
  const { eventDateTime: given, ...fields } = data;
  // A ResourceStateEvent body never has `event` (the state listeners put the state machine's
  // event only into the routing key): a `data.event` a caller added names the routing key's
  // type when there is no subject, and is not written.
  if (category === 'ResourceStateEvent') delete fields.event;
  // The canonical time is the source of truth; a given eventDateTime is kept only when it names
  // the same second (it then preserves the original zone, e.g. when bridging CloudStack events).
  const givenDate = typeof given === 'string' ? parseCloudStackDate(given) : undefined;
  const eventDateTime = givenDate !== undefined && Math.floor(givenDate.getTime() / 1000) === Math.floor(Date.parse(event.time) / 1000)
    ? (given as string)
    : formatCloudStackDate(event.time);
  const routing = routingOf(category, event, data);
  const topic = ctx.transport === 'amqp'
    ? cloudstackRoutingKey({ source: event.source, category, ...routing })
    : ctx.topic;
  const one = (body: Record<string, unknown>): OutgoingMessage => ({
    eventId: event.id,
    topic,
    ...(routing.resourceUuid !== undefined && routing.resourceUuid !== '' && { key: routing.resourceUuid }),
    value: Buffer.from(gsonJson({ ...body, eventDateTime }), 'utf8'),
    // RabbitMQ's PERSISTENT_TEXT_PLAIN, as RabbitMQEventBus publishes; nothing else on any transport.
    contentType: 'text/plain',
    priority: 0,
    metadata: wireMetadata(ctx),
  });
  // UserVmStateListener publishes every VM transition twice: before it (pre) and after it
  // succeeded (post). A Herald event is a transition that happened, so both go out unless the
  // caller named the one it means.
  if (category === 'ResourceStateEvent' && fields.resource === 'VirtualMachine' && (fields.status === undefined || fields.status === null)) {
    return VM_STATE_STATUSES.map((status) => one({ ...fields, status }));
  }
  return [one(fields)];
}

/** The category of a flat CloudStack object, told by its fields. */
export function detectCloudStackCategory(o: Record<string, unknown>): CloudStackCategory | undefined {
  if ('new-state' in o || 'old-state' in o) return 'ResourceStateEvent';
  if ('dataCenterId' in o || 'podId' in o || ('subject' in o && 'body' in o)) return 'AlertEvent';
  if ('status' in o && ('entity' in o || 'entityuuid' in o || 'event' in o)) return 'ActionEvent';
  if ('zone' in o && 'resource' in o) return 'UsageEvent';
  return undefined;
}

const ROUTING = /^([^.]+)\.(ActionEvent|AlertEvent|UsageEvent|ResourceStateEvent)\.([^.]+)\.([^.]+)\.([^.]+)$/;
const KIND = new RegExp(ENTITY_KIND_PATTERN);

/**
 * Recognises a CloudStack event: a flat JSON object with `eventDateTime` and a category's
 * fields (or an AMQP routing key naming the category). Throws DECODE when it is one but its
 * eventDateTime is malformed.
 */
export function decodeCloudStack(msg: IncomingMessage): DecodedMessage | undefined {
  if (msg.value === null || msg.value.length === 0) return undefined;
  const o = jsonObject(msg.value);
  if (!o || typeof o.eventDateTime !== 'string' || !Object.values(o).every(isScalar)) return undefined;
  const routed = ROUTING.exec(msg.topic);
  const category = (routed?.[2] as CloudStackCategory | undefined) ?? detectCloudStackCategory(o);
  if (category === undefined) return undefined;
  const date = parseCloudStackDate(o.eventDateTime);
  if (date === undefined) {
    throw new HeraldError('DECODE', `cloudstack: eventDateTime "${o.eventDateTime}" is not yyyy-MM-dd HH:mm:ss Z`, { details: [{ path: 'eventDateTime', message: 'must be yyyy-MM-dd HH:mm:ss Z' }] });
  }
  const { eventDateTime: _dt, ...data } = o;
  const part = (s: string | undefined) => (s === undefined || s === '*' ? undefined : s);
  const resourceUuid = category === 'AlertEvent' ? undefined : (msg.key ?? undefined) || part(routed?.[5]) || resourceUuidOf(category, data);
  const resourceType = category === 'AlertEvent' ? undefined : part(routed?.[4]) ?? resourceTypeOf(category, data);
  // A ResourceStateEvent's type (the state machine's event name) is only in the routing key.
  const stateEvent = category === 'ResourceStateEvent' ? part(routed?.[3]) : undefined;
  const message = category === 'ActionEvent' ? str(data.description) : category === 'AlertEvent' ? str(data.subject) : undefined;
  const event: HeraldEvent = Object.freeze({
    specversion: '1.0',
    id: stableMessageId('cloudstack', msg.topic, msg.value),
    source: part(routed?.[1]) ?? CLOUDSTACK_SOURCE,
    type: cloudstackType(category),
    time: date.toISOString(),
    severity: 'info',
    ...(stateEvent !== undefined && { subject: stateEvent.slice(0, 1024) }),
    ...(resourceUuid !== undefined && resourceType !== undefined && KIND.test(resourceType) && resourceUuid.length <= 255 && { entity: { kind: resourceType, id: resourceUuid } }),
    ...(message !== undefined && { message: message.slice(0, 4096) }),
    data,
  });
  return { profile: 'cloudstack', format: category, event, document: o };
}

/** One line, e.g. `[ActionEvent] Account 54d5f55c-...: ACCOUNT.CREATE Completed`. */
export function summarizeCloudStack(d: DecodedMessage): string {
  const category = cloudstackCategory(d.event.type) ?? d.event.type;
  const o = asRecord(d.event.data) ?? {};
  const s = (k: string) => (o[k] === undefined || o[k] === null ? '' : String(o[k]));
  const who = d.event.entity ? `${d.event.entity.kind} ${d.event.entity.id}` : '-';
  switch (category) {
    case 'ActionEvent': return `[ActionEvent] ${who}: ${s('event')} ${s('status')}`.trimEnd();
    case 'AlertEvent': return `[AlertEvent] ${s('event')}: ${s('subject')}`.trimEnd();
    case 'UsageEvent': return `[UsageEvent] ${who}: ${s('event')} account ${s('account') || '-'} zone ${s('zone') || '-'}`;
    case 'ResourceStateEvent': return `[ResourceStateEvent] ${who}: ${s('old-state') || '?'} -> ${s('new-state')}`;
    default: return `[${category}] ${who}`;
  }
}

function cloudstackFromFlags(flags: EmitFlags): EventInput {
  const cats = CLOUDSTACK_CATEGORIES.join(', ');
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError(`--type is required for --profile cloudstack: the category, one of ${cats}`, [{ path: '--type', message: `must be one of ${cats}` }]);
  }
  if (!(CLOUDSTACK_CATEGORIES as readonly string[]).includes(flags.type)) {
    throw new UsageError(`--type must be a CloudStack category for --profile cloudstack: one of ${cats}, got "${flags.type}"`, [{ path: '--type', message: `must be one of ${cats}` }]);
  }
  const category = flags.type as CloudStackCategory;
  const fieldList = CLOUDSTACK_FIELDS[category].join(', ');
  if (flags.data === undefined) {
    throw new UsageError(`--data is required for --profile cloudstack --type ${category}: a JSON object with its flat fields (${fieldList})`, [{ path: '--data', message: 'is required' }]);
  }
  const problems = cloudstackFieldProblems(category, flags.data, '');
  if (problems.length > 0) {
    const details = problems.map((p) => ({ path: p.path === '' ? '--data' : `--data.${p.path}`, message: p.message }));
    const first = problems[0]!;
    const what = first.path === '' ? `--data ${first.message}` : `--data field "${first.path}" ${first.message}`;
    throw new UsageError(`${what} (--profile cloudstack --type ${category})`, details);
  }
  return {
    ...commonEmitFields(flags),
    source: flags.source ?? CLOUDSTACK_SOURCE,
    type: cloudstackType(category),
    ...(flags.entity !== undefined && { entity: { kind: flags.entity.kind, id: flags.entity.id } }),
    data: flags.data,
  };
}

/** `herald emit --profile cloudstack`: --type is the category, --data its flat fields. */
const cloudstackEmit: ProfileEmit = {
  typeHelp: `the category: ${CLOUDSTACK_CATEGORIES.join(', ')}; --data holds its flat fields, --entity TYPE:UUID the resource, --source the event source (default ${CLOUDSTACK_SOURCE}), --subject a ResourceStateEvent's state machine event (e.g. StartRequested)`,
  flags: {},
  input: cloudstackFromFlags,
};

/** The cloudstack profile (see the module comment for the mapping). */
export const cloudstackProfile: Profile = {
  name: 'cloudstack',
  description: 'Apache CloudStack event bus: flat JSON per category (ActionEvent, AlertEvent, UsageEvent, ResourceStateEvent)',
  defaultTopic: CLOUDSTACK_TOPIC,
  options: {
    disabledCategories: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'categories not published, e.g. ["UsageEvent"]' })),
    wireMetadata: wireMetadataOption,
  },
  decodeOrder: 40,
  // The wire carries no event id; eventDateTime has whole seconds.
  roundTrip: ['type', 'source', 'timeSeconds', 'entity', 'data'],
  emit: cloudstackEmit,
  check: checkCloudStack,
  encode: encodeCloudStack,
  decode: decodeCloudStack,
  summary: summarizeCloudStack,
};
