/**
 * How Choria's tally reads its three inputs, rule for rule (choria-io/go-choria @ 58e80bab):
 * - lifecycle events: `lifecycle.NewFromJSON` (lifecycle/lifecycle.go and the per-type parsers);
 * - machine transitions: `processStateTransition` (lifecycle/tally/tally.go), CloudEvents only;
 * - exec watcher states: `processExecWatcherState` (same file), CloudEvents only.
 * Herald's own reader (profiles/choria.ts parseChoria) shows more than this (legacy spellings,
 * plain transitions); the tally counts exactly what Choria's would and calls the rest errors.
 *
 * Go's encoding/json decides what parses: a field of the wrong JSON type is an error, a
 * missing or null field keeps its zero value (`""`, 0), and keys match struct fields without
 * regard to case. The CloudEvents SDK (cloudevents/sdk-go v2, event_unmarshal.go) requires a
 * specversion, string attributes and a valid time, and hands data over as JSON bytes (JSON
 * media types), as the string's text (other media types) or base64-decoded (data_base64).
 */
import { jsonObject } from '../shared/json.js';
import { EXEC_WATCHER_PROTOCOL, LIFECYCLE_SOURCE, LIFECYCLE_TYPES, MACHINE_PROTOCOL, type LifecycleType } from '../profiles/choria/protocol.js';

/** Why a message was not counted (the text goes to the log, as upstream logs its errors). */
export class TallyInputError extends Error {}

type GoType = 'string' | 'int64' | 'uint64';

/** A JSON object decoded into a Go struct of `fields` (JSON name → type): zero values for what is missing. */
function goStruct<F extends Record<string, GoType>>(value: unknown, fields: F, what: string): { [K in keyof F]: F[K] extends 'string' ? string : number } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TallyInputError(`json: cannot unmarshal ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value} into Go value of type ${what}`);
  }
  const out: Record<string, string | number> = {};
  for (const [name, type] of Object.entries(fields)) out[name] = type === 'string' ? '' : 0;
  const names = Object.keys(fields);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    // An exact match first, else the first field whose name equals the key ignoring case.
    const name = names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name === undefined || v === null) continue;
    const type = fields[name]!;
    if (type === 'string') {
      if (typeof v !== 'string') throw new TallyInputError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${what}.${name} of type string`);
      out[name] = v;
    } else {
      const ok = typeof v === 'number' && Number.isInteger(v) && (type === 'int64' ? Math.abs(v) <= 2 ** 63 : v >= 0 && v <= 2 ** 64);
      if (!ok) throw new TallyInputError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${what}.${name} of type ${type}`);
      out[name] = v as number;
    }
  }
  return out as { [K in keyof F]: F[K] extends 'string' ? string : number };
}

const jsonKind = (v: unknown): string => (Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : 'object');

function parseJson(bytes: Buffer | null): unknown {
  if (bytes === null || bytes.length === 0) throw new TallyInputError('unexpected end of JSON input');
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new TallyInputError(`invalid JSON: ${(err as Error).message}`);
  }
}

const JSON_MEDIA = new Set(['', 'application/json', 'text/json', 'application/cloudevents+json', 'application/cloudevents-batch+json']);

