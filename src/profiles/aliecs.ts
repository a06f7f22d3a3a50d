/**
 * The `aliecs` profile: environment state changes as the ALICE experiment control system
 * publishes them (protobuf, package `kafka`, schema in proto/aliecs.proto). It follows
 * AliceO2Group/Control core/integration/kafka/plugin.go (commit 9770b1f5).
 *
 * Canonical events → wire (only entity state events of kind `environment`; anything else is
 * not carried):
 * - `dev.herald.entity.state.enter` → NewStateNotification on `aliecs.env_state.<STATE>`
 * - `dev.herald.entity.state.leave` → NewStateNotification on `aliecs.env_leave_state.<STATE>`
 *   (STATE is the state being left, e.g. RUNNING at end of run)
 * - `dev.herald.entity.state.list`  → ActiveRunsList on `aliecs.env_list.<STATE>` (RUNNING),
 *   in AliECS's order (sortActiveRuns), published exactly when the enter it follows is
 * - relay start (onStart) → an empty ActiveRunsList on `aliecs.env_list.RUNNING`
 * As AliECS: no record key and no headers (metadata 'none'); profileOptions.keyed turns keys
 * on (the environment id; lists: the state name), profileOptions.wireMetadata: herald lets the
 * transports add Herald's own metadata.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { HeraldError } from '../errors.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES, UNKNOWN_STATE } from '../events/entity-states.js';
import type { HeraldEvent } from '../events/schema.js';
import { Type } from 'typebox';
import { stableMessageId } from '../shared/ids.js';
import { asRecord } from '../shared/json.js';
import { wireMetadata, wireMetadataOption } from './wire-metadata.js';
import type { DecodedMessage, EncodeContext, IncomingMessage, OutgoingMessage, Profile } from './types.js';

/** The entity kind this profile carries. */
export const ALIECS_ENTITY_KIND = 'environment';

/**
 * The states of AliECS's environment state machine (core/environment/environment.go: STANDBY,
 * DEPLOYED, CONFIGURED, RUNNING, DONE after EXIT, ERROR) and UNKNOWN, which the plugin
 * publishes for a trigger it cannot map (a DESTROY request). Any other state is published as
 * UNKNOWN, so consumers only ever see topics AliECS itself can produce.
 */
export const ALIECS_STATES = ['STANDBY', 'DEPLOYED', 'CONFIGURED', 'RUNNING', 'DONE', 'ERROR', 'UNKNOWN'] as const;

/** The source of canonical events decoded from AliECS messages. */
export const ALIECS_SOURCE = 'aliecs';

/** EnvInfo as this module builds and reads it (ms timestamps as numbers). */
export interface AliecsEnvInfo {
  environmentId: string;
  runNumber?: number;
  runType?: string;
  state: string;
  detectors: string[];
  enterStateTimestamp: number;
}

/** NewStateNotification (env_state / env_leave_state topics). */
export interface AliecsNewStateNotification {
  envInfo: AliecsEnvInfo;
  timestamp: number;
}

/** ActiveRunsList (env_list topic). */
export interface AliecsActiveRunsList {
  activeRuns: AliecsEnvInfo[];
  timestamp: number;
}

// Loaded once, lazily, from the package's own proto/ folder: the same relative path holds
// from src/profiles (tsx) and from dist/profiles (compiled), and "files" ships proto/. The
// library itself is required here, on first use, so commands that never encode AliECS don't load it.
let types: { env: protobuf.Type; notification: protobuf.Type; list: protobuf.Type } | undefined;
function protoTypes(): NonNullable<typeof types> {
  if (types === undefined) {
    const path = fileURLToPath(new URL('../../proto/aliecs.proto', import.meta.url));
    const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
    const root = pb.loadSync(path);
    types = {
      env: root.lookupType('kafka.EnvInfo'),
      notification: root.lookupType('kafka.NewStateNotification'),
      list: root.lookupType('kafka.ActiveRunsList'),
    };
  }
  return types;
}

/** Encodes a NewStateNotification to its protobuf bytes. */
export function encodeNewStateNotification(n: AliecsNewStateNotification): Buffer {
  const t = protoTypes().notification;
  return Buffer.from(t.encode(t.fromObject({ envInfo: envObject(n.envInfo), timestamp: n.timestamp })).finish());
}

