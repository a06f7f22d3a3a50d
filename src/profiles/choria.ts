/**
 * The `choria` profile: Choria lifecycle events and autonomous-agent (machine) transitions,
 * byte for byte as choria-io/go-choria writes them (lifecycle/, aagent/machine/
 * notifications.go, aagent/notifiers/choria/choria.go @ 58e80bab).
 *
 * Canonical event ↔ wire: a canonical event whose type is the protocol
 * (`io.choria.lifecycle.v1.<type>`, `io.choria.machine.v1.transition`), source
 * `io.choria.lifecycle` / `io.choria.machine`, subject = identity and data = the plain Choria
 * document, its keys in the order of Choria's Go structs. The document's `timestamp` is the
 * event time in Unix seconds and the CloudEvent `time` is that same whole second.
 * - Lifecycle: the document's `id` and the CloudEvent `id` are both the event id. CloudEvents
 *   form by default (Choria servers), the plain document with profileOptions.format = 'plain'
 *   (Choria's `plugin.choria.legacy_lifecycle_format`, and what its governor CLI sends).
 * - Transition: always a CloudEvent, whatever `format` says (Choria's notifier only sends
 *   CloudEvents and its tally rejects anything else). The document's `id` is the machine
 *   instance id (`data.id`, else one derived from identity and machine); the CloudEvent `id`
 *   is the event id, one per transition.
 * Topic / subject: `choria.lifecycle.event.<type>.<component>` or `choria.machine.transition`;
 * key: the identity. On NATS (Choria's own transport) no headers, as Choria publishes; on
 * Kafka and AMQP a content type. Other event types are not carried.
 */
import { randomUUID } from 'node:crypto';
import { HeraldError, UsageError, ValidationError, type FieldProblem } from '../errors.js';
import type { EventInput } from '../events/schema.js';
import { flagString } from './emit.js';
import type { HeraldEvent } from '../events/schema.js';
import { Type } from 'typebox';
import { stableMessageId } from '../shared/ids.js';
import { asRecord } from '../shared/json.js';
import {
  GOVERNOR_EVENT_TYPES, LIFECYCLE_SOURCE, LIFECYCLE_TYPES, MACHINE_PROTOCOL, MACHINE_SOURCE, MACHINE_SUBJECT,
  CHORIA_EVENT_KINDS, choriaEventInput, choriaKindOfType, choriaProtocol, choriaTime, documentProblems, goJson, lifecycleSubject, machineInstanceId, orderDocument, unixSeconds,
  type ChoriaDocument, type ChoriaEventKind, type LifecycleType,
} from './choria/protocol.js';
import type { DecodedMessage, EmitFlags, EncodeContext, IncomingMessage, OutgoingMessage, Profile, ProfileEmit } from './types.js';

export * from './choria/protocol.js';
export { lifecycle, machine } from './choria/lifecycle.js';
export type { LifecycleBase, VersionedLifecycle, UpgradedLifecycle, GovernorLifecycle, MachineTransition } from './choria/lifecycle.js';
export { startAliveTicker } from './choria/alive-ticker.js';
export type { AliveTicker, AliveTickerOptions } from './choria/alive-ticker.js';


/** The plain Choria document of a canonical Choria event (validated; throws ValidationError). */
export function choriaDocument(event: HeraldEvent): { kind: ChoriaEventKind; document: ChoriaDocument } | undefined {
  const kind = choriaKindOfType(event.type);
  if (kind === undefined) return undefined;
  const data = asRecord(event.data) ?? {};
  const identity = data.identity ?? event.subject;
  // Lifecycle: the document's id is the event id. Transition: the machine instance id, shared
  // by every transition of one machine (data.id, else derived from identity and machine).
  const id = kind !== 'transition' ? event.id
    : data.id !== undefined && data.id !== null ? data.id
      : machineInstanceId(String(identity ?? ''), String(data.machine ?? ''));
  const document = orderDocument(kind, {
    ...data,
    protocol: choriaProtocol(kind),
    id,
    identity,
    timestamp: unixSeconds(event.time),
  });
  const problems = documentProblems(kind, document, { prefix: 'data', publishing: true });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ValidationError(`choria: event ${event.id} (${event.type}) cannot be published: ${first.path} ${first.message}`, problems);
  }
  return { kind, document };
}

