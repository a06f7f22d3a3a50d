/**
 * Choria lifecycle and machine-transition documents: protocol names, subjects, the fields of
 * each type in the order Choria's Go structs serialise them, and building a canonical event
 * from document fields. Shared by the profile (encode/decode), the domain helpers and
 * `herald emit --profile choria`.
 *
 * Upstream (choria-io/go-choria @ 58e80bab): lifecycle/basic.go (common fields), lifecycle/
 * {startup,alive,upgraded,governor}.go (type fields), aagent/machine/notifications.go
 * (TransitionNotification); choria-io/schemas @ c7cbce1b: choria/machine/v1/transition.json.
 */
import { ValidationError, type FieldProblem } from '../../errors.js';
import type { EventInput } from '../../events/schema.js';
import { stableMessageId } from '../../shared/ids.js';

/** Lifecycle event types Choria defines. */
export const LIFECYCLE_TYPES = ['startup', 'shutdown', 'provisioned', 'alive', 'upgraded', 'governor'] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];

/** A lifecycle type, or `transition` for an autonomous-agent (machine) transition. */
export type ChoriaEventKind = LifecycleType | 'transition';
/** Every kind `herald emit --profile choria --type` accepts. */
export const CHORIA_EVENT_KINDS: readonly ChoriaEventKind[] = [...LIFECYCLE_TYPES, 'transition'];

/**
 * The governor event types, exactly Choria's constants (lifecycle/governor.go:
 * GovernorEnterEvent "enter", GovernorExitEvent "exit", GovernorTimeoutEvent "timeouts",
 * GovernorEvictEvent "eviction"); `SetEventType` refuses anything else.
 */
export const GOVERNOR_EVENT_TYPES = ['enter', 'exit', 'timeouts', 'eviction'] as const;
export type GovernorEventType = (typeof GOVERNOR_EVENT_TYPES)[number];

/** CloudEvents source (and canonical source) of lifecycle events. */
export const LIFECYCLE_SOURCE = 'io.choria.lifecycle';
/** CloudEvents source (and canonical source) of machine transitions. */
export const MACHINE_SOURCE = 'io.choria.machine';
/** Lifecycle protocols are this prefix plus the type. */
export const LIFECYCLE_PROTOCOL_PREFIX = 'io.choria.lifecycle.v1.';
/** The protocol of machine transitions. */
export const MACHINE_PROTOCOL = 'io.choria.machine.v1.transition';
/** The NATS subject (and Kafka topic) of machine transitions. */
export const MACHINE_SUBJECT = 'choria.machine.transition';
/** The protocol (and CloudEvent type) of exec watcher state notifications. */
export const EXEC_WATCHER_PROTOCOL = 'io.choria.machine.watcher.exec.v1.state';
/** The NATS subject exec watcher states are published on (`choria.machine.watcher.<type>.state`). */
export const EXEC_WATCHER_SUBJECT = 'choria.machine.watcher.exec.state';
/** Lifecycle subjects: this prefix, the type, a dot and the component. */
export const LIFECYCLE_SUBJECT_PREFIX = 'choria.lifecycle.event.';

/** `io.choria.lifecycle.v1.<type>` or `io.choria.machine.v1.transition`: also the canonical type. */
export function choriaProtocol(kind: ChoriaEventKind): string {
  return kind === 'transition' ? MACHINE_PROTOCOL : `${LIFECYCLE_PROTOCOL_PREFIX}${kind}`;
}

/** The kind named by a canonical type / protocol, or undefined when it is not Choria's. */
export function choriaKindOfType(type: string): ChoriaEventKind | undefined {
  if (type === MACHINE_PROTOCOL) return 'transition';
  if (!type.startsWith(LIFECYCLE_PROTOCOL_PREFIX)) return undefined;
  const t = type.slice(LIFECYCLE_PROTOCOL_PREFIX.length);
  return (LIFECYCLE_TYPES as readonly string[]).includes(t) ? (t as LifecycleType) : undefined;
}