/** Encodes an ActiveRunsList to its protobuf bytes. */
export function encodeActiveRunsList(l: AliecsActiveRunsList): Buffer {
  const t = protoTypes().list;
  return Buffer.from(t.encode(t.fromObject({ activeRuns: l.activeRuns.map(envObject), timestamp: l.timestamp })).finish());
}

/** Decodes NewStateNotification bytes (throws protobufjs errors on malformed input). */
export function decodeNewStateNotification(bytes: Uint8Array): AliecsNewStateNotification {
  const t = protoTypes().notification;
  const o = t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true }) as { envInfo?: Record<string, unknown>; timestamp?: number };
  return { envInfo: envFromObject(o.envInfo ?? {}), timestamp: o.timestamp ?? 0 };
}

/** Decodes ActiveRunsList bytes. */
export function decodeActiveRunsList(bytes: Uint8Array): AliecsActiveRunsList {
  const t = protoTypes().list;
  const o = t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true }) as { activeRuns?: Record<string, unknown>[]; timestamp?: number };
  return { activeRuns: (o.activeRuns ?? []).map(envFromObject), timestamp: o.timestamp ?? 0 };
}

function envObject(e: AliecsEnvInfo): Record<string, unknown> {
  // proto3 `optional`: leaving the key out means "not set", which protobufjs encodes as absent.
  return {
    environmentId: e.environmentId,
    ...(e.runNumber !== undefined && { runNumber: e.runNumber }),
    ...(e.runType !== undefined && { runType: e.runType }),
    state: e.state,
    detectors: e.detectors,
    enterStateTimestamp: e.enterStateTimestamp,
  };
}

function envFromObject(o: Record<string, unknown>): AliecsEnvInfo {
  return {
    environmentId: typeof o.environmentId === 'string' ? o.environmentId : '',
    ...(typeof o.runNumber === 'number' && { runNumber: o.runNumber }),
    ...(typeof o.runType === 'string' && { runType: o.runType }),
    state: typeof o.state === 'string' ? o.state : '',
    detectors: Array.isArray(o.detectors) ? o.detectors.map(String) : [],
    enterStateTimestamp: typeof o.enterStateTimestamp === 'number' ? o.enterStateTimestamp : 0,
  };
}