/** A CloudEvent as the SDK's UnmarshalJSON reads it: its data bytes (undefined when none) and media type. */
function cloudEventData(value: unknown): { data: Buffer | undefined; mediaType: string } {
  const o = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (o === undefined) throw new TallyInputError('could not parse cloudevent: not a JSON object');
  const sv = o.specversion;
  if (sv === undefined) throw new TallyInputError('could not parse cloudevent: specversion: no specversion');
  if (sv !== '1.0' && sv !== '0.3') throw new TallyInputError(`could not parse cloudevent: specversion: unknown value: ${String(sv)}`);
  for (const k of ['id', 'type', 'source', 'subject', 'datacontenttype']) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new TallyInputError(`could not parse cloudevent: ${k} must be a string`);
  }
  if (o.time !== undefined && (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time)))) throw new TallyInputError('could not parse cloudevent: time is not an RFC 3339 timestamp');
  const ct = typeof o.datacontenttype === 'string' ? o.datacontenttype : '';
  const mediaType = ct.split(';')[0]!.trim().toLowerCase();
  if (o.data_base64 !== undefined) {
    if (typeof o.data_base64 !== 'string') throw new TallyInputError('could not parse cloudevent: data_base64: expected string');
    return { data: Buffer.from(o.data_base64, 'base64'), mediaType };
  }
  if (o.data === undefined) return { data: undefined, mediaType };
  if (JSON_MEDIA.has(mediaType)) return { data: Buffer.from(JSON.stringify(o.data), 'utf8'), mediaType };
  if (typeof o.data !== 'string') throw new TallyInputError(`could not parse cloudevent: unexpected data payload for media type "${mediaType}", expected a string`);
  return { data: Buffer.from(o.data, 'utf8'), mediaType };
}

/** A lifecycle event as the tally uses it. */
export interface LifecycleInput {
  type: LifecycleType;
  component: string;
  identity: string;
  /** startup, alive, upgraded ('' otherwise). */
  version: string;
  /** governor only. */
  governor: string;
  eventType: string;
}

const BASIC = { protocol: 'string', id: 'string', identity: 'string', component: 'string', timestamp: 'int64' } as const;
const TYPE_FIELDS: Record<LifecycleType, Record<string, GoType>> = {
  startup: { ...BASIC, version: 'string' },
  alive: { ...BASIC, version: 'string' },
  upgraded: { ...BASIC, version: 'string', new_version: 'string' },
  governor: { ...BASIC, governor: 'string', sequence: 'uint64', event_type: 'string' },
  shutdown: BASIC,
  provisioned: BASIC,
};

/**
 * `lifecycle.NewFromJSON`: the Choria form (a `protocol` starting with io.choria.lifecycle) or
 * a CloudEvent (specversion "1.0", source io.choria.lifecycle) whose data is read the same
 * way again. The legacy `choria:lifecycle:<type>:1` spelling is not recognised at this level,
 * so Choria's tally rejects it ("unsupported event format"). Throws TallyInputError.
 */
export function readLifecycle(bytes: Buffer | null, depth = 0): LifecycleInput {
  const value = parseJson(bytes);
  const o = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  if (typeof o.protocol === 'string' && o.protocol.startsWith('io.choria.lifecycle')) return choriaFormat(value, o.protocol);
  if (o.specversion === '1.0' && o.source === LIFECYCLE_SOURCE && depth < 8) {
    const { data } = cloudEventData(value);
    return readLifecycle(data ?? null, depth + 1);
  }
  throw new TallyInputError('unsupported event format');
}

function choriaFormat(value: unknown, protocol: string): LifecycleInput {
  const parts = protocol.split('.');
  if (parts.length !== 5) throw new TallyInputError(`unknown protocol '${protocol}' received`);
  const type = parts[4] as LifecycleType;
  if (!(LIFECYCLE_TYPES as readonly string[]).includes(type)) throw new TallyInputError(`unknown protocol '${protocol}' received`);
  const doc = goStruct(value, TYPE_FIELDS[type], `lifecycle.${type}Event`) as Record<string, string | number>;
  // The per-type parser: exactly its own protocol (or the legacy spelling, which cannot reach here).
  if (doc.protocol !== `io.choria.lifecycle.v1.${type}` && doc.protocol !== `choria:lifecycle:${type}:1`) throw new TallyInputError(`invalid protocol '${String(doc.protocol)}'`);
  if (type === 'governor' && doc.governor === '') throw new TallyInputError('governor name is not set');
  return {
    type,
    component: String(doc.component),
    identity: String(doc.identity),
    version: typeof doc.version === 'string' ? doc.version : '',
    governor: typeof doc.governor === 'string' ? doc.governor : '',
    eventType: typeof doc.event_type === 'string' ? doc.event_type : '',
  };
}