/** `choria.lifecycle.event.<type>.<component>` (component must not be empty). */
export function lifecycleSubject(type: LifecycleType, component: string): string {
  if (component === '') throw new ValidationError('choria: a lifecycle event needs a component for its subject', [{ path: 'component', message: 'must not be empty' }]);
  return `${LIFECYCLE_SUBJECT_PREFIX}${type}.${component}`;
}

/** Fields (besides protocol, id, identity, timestamp) each kind requires, in document order. */
export const REQUIRED_FIELDS: Readonly<Record<ChoriaEventKind, readonly string[]>> = {
  startup: ['component', 'version'],
  shutdown: ['component'],
  provisioned: ['component'],
  alive: ['component', 'version'],
  upgraded: ['component', 'version', 'new_version'],
  governor: ['component', 'governor', 'sequence', 'event_type'],
  transition: ['version', 'machine', 'transition', 'from_state', 'to_state'],
};

// The JSON key order Go's encoding/json writes: struct field order, embedded basicEvent first
// (protocol, id, identity, component, timestamp), then the type's own fields. The upstream
// vector (lifecycle/lifecycle_test.go) is
// {"protocol":"io.choria.lifecycle.v1.startup","id":"…","identity":"ginkgo.example.net","component":"ginkgo","timestamp":1535106973,"version":"1.2.3"}.
// TransitionNotification: protocol, identity, id, version, timestamp, machine, transition, from_state, to_state.
const BASIC = ['protocol', 'id', 'identity', 'component', 'timestamp'] as const;
const ORDER: Readonly<Record<ChoriaEventKind, readonly string[]>> = {
  startup: [...BASIC, 'version'],
  shutdown: BASIC,
  provisioned: BASIC,
  alive: [...BASIC, 'version'],
  upgraded: [...BASIC, 'version', 'new_version'],
  governor: [...BASIC, 'governor', 'sequence', 'event_type'],
  transition: ['protocol', 'identity', 'id', 'version', 'timestamp', 'machine', 'transition', 'from_state', 'to_state'],
};

/** The keys of a kind's document, in Choria's order. */
export const documentKeys = (kind: ChoriaEventKind): readonly string[] => ORDER[kind];

/** A Choria document (plain form); unknown extra keys are kept as they are (lifecycle only). */
export type ChoriaDocument = Record<string, unknown> & { protocol: string; id: string; identity: string; timestamp: number };

export interface DocumentRules {
  /** false for the legacy form, whose schemas predate the id field (default true). */
  requireId?: boolean;
  /** Prefix of the problem paths (`data`). */
  prefix?: string;
  /**
   * What Herald publishes (default false: what it reads): also `event_type` one of Choria's
   * governor constants, and no keys in a transition beyond its schema's nine
   * (transition.json has `additionalProperties: false`).
   */
  publishing?: boolean;
}

/**
 * Every problem of a document of `kind`: required strings must be non-empty, `sequence` a
 * whole number >= 0, `timestamp` whole Unix seconds; when publishing, the governor event type
 * and the transition's keys too.
 */
export function documentProblems(kind: ChoriaEventKind, doc: Record<string, unknown>, options: DocumentRules = {}): FieldProblem[] {
  const at = (k: string) => (options.prefix ? `${options.prefix}.${k}` : k);
  const out: FieldProblem[] = [];
  const needString = (k: string) => {
    const v = doc[k];
    if (v === undefined || v === null) out.push({ path: at(k), message: 'is required' });
    else if (typeof v !== 'string') out.push({ path: at(k), message: 'must be a string' });
    else if (v.trim() === '') out.push({ path: at(k), message: 'must not be empty' });
  };
  if (options.requireId ?? true) needString('id');
  needString('identity');
  for (const k of REQUIRED_FIELDS[kind]) {
    if (k === 'sequence') {
      const v = doc[k];
      if (v === undefined || v === null) out.push({ path: at(k), message: 'is required' });
      else if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) out.push({ path: at(k), message: 'must be a whole number >= 0' });
    } else needString(k);
  }
  const ts = doc.timestamp;
  if (ts === undefined || ts === null) out.push({ path: at('timestamp'), message: 'is required' });
  else if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) out.push({ path: at('timestamp'), message: 'must be whole Unix seconds' });
  if (options.publishing) {
    const et = doc.event_type;
    if (kind === 'governor' && typeof et === 'string' && et.trim() !== '' && !(GOVERNOR_EVENT_TYPES as readonly string[]).includes(et)) {
      out.push({ path: at('event_type'), message: `must be one of ${GOVERNOR_EVENT_TYPES.join(', ')} (Choria's governor event types), got "${et}"` });
    }
    if (kind === 'transition') {
      for (const k of Object.keys(doc)) {
        if (!ORDER.transition.includes(k) && doc[k] !== undefined) out.push({ path: at(k), message: `is not a field of ${MACHINE_PROTOCOL} (its schema allows only ${ORDER.transition.join(', ')})` });
      }
    }
  }
  return out;
}