/** What would keep a canonical event from being published by this profile (checked at ingest). */
export function checkChoria(event: HeraldEvent): FieldProblem[] {
  try {
    choriaDocument(event);
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.details;
    throw err;
  }
}

/**
 * Canonical event → one Choria message. Lifecycle events are CloudEvents unless
 * profileOptions.format = plain; transitions are always CloudEvents (see the module comment).
 */
export function encodeChoria(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[] {
  const doc = choriaDocument(event);
  if (doc === undefined) return [];
  const { kind, document } = doc;
  const topic = kind === 'transition' ? MACHINE_SUBJECT : lifecycleSubject(kind, String(document.component));
  const plain = kind !== 'transition' && ctx.options?.format === 'plain';
  // The CloudEvents SDK's key order (specversion, id, source, type, subject, datacontenttype,
  // time, data) and Choria's time: time.Unix(timestamp, 0), RFC 3339 without a fraction. The
  // SDK writes the attributes itself (no HTML escaping) and data as encoding/json made it.
  const value = plain
    ? goJson(document)
    : `{"specversion":"1.0","id":${JSON.stringify(event.id)},"source":${JSON.stringify(kind === 'transition' ? MACHINE_SOURCE : LIFECYCLE_SOURCE)}`
      + `,"type":${JSON.stringify(document.protocol)},"subject":${JSON.stringify(document.identity)},"datacontenttype":"application/json"`
      + `,"time":${JSON.stringify(choriaTime(document.timestamp))},"data":${goJson(document)}}`;
  return [{
    eventId: event.id,
    topic,
    key: document.identity,
    value: Buffer.from(value, 'utf8'),
    // Choria publishes raw bytes on NATS, no headers; elsewhere a content type helps readers.
    ...(ctx.transport !== 'nats' && { contentType: plain ? 'application/json' : 'application/cloudevents+json; charset=UTF-8' }),
  }];
}

/** What parseChoria recognised. */
export interface ParsedChoria {
  /** plain (current protocol), legacy (`choria:lifecycle:<type>:1`) or cloudevents. */
  form: 'plain' | 'legacy' | 'cloudevents';
  kind: ChoriaEventKind;
  /** The plain document as received (for CloudEvents: its data). */
  document: Record<string, unknown>;
  /** The CloudEvent envelope, for the cloudevents form. */
  cloudEvent?: Record<string, unknown>;
  /** The message as a canonical event (protocol normalised to the current spelling). */
  event: HeraldEvent;
}

const LEGACY = /^choria:(lifecycle|machine):([a-z_]+):1$/;

/** True when a JSON value claims to be a Choria document or a Choria CloudEvent. */
export function claimsChoria(value: unknown): boolean {
  const o = asRecord(value);
  if (!o) return false;
  if (typeof o.protocol === 'string') return /^(io\.choria\.(lifecycle|machine)|choria:(lifecycle|machine):)/.test(o.protocol);
  return o.specversion !== undefined && (o.source === LIFECYCLE_SOURCE || o.source === MACHINE_SOURCE);
}

const decodeError = (message: string, details: { path: string; message: string }[] = []) => new HeraldError('DECODE', message, { details });

function kindOfProtocol(protocol: string): { kind: ChoriaEventKind; legacy: boolean } | undefined {
  const modern = choriaKindOfType(protocol);
  if (modern !== undefined) return { kind: modern, legacy: false };
  const m = LEGACY.exec(protocol);
  if (!m) return undefined;
  if (m[1] === 'machine') return m[2] === 'transition' ? { kind: 'transition', legacy: true } : undefined;
  return (LIFECYCLE_TYPES as readonly string[]).includes(m[2]!) ? { kind: m[2] as LifecycleType, legacy: true } : undefined;
}

function parsePlain(doc: Record<string, unknown>, time?: string, ceId?: string): Omit<ParsedChoria, 'form' | 'cloudEvent'> & { legacy: boolean } {
  const protocol = doc.protocol;
  if (typeof protocol !== 'string') throw decodeError('choria: the document has no protocol', [{ path: 'protocol', message: 'is required' }]);
  const k = kindOfProtocol(protocol);
  if (!k) {
    throw decodeError(`choria: unknown protocol "${protocol}"; expected io.choria.lifecycle.v1.<${LIFECYCLE_TYPES.join('|')}>, ${MACHINE_PROTOCOL} or the legacy choria:lifecycle:<type>:1`, [{ path: 'protocol', message: 'is not a known Choria protocol' }]);
  }
  const problems = documentProblems(k.kind, doc, { requireId: !k.legacy && ceId === undefined });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw decodeError(`choria ${k.kind} event: ${first.path} ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems);
  }
  // A legacy document may lack an id: derive one from its content, so re-reading it gives the
  // same id. A transition's document id is its machine's instance id, shared by all its
  // transitions: the event id is the CloudEvent's, or one derived from the document.
  const contentId = () => stableMessageId('choria', '', Buffer.from(JSON.stringify(doc)));
  const docId = typeof doc.id === 'string' && doc.id !== '' ? doc.id : undefined;
  const id = k.kind === 'transition' ? ceId ?? contentId() : docId ?? ceId ?? contentId();
  const dataId = k.kind === 'transition' ? docId ?? machineInstanceId(String(doc.identity), String(doc.machine)) : id;
  const eventTime = time ?? new Date((doc.timestamp as number) * 1000).toISOString();
  const data = orderDocument(k.kind, { ...doc, protocol: choriaProtocol(k.kind), id: dataId });
  const event: HeraldEvent = Object.freeze({
    specversion: '1.0',
    id,
    source: k.kind === 'transition' ? MACHINE_SOURCE : LIFECYCLE_SOURCE,
    type: choriaProtocol(k.kind),
    time: eventTime,
    severity: 'info',
    subject: data.identity,
    datacontenttype: 'application/json',
    data,
  });
  return { kind: k.kind, document: doc, event, legacy: k.legacy };
}

/**
 * Parses a Choria message in any form: plain (`protocol` io.choria.lifecycle.* /
 * io.choria.machine.*), legacy (`choria:lifecycle:<type>:1`) or a CloudEvent (specversion
 * 1.0, source io.choria.lifecycle / io.choria.machine, whose data is parsed again). Throws
 * HeraldError DECODE, naming the field, for anything else and for missing or wrong required
 * fields. This is Herald's reader (view, bridge, subscribe): it shows more than Choria accepts
 * (legacy spellings, plain transitions, data as a JSON string); `herald tally` counts by
 * Choria's own stricter rules (tally/choria-input.ts).
 */
export function parseChoria(input: Uint8Array | string | object): ParsedChoria {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      throw decodeError('choria: the message is not JSON');
    }
  }
  const o = asRecord(value);
  if (!o) throw decodeError('choria: expected a JSON object (a Choria event or a CloudEvent)');

  if (typeof o.protocol === 'string' && claimsChoria(o)) {
    const p = parsePlain(o);
    return { form: p.legacy ? 'legacy' : 'plain', kind: p.kind, document: p.document, event: p.event };
  }
  if (o.specversion !== undefined && (o.source === LIFECYCLE_SOURCE || o.source === MACHINE_SOURCE)) {
    if (o.specversion !== '1.0') throw decodeError(`choria: unsupported CloudEvents specversion ${JSON.stringify(o.specversion)} (expected "1.0")`, [{ path: 'specversion', message: 'must be "1.0"' }]);
    let data: unknown = o.data;
    if (data === undefined && typeof o.data_base64 === 'string') data = Buffer.from(o.data_base64, 'base64').toString('utf8');
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data);
      } catch {
        throw decodeError('choria: the CloudEvent data is not JSON', [{ path: 'data', message: 'must be a JSON Choria document' }]);
      }
    }
    const doc = asRecord(data);
    if (!doc) throw decodeError('choria: the CloudEvent has no data document', [{ path: 'data', message: 'must be a Choria document (object)' }]);
    const time = typeof o.time === 'string' && !Number.isNaN(Date.parse(o.time)) ? new Date(o.time).toISOString() : undefined;
    const ceId = typeof o.id === 'string' && o.id !== '' ? o.id : undefined;
    let p;
    try {
      p = parsePlain(doc, time, ceId);
    } catch (err) {
      if (err instanceof HeraldError) throw new HeraldError('DECODE', err.message, { details: err.details.map((d) => ({ path: `data.${d.path}`, message: d.message })) });
      throw err;
    }
    // The CloudEvent's id is authoritative (it is the event id); a lifecycle document carries the same.
    const event = ceId !== undefined && ceId !== p.event.id ? Object.freeze({ ...p.event, id: ceId }) : p.event;
    return { form: 'cloudevents', kind: p.kind, document: p.document, cloudEvent: o, event };
  }
  throw decodeError(`choria: not a Choria event: expected a "protocol" starting with io.choria.lifecycle or io.choria.machine (or choria:lifecycle:), or a CloudEvent with source ${LIFECYCLE_SOURCE} or ${MACHINE_SOURCE}`);
}

/** Recognises Choria messages by content; undefined when the value is not Choria's. */
export function decodeChoria(msg: IncomingMessage): DecodedMessage | undefined {
  if (msg.value === null || msg.value.length === 0) return undefined;
  const first = msg.value.subarray(0, 64).toString('utf8').trimStart();
  if (!first.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(msg.value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!claimsChoria(value)) return undefined;
  const p = parseChoria(value as object);
  return { profile: 'choria', format: p.form, event: p.event, document: p.cloudEvent ?? p.document };
}

/**
 * One line, as Choria's own String() methods print it (lifecycle/*.go, aagent/machine/
 * notifications.go), e.g. `[startup] c1.example.net: server version 0.6.0`,
 * `[governor] n1: obtained slot 3 on PROVISION`, `n1 httpcheck transitioned via event fail: ok => critical`.
 */
export function summarizeChoria(d: DecodedMessage): string {
  const kind = choriaKindOfType(d.event.type);
  const doc = asRecord(d.event.data) ?? {};
  const s = (k: string) => (doc[k] === undefined || doc[k] === null ? '' : String(doc[k]));
  const who = s('identity') || d.event.subject || '';
  switch (kind) {
    case 'startup': case 'alive':
      return `[${kind}] ${who}: ${s('component')} version ${s('version')}`;
    case 'upgraded':
      return `[upgraded] ${who}: ${s('component')} version ${s('version')} to ${s('new_version')}`;
    case 'governor': {
      const seq = typeof doc.sequence === 'number' ? doc.sequence : 0;
      const g = s('governor');
      switch (s('event_type')) {
        case 'exit': return seq > 0 ? `[governor] ${who}: vacated slot ${seq} on ${g}` : `[governor] ${who}: vacated ${g}`;
        case 'enter': return seq > 0 ? `[governor] ${who}: obtained slot ${seq} on ${g}` : `[governor] ${who}: obtained slot on ${g}`;
        case 'timeouts': return `[governor] ${who}: failed to obtain a slot on ${g}`;
        case 'eviction': return seq > 0 ? `[governor] ${who}: evicted from slot ${seq} on ${g}` : `[governor] ${who}: evicted from ${g}`;
        default: return `[governor] ${who}: unknown stage on Governor ${g}`;
      }
    }
    case 'transition':
      return `${who} ${s('machine')} transitioned via event ${s('transition')}: ${s('from_state')} => ${s('to_state')}`;
    case undefined:
      return `[${d.event.type}] ${who}`;
    default:
      return `[${kind}] ${who}: ${s('component')}`;
  }
}

/** Choria document field → the emit flag that sets it. */
const CHORIA_FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  identity: 'identity', component: 'component', version: 'version', new_version: 'new-version',
  governor: 'governor', sequence: 'sequence', event_type: 'event-type', machine: 'machine',
  transition: 'transition', from_state: 'from-state', to_state: 'to-state',
};
/** A transition's document `id` is its machine instance id, set with --instance-id. */
const flagOfField = (kind: ChoriaEventKind, field: string): string =>
  kind === 'transition' && field === 'id' ? 'instance-id' : CHORIA_FLAG_OF_FIELD[field] ?? field;

function choriaFromFlags(flags: EmitFlags): EventInput {
  const kinds = CHORIA_EVENT_KINDS.join(', ');
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError(`--type is required for --profile choria: one of ${kinds}`, [{ path: '--type', message: `must be one of ${kinds}` }]);
  }
  if (!(CHORIA_EVENT_KINDS as readonly string[]).includes(flags.type)) {
    throw new UsageError(`--type must be one of ${kinds} for --profile choria, got "${flags.type}"`, [{ path: '--type', message: `must be one of ${kinds}` }]);
  }
  const kind = flags.type as ChoriaEventKind;
  const where = `for --profile choria --type ${kind}`;
  const fields: Record<string, unknown> = { ...(asRecord(flags.data) ?? {}) };
  for (const [field, flag] of Object.entries(CHORIA_FLAG_OF_FIELD)) {
    const v = flagString(flags, flag);
    if (v !== undefined) fields[field] = v;
  }
  if (fields.identity === undefined && flags.subject !== undefined) fields.identity = flags.subject;
  const instanceId = flagString(flags, 'instance-id');
  if (instanceId !== undefined) {
    if (kind !== 'transition') throw new UsageError(`--instance-id applies only to --type transition (a lifecycle event's id is the event id: --id)`, [{ path: '--instance-id', message: 'only for --type transition' }]);
    fields.id = instanceId;
  }
  if (typeof fields.sequence === 'string') {
    if (!/^\d+$/.test(fields.sequence)) throw new UsageError(`--sequence must be a whole number >= 0 ${where}, got "${fields.sequence}"`, [{ path: '--sequence', message: 'must be a whole number >= 0' }]);
    fields.sequence = Number(fields.sequence);
  }
  const time = flags.time === undefined ? new Date() : new Date(flags.time);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--time must be an RFC 3339 time, e.g. 2024-05-01T12:00:00Z, got "${flags.time}"`, [{ path: '--time', message: 'must be an RFC 3339 time' }]);
  try {
    // Choria's lifecycle format defines `id` as a UUID v4.
    const input = choriaEventInput(kind, fields, { id: flags.id ?? randomUUID(), time });
    return { ...input, ...(flags.severity !== undefined && { severity: flags.severity as EventInput['severity'] }) };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const details = err.details.map((d) => ({ path: `--${flagOfField(kind, d.path)}`, message: d.message }));
    const first = details[0]!;
    throw new UsageError(`${first.path} ${first.message === 'is required' ? 'is required' : first.message} ${where}`, details);
  }
}

/** `herald emit --profile choria`: the document's fields as flags. */
const choriaEmit: ProfileEmit = {
  typeHelp: `the event type: ${CHORIA_EVENT_KINDS.join(', ')}`,
  flags: {
    identity: 'the node (default --subject)', component: 'the component, e.g. server', version: 'the version (startup, alive, upgraded; machine version for transition)',
    'new-version': 'upgraded: the new version', governor: 'governor: its name', sequence: 'governor: the sequence number', 'event-type': `governor: ${GOVERNOR_EVENT_TYPES.join(', ')}`,
    machine: 'transition: the machine', transition: 'transition: its name', 'from-state': 'transition: the state left', 'to-state': 'transition: the state entered',
    'instance-id': 'transition: the machine instance id (data.id; default derived from identity and machine)',
  },
  input: choriaFromFlags,
};

/** The choria profile (see the module comment for the mapping). */
export const choriaProfile: Profile = {
  name: 'choria',
  description: 'Choria lifecycle events and autonomous-agent machine transitions',
  options: {
    format: Type.Optional(Type.Union([Type.Literal('cloudevents'), Type.Literal('plain')], {
      description: 'lifecycle events as CloudEvents (default) or plain documents (Choria\'s legacy_lifecycle_format); machine transitions are always CloudEvents',
    })),
  },
  decodeOrder: 20,
  // Both forms carry whole seconds (the document's timestamp; the CloudEvent time is the same second).
  roundTrip: ['id', 'type', 'source', 'subject', 'timeSeconds', 'data'],
  emit: choriaEmit,
  check: checkChoria,
  encode: encodeChoria,
  decode: decodeChoria,
  summary: summarizeChoria,
};