/** A machine transition as `_machine_transition` labels it. */
export interface TransitionInput { machine: string; version: string; transition: string; from: string; to: string }

const TRANSITION = {
  protocol: 'string', identity: 'string', id: 'string', version: 'string', timestamp: 'int64',
  machine: 'string', transition: 'string', from_state: 'string', to_state: 'string',
} as const;

/** Data of a CloudEvent as `ce.DataAs(&struct)` reads it (JSON media types only; none = zero values). */
function dataAs<F extends Record<string, GoType>>(value: unknown, fields: F, what: string) {
  const { data, mediaType } = cloudEventData(value);
  if (data === undefined || data.length === 0) return goStruct({}, fields, what);
  if (!JSON_MEDIA.has(mediaType)) throw new TallyInputError(`could not parse ${what}: no JSON codec for media type "${mediaType}"`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new TallyInputError(`could not parse ${what}: ${(err as Error).message}`);
  }
  return goStruct(parsed, fields, what);
}

/**
 * `processStateTransition`: the message must be a CloudEvent (a plain transition document has
 * no specversion and fails); its data's protocol must be io.choria.machine.v1.transition.
 * The CloudEvent's own type and source are not checked, as upstream. Throws TallyInputError.
 */
export function readTransition(bytes: Buffer | null): TransitionInput {
  const t = dataAs(parseCloudEvent(bytes), TRANSITION, 'machine.TransitionNotification');
  if (t.protocol !== MACHINE_PROTOCOL) throw new TallyInputError(`unknown notification protocol ${t.protocol}`);
  return { machine: t.machine, version: t.version, transition: t.transition, from: t.from_state, to: t.to_state };
}

/** An exec watcher state as the `_exec_watcher_*` metrics use it. */
export interface ExecStateInput { machine: string; version: string; watcher: string; outcome: string; runTimeNs: number }

const EXEC_STATE = {
  protocol: 'string', identity: 'string', id: 'string', version: 'string', timestamp: 'int64', type: 'string',
  machine: 'string', name: 'string', command: 'string', previous_outcome: 'string', previous_run_time: 'int64',
} as const;

/** `processExecWatcherState`: a CloudEvent whose data is an exec watcher state (protocol not checked, as upstream). */
export function readExecState(bytes: Buffer | null): ExecStateInput {
  const s = dataAs(parseCloudEvent(bytes), EXEC_STATE, 'execwatcher.StateNotification');
  return { machine: s.machine, version: s.version, watcher: s.name, outcome: s.previous_outcome, runTimeNs: s.previous_run_time };
}

function parseCloudEvent(bytes: Buffer | null): unknown {
  try {
    return parseJson(bytes);
  } catch (err) {
    throw new TallyInputError(`could not parse cloudevent: ${(err as Error).message}`);
  }
}

/** Which of Choria's inputs a message on a topic of another name is, by its content. */
export function choriaInputOf(bytes: Buffer | null): 'lifecycle' | 'transition' | 'exec' | undefined {
  const o = bytes === null ? undefined : jsonObject(bytes);
  if (o === undefined) return undefined;
  const data = o.data !== null && typeof o.data === 'object' ? (o.data as Record<string, unknown>) : undefined;
  const protocol = typeof o.protocol === 'string' ? o.protocol : typeof data?.protocol === 'string' ? data.protocol : undefined;
  if (o.type === MACHINE_PROTOCOL || protocol === MACHINE_PROTOCOL || protocol === 'choria:machine:transition:1') return 'transition';
  if (o.type === EXEC_WATCHER_PROTOCOL || protocol === EXEC_WATCHER_PROTOCOL) return 'exec';
  if (o.source === LIFECYCLE_SOURCE || (protocol !== undefined && /^(io\.choria\.lifecycle|choria:lifecycle:)/.test(protocol))) return 'lifecycle';
  return undefined;
}