/** Puts the known keys first in Choria's order, then any extra keys as given. */
export function orderDocument(kind: ChoriaEventKind, doc: Record<string, unknown>): ChoriaDocument {
  const out: Record<string, unknown> = {};
  for (const k of ORDER[kind]) if (doc[k] !== undefined) out[k] = doc[k];
  for (const [k, v] of Object.entries(doc)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as ChoriaDocument;
}

/** Unix seconds of an RFC 3339 time (Choria's `timestamp`). */
export const unixSeconds = (time: string | Date): number => Math.floor((typeof time === 'string' ? Date.parse(time) : time.getTime()) / 1000);

/**
 * JSON as Go's encoding/json.Marshal writes it (Choria's documents): like JSON.stringify but
 * with `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029
 * (Go's default HTML-safe escaping). Only strings can hold these characters, so the
 * replacement never touches JSON syntax.
 */
export const goJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The CloudEvent `time` Choria writes for a document: `time.Unix(timestamp, 0)` marshalled by
 * the CloudEvents SDK as RFC 3339 in UTC without a fraction, e.g. `2018-08-24T10:36:13Z`, so
 * `time` and `data.timestamp` always agree.
 */
export const choriaTime = (timestamp: number): string => new Date(timestamp * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The machine instance id of a transition whose caller named none. Choria gives each running
 * machine one id (`m.InstanceID()`) shared by all its transitions; Herald, not seeing machine
 * restarts, derives one stable id per (identity, machine): a name-based UUID.
 */
export const machineInstanceId = (identity: string, machine: string): string =>
  stableMessageId('choria.machine.instance', identity, Buffer.from(machine, 'utf8'));

/**
 * The canonical event input of a Choria event: type = the protocol, source =
 * io.choria.lifecycle / io.choria.machine, subject = identity, data = the plain document
 * whose `timestamp` is the event time in Unix seconds (the event time is cut to whole
 * seconds, as Choria's, so the two agree). Lifecycle: the document's `id` is the event id.
 * Transition: the document's `id` is the machine instance id (`fields.id`, else derived from
 * identity and machine) and the event id is the transition's own (the CloudEvent id).
 * `fields` uses the document's own names (new_version, event_type, from_state, ...).
 * Throws ValidationError whose paths are those field names.
 */
export function choriaEventInput(kind: ChoriaEventKind, fields: Record<string, unknown>, at: { id: string; time: Date }): EventInput {
  const timestamp = unixSeconds(at.time);
  const id = kind !== 'transition' ? at.id
    : fields.id !== undefined && fields.id !== null ? fields.id
      : machineInstanceId(String(fields.identity ?? ''), String(fields.machine ?? ''));
  const doc = orderDocument(kind, { ...fields, protocol: choriaProtocol(kind), id, timestamp });
  const problems = documentProblems(kind, doc, { publishing: true });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ValidationError(`choria ${kind} event: ${first.path} ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems);
  }
  return {
    id: at.id,
    time: new Date(timestamp * 1000).toISOString(),
    source: kind === 'transition' ? MACHINE_SOURCE : LIFECYCLE_SOURCE,
    type: choriaProtocol(kind),
    subject: doc.identity,
    datacontenttype: 'application/json',
    data: doc,
  };
}