/** Maps a Herald state to an AliECS state: upper case; DESTROY and unknown states → UNKNOWN. */
export function aliecsState(state: unknown): string {
  const s = typeof state === 'string' ? state.trim().toUpperCase() : '';
  return (ALIECS_STATES as readonly string[]).includes(s) ? s : UNKNOWN_STATE;
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/**
 * Whether an environment is published. Default: unless it opted out with attribute
 * `kafka_enabled` = false / "false" / "0" / "no" / "off". With `optIn` (profileOptions
 * requireKafkaEnabled, as AliECS, where the plugin runs only for environments whose
 * `kafka_enabled` var is true): only when `kafka_enabled` = true / "true" / "1" / "yes" / "on".
 */
export function aliecsEnabled(attributes: Record<string, unknown> | undefined, optIn = false): boolean {
  const v = attributes?.kafka_enabled ?? attributes?.kafkaEnabled;
  const word = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  if (optIn) return v === true || v === 1 || (word !== undefined && TRUE_WORDS.includes(word));
  return !(v === false || v === 0 || (word !== undefined && FALSE_WORDS.includes(word)));
}

const pick = (attrs: Record<string, unknown>, names: string[]): unknown => {
  for (const n of names) if (attrs[n] !== undefined && attrs[n] !== null) return attrs[n];
  return undefined;
};

const toMs = (iso: unknown): number => {
  const ms = typeof iso === 'string' ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
};

/**
 * Builds EnvInfo from an entity's id, state, enteredAt and attributes. Accepted attribute
 * spellings: runNumber | run_number | run-number, runType | run_type | run-type, detectors
 * (an array or a comma-separated string). As AliECS's newEnvStateObject, the run number and
 * the run type are set only in RUNNING (the run type even when empty, the run number only
 * when it is a uint32); detectors keep the order given.
 */
export function envInfoFromEntity(id: string, state: unknown, enteredAt: unknown, attributes: Record<string, unknown> = {}): AliecsEnvInfo {
  const s = aliecsState(state);
  const rn = pick(attributes, ['runNumber', 'run_number', 'run-number']);
  const runNumber = typeof rn === 'number' ? rn : typeof rn === 'string' && /^\d+$/.test(rn.trim()) ? Number(rn) : undefined;
  const rt = pick(attributes, ['runType', 'run_type', 'run-type']);
  const det = pick(attributes, ['detectors']);
  const detectors = Array.isArray(det)
    ? det.map(String)
    : typeof det === 'string' ? det.split(',').map((d) => d.trim()).filter(Boolean) : [];
  const running = s === 'RUNNING';
  return {
    environmentId: id,
    ...(running && runNumber !== undefined && Number.isInteger(runNumber) && runNumber >= 0 && runNumber <= 0xffffffff && { runNumber }),
    ...(running && typeof rt === 'string' && { runType: rt }),
    state: s,
    detectors,
    enterStateTimestamp: toMs(enteredAt),
  };
}

/** Go's byte-wise string order (slices.Sort on strings): UTF-8 bytes, not UTF-16 units. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** A run that AliECS puts first: two or more detectors, one of them exactly `ITS`. */
const itsRun = (e: AliecsEnvInfo): boolean => e.detectors.length >= 2 && e.detectors.includes('ITS');

/**
 * The active runs in AliECS's order (plugin.go GetRunningEnvList: SortRunningEnvList, then
 * SortDetectorsOfRunningEnvs): runs with two or more detectors including ITS first, then the
 * others by detector count, most first; each run's detectors sorted byte-wise. Upstream's
 * comparator gives no order among several ITS runs (it answers "first" both ways) and sorts
 * Go map values, whose order is random, so runs it does not order keep environment-id order
 * here. Returns copies; the input is not changed.
 */
export function sortActiveRuns(runs: readonly AliecsEnvInfo[]): AliecsEnvInfo[] {
  const byId = [...runs].sort((a, b) => byteOrder(a.environmentId, b.environmentId));
  // Array.prototype.sort is stable: equal runs keep the id order.
  byId.sort((a, b) => {
    const ia = itsRun(a);
    const ib = itsRun(b);
    if (ia || ib) return ia === ib ? 0 : ia ? -1 : 1;
    return b.detectors.length - a.detectors.length;
  });
  return byId.map((e) => ({ ...e, detectors: [...e.detectors].sort(byteOrder) }));
}

/** An object's fields, or none: AliECS attributes are optional everywhere. */
const fields = (v: unknown): Record<string, unknown> => asRecord(v) ?? {};

/** The watched state whose list is published (profileOptions.watchedState, default RUNNING). */
const watched = (ctx: EncodeContext): string => aliecsState(ctx.options?.watchedState ?? 'RUNNING');

/** profileOptions.keyed: record keys on (AliECS sends none). */
const keyed = (ctx: EncodeContext): boolean => ctx.options?.keyed === true;

/** profileOptions.requireKafkaEnabled: publish only environments with kafka_enabled true. */
const optIn = (ctx: EncodeContext): boolean => ctx.options?.requireKafkaEnabled === true;

/** One AliECS message: no key unless keyed, and no metadata of Herald's own unless asked for. */
function message(eventId: string, topic: string, value: Buffer, key: string, ctx: EncodeContext): OutgoingMessage {
  return { eventId, topic, ...(keyed(ctx) && { key }), value, metadata: wireMetadata(ctx) };
}

/**
 * True for an enter event that reports changed attributes, not a transition: `data.changed`
 * false, or (from the entity registry, without that flag) a state entered before the event.
 * Events from elsewhere (e.g. bridged from AliECS, where the notification follows the state
 * change by some milliseconds) are always treated as transitions.
 */
function isAttributeUpdate(event: HeraldEvent, data: Record<string, unknown>): boolean {
  if (typeof data.changed === 'boolean') return !data.changed;
  if (event.source !== ENTITY_EVENT_SOURCE) return false;
  const entered = typeof data.enteredAt === 'string' ? Date.parse(data.enteredAt) : NaN;
  return !Number.isNaN(entered) && entered < Date.parse(event.time);
}

/** Canonical entity event → AliECS messages; [] for events this profile does not carry. */
export function encodeAliecs(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[] {
  const data = fields(event.data);
  const kind = typeof data.kind === 'string' ? data.kind : event.entity?.kind;
  if (kind !== ALIECS_ENTITY_KIND) return [];
  const timestamp = Date.parse(event.time);

  if (event.type === ENTITY_EVENT_TYPES.enter || event.type === ENTITY_EVENT_TYPES.leave) {
    const id = typeof data.id === 'string' ? data.id : event.entity?.id;
    if (id === undefined || id === '') return [];
    // The store also sends `enter` when only attributes change (the state was entered earlier
    // than the event). AliECS consumers read env_state.RUNNING as start of run, so only real
    // transitions are published.
    if (event.type === ENTITY_EVENT_TYPES.enter && isAttributeUpdate(event, data)) return [];
    const attributes = fields(data.attributes);
    if (!aliecsEnabled(attributes, optIn(ctx))) return [];
    const envInfo = envInfoFromEntity(id, data.state, data.enteredAt, attributes);
    const prefix = event.type === ENTITY_EVENT_TYPES.enter ? 'aliecs.env_state' : 'aliecs.env_leave_state';
    return [message(event.id, `${prefix}.${envInfo.state}`, encodeNewStateNotification({ envInfo, timestamp }), id, ctx)];
  }

  if (event.type === ENTITY_EVENT_TYPES.list) {
    const state = aliecsState(data.state);
    if (state !== watched(ctx)) return [];
    // AliECS sends its list right after each enter-state notification it sends, with the same
    // timestamp, and at no other time: not after an enter this profile does not publish (an
    // attribute update, an environment not published).
    const cause = asRecord(data.cause);
    if (cause !== undefined && (cause.changed === false || !aliecsEnabled(fields(cause.attributes), optIn(ctx)))) return [];
    const entities = Array.isArray(data.entities) ? data.entities.map(fields) : [];
    const activeRuns = sortActiveRuns(entities
      .filter((e) => typeof e.id === 'string' && e.id !== '' && aliecsEnabled(fields(e.attributes), optIn(ctx)))
      .map((e) => envInfoFromEntity(e.id as string, e.state ?? state, e.enteredAt, fields(e.attributes))));
    return [message(event.id, `aliecs.env_list.${state}`, encodeActiveRunsList({ activeRuns, timestamp }), state, ctx)];
  }
  return [];
}

const TOPIC = /^aliecs\.(env_state|env_leave_state|env_list)\.([A-Za-z0-9_-]+)$/;

const iso = (ms: number): string => new Date(ms).toISOString();

function attributesOf(e: AliecsEnvInfo): Record<string, unknown> {
  return {
    ...(e.runNumber !== undefined && { runNumber: e.runNumber }),
    ...(e.runType !== undefined && { runType: e.runType }),
    detectors: e.detectors,
  };
}

/**
 * Recognises AliECS messages by topic (the bytes carry no type: an ActiveRunsList of one
 * environment is byte-identical to a NewStateNotification) and returns the canonical event:
 * enter / leave with EntityTransitionData, list with EntityListData.
 */
export function decodeAliecs(msg: IncomingMessage): DecodedMessage | undefined {
  const m = TOPIC.exec(msg.topic);
  if (!m) return undefined;
  const which = m[1]!;
  const bytes = msg.value ?? new Uint8Array();
  const id = stableMessageId('aliecs', msg.topic, msg.value);
  try {
    if (which === 'env_list') {
      const list = decodeActiveRunsList(bytes);
      const state = m[2]!;
      const event: HeraldEvent = Object.freeze({
        specversion: '1.0', id, source: ALIECS_SOURCE, type: ENTITY_EVENT_TYPES.list,
        time: iso(list.timestamp || msg.timestamp || 0), severity: 'info',
        data: {
          kind: ALIECS_ENTITY_KIND, state,
          entities: list.activeRuns.map((e) => ({ id: e.environmentId, state: e.state, enteredAt: iso(e.enterStateTimestamp), attributes: attributesOf(e) })),
        },
      });
      return { profile: 'aliecs', format: 'protobuf', event, document: { topic: msg.topic, message: 'ActiveRunsList', ...list } };
    }
    const n = decodeNewStateNotification(bytes);
    const env = n.envInfo;
    const event: HeraldEvent = Object.freeze({
      specversion: '1.0', id, source: ALIECS_SOURCE,
      type: which === 'env_state' ? ENTITY_EVENT_TYPES.enter : ENTITY_EVENT_TYPES.leave,
      time: iso(n.timestamp || msg.timestamp || 0), severity: env.state === 'ERROR' ? 'error' : 'info',
      subject: env.environmentId,
      ...(env.environmentId !== '' && { entity: { kind: ALIECS_ENTITY_KIND, id: env.environmentId } }),
      data: { kind: ALIECS_ENTITY_KIND, id: env.environmentId, state: env.state, enteredAt: iso(env.enterStateTimestamp), attributes: attributesOf(env) },
    });
    return { profile: 'aliecs', format: 'protobuf', event, document: { topic: msg.topic, message: 'NewStateNotification', ...n } };
  } catch (err) {
    throw new HeraldError('DECODE', `aliecs: the value on topic ${msg.topic} is not a valid ${which === 'env_list' ? 'ActiveRunsList' : 'NewStateNotification'} (${(err as Error).message})`, { cause: err });
  }
}

function describeEnv(e: { id?: unknown; attributes?: unknown }): string {
  const a = fields(e.attributes);
  const parts: string[] = [];
  if (a.runNumber !== undefined) parts.push(`run ${String(a.runNumber)}`);
  if (typeof a.runType === 'string') parts.push(a.runType);
  if (Array.isArray(a.detectors) && a.detectors.length > 0) parts.push(a.detectors.join(','));
  return parts.join(' ');
}

/** One line: `[env_state.RUNNING] 2oDvieFrVTi: run 123456 PHYSICS ITS,TPC`. */
export function summarizeAliecs(d: DecodedMessage): string {
  const data = fields(d.event.data);
  if (d.event.type === ENTITY_EVENT_TYPES.list) {
    const list = Array.isArray(data.entities) ? data.entities.map(fields) : [];
    const items = list.map((e) => { const r = describeEnv(e); return r ? `${String(e.id)} (${r})` : String(e.id); });
    return `[env_list.${String(data.state)}] ${list.length} environment${list.length === 1 ? '' : 's'}${items.length ? `: ${items.join(', ')}` : ''}`;
  }
  const topic = d.event.type === ENTITY_EVENT_TYPES.enter ? 'env_state' : 'env_leave_state';
  const rest = describeEnv(data);
  return `[${topic}.${String(data.state)}] ${String(data.id)}${rest ? `: ${rest}` : ''}`;
}

/** The aliecs profile (see the module comment for the mapping). */
export const aliecsProfile: Profile = {
  name: 'aliecs',
  description: 'ALICE ECS environment state notifications (protobuf NewStateNotification / ActiveRunsList)',
  options: {
    watchedState: Type.Optional(Type.String({ minLength: 1, description: 'the watched state whose list is published (default RUNNING)' })),
    keyed: Type.Optional(Type.Boolean({ description: 'record keys: the environment id, lists the state name (default false: no key, as AliECS)' })),
    requireKafkaEnabled: Type.Optional(Type.Boolean({ description: 'publish only environments whose attribute kafka_enabled is true, as AliECS (default false: all but kafka_enabled=false)' })),
    wireMetadata: wireMetadataOption,
  },
  decodeOrder: 10,
  // The wire carries no event id and no source; data is rebuilt from EnvInfo.
  roundTrip: ['type', 'time', 'entity'],
  encode: encodeAliecs,
  onStart(ctx: EncodeContext): OutgoingMessage[] {
    // AliECS's Init publishes an empty list (the running map is new), which tells dashboards
    // to reset what they show.
    const state = watched(ctx);
    return [message(randomUUID(), `aliecs.env_list.${state}`, encodeActiveRunsList({ activeRuns: [], timestamp: Date.now() }), state, ctx)];
  },
  decode: decodeAliecs,
  summary: summarizeAliecs,
};
