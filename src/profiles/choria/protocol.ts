/**
 * Choria lifecycle and machine-transition documents: protocol names, subjects, the required
 * fields of each type, and building a canonical event from document fields. Shared by the
 * profile (encode/decode), the domain helpers and `herald emit --profile choria`.
 */
import { ValidationError, type FieldProblem } from '../../errors.js';
import type { EventInput } from '../../events/schema.js';

/** Lifecycle event types Choria defines. */
export const LIFECYCLE_TYPES = ['startup', 'shutdown', 'provisioned', 'alive', 'upgraded', 'governor'] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];

/** A lifecycle type, or `transition` for an autonomous-agent (machine) transition. */
export type ChoriaEventKind = LifecycleType | 'transition';
/** Every kind `herald emit --profile choria --type` accepts. */
export const CHORIA_EVENT_KINDS: readonly ChoriaEventKind[] = [...LIFECYCLE_TYPES, 'transition'];

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
  return `choria.lifecycle.event.${type}.${component}`;
}

/** Fields (besides protocol, id, identity, timestamp) each kind requires, in document order. */
export const REQUIRED_FIELDS: Readonly<Record<ChoriaEventKind, readonly string[]>> = {
  startup: ['version', 'component'],
  shutdown: ['component'],
  provisioned: ['component'],
  alive: ['version', 'component'],
  upgraded: ['version', 'new_version', 'component'],
  governor: ['governor', 'sequence', 'event_type', 'component'],
  transition: ['machine', 'version', 'transition', 'from_state', 'to_state'],
};

// Document key order follows Choria's published example for lifecycle events
// (protocol, id, identity, <type fields>, timestamp, component) and Choria's transition
// notification for machines. Order does not matter to JSON consumers but keeps output familiar.
const ORDER: Readonly<Record<ChoriaEventKind, readonly string[]>> = {
  startup: ['protocol', 'id', 'identity', 'version', 'timestamp', 'component'],
  shutdown: ['protocol', 'id', 'identity', 'timestamp', 'component'],
  provisioned: ['protocol', 'id', 'identity', 'timestamp', 'component'],
  alive: ['protocol', 'id', 'identity', 'version', 'timestamp', 'component'],
  upgraded: ['protocol', 'id', 'identity', 'version', 'new_version', 'timestamp', 'component'],
  governor: ['protocol', 'id', 'identity', 'governor', 'sequence', 'event_type', 'timestamp', 'component'],
  transition: ['protocol', 'id', 'identity', 'machine', 'version', 'timestamp', 'transition', 'from_state', 'to_state'],
};

/** A Choria document (plain form); unknown extra keys are kept as they are. */
export type ChoriaDocument = Record<string, unknown> & { protocol: string; id: string; identity: string; timestamp: number };

/**
 * Every problem of a document of `kind`: required strings must be non-empty, `sequence` a
 * whole number >= 0, `timestamp` whole Unix seconds. `requireId` is false for the legacy form,
 * whose schemas predate the id field.
 */
export function documentProblems(kind: ChoriaEventKind, doc: Record<string, unknown>, options: { requireId?: boolean; prefix?: string } = {}): FieldProblem[] {
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
 * The canonical event input of a Choria event: type = the protocol, source =
 * io.choria.lifecycle / io.choria.machine, subject = identity, data = the plain document
 * whose `id` is the event id and `timestamp` the event time in Unix seconds.
 * `fields` uses the document's own names (new_version, event_type, from_state, ...).
 * Throws ValidationError whose paths are those field names.
 */
export function choriaEventInput(kind: ChoriaEventKind, fields: Record<string, unknown>, at: { id: string; time: Date }): EventInput {
  const doc = orderDocument(kind, { ...fields, protocol: choriaProtocol(kind), id: at.id, timestamp: unixSeconds(at.time) });
  const problems = documentProblems(kind, doc);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ValidationError(`choria ${kind} event: ${first.path} ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems);
  }
  return {
    id: at.id,
    time: at.time.toISOString(),
    source: kind === 'transition' ? MACHINE_SOURCE : LIFECYCLE_SOURCE,
    type: choriaProtocol(kind),
    subject: doc.identity,
    datacontenttype: 'application/json',
    data: doc,
  };
}
