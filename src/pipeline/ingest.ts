/**
 * The one way into Herald. Every entry point — POST /v2/events and the entity-state PUT, the
 * library's createPublisher (direct and durable), `herald emit`, `herald bridge` — hands its
 * events to an Ingest, which takes each event through the same steps:
 *
 *   validate → normalize (id and time, once) → redact → check against every target sink's
 *   size limit → hand over (durably: store + outbox entries in one transaction; directly: to
 *   the sinks' bindings)
 *
 * so a promise (redaction, topic, limits, wake-ups) holds on every path or on none. Nothing
 * else in the code builds, redacts or routes an event.
 */
import type { SinkBinding } from '../delivery/binding.js';
import { messageBytes } from '../delivery/binding.js';
import type { Delivery } from '../delivery/direct.js';
import { HeraldError, ValidationError, type FieldProblem } from '../errors.js';
import { announces, DEFAULT_WATCHED_STATES, ENTITY_EVENT_SOURCE, normalizeState, planStateChange, stateNotifications, type EntityState, type StateRequest } from '../events/entity-states.js';
import { normalize } from '../events/event.js';
import { createRedactor, createTextRedactor, createValueRedactor, type ValueRedactor } from '../events/redact.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import { batchProblems, eventProblems, stateRequestProblems, summarize } from '../events/validate.js';

/** Where an Ingest hands validated, normalized and redacted events over. */
export interface Handover {
  /** The bindings an event goes to. */
  targets(event: HeraldEvent): readonly SinkBinding[];
  /**
   * Direct hand-overs publish now, so ingest encodes every message first (exact sizes, and
   * the messages are reused); durable ones store the events' JSON and encode later.
   */
  readonly encodesNow: boolean;
  /** Stores or publishes; resolves with how many events were new (repeated ids are stored once). */
  deliver(batch: Batch): Promise<number>;
  /** A state change (durable hand-overs only); `build` turns the plan into the notifications. */
  changeState?(request: StateRequest, build: StateBuilder): Promise<StateChange>;
}

/** One ingest's events, ready for the hand-over. */
export interface Batch {
  events: readonly HeraldEvent[];
  /** targets[i]: the bindings of events[i]. */
  targets: readonly (readonly SinkBinding[])[];
  /** The events' JSON (durable hand-overs). */
  docs?: readonly string[];
  /** Every target binding's encoded messages (direct hand-overs). */
  deliveries?: readonly Delivery[];
}

/** What a state change returns: the records before and after, and the notifications it stored. */
export interface StateChange {
  previous: EntityState | null;
  current: EntityState;
  events: HeraldEvent[];
}

/** Inside a state change's transaction: the notifications of its plan, prepared like any ingested event. */
export type StateBuilder = (tx: StateTx) => Promise<{ plan: ReturnType<typeof planStateChange>; events: HeraldEvent[]; docs: string[]; targets: SinkBinding[][] }>;

/** What a state builder may do inside the change's transaction. */
export interface StateTx {
  readonly current: EntityState | null;
  readonly now: Date;
  put(state: EntityState): Promise<void>;
  membersIn(state: string): Promise<EntityState[]>;
}

export interface IngestOptions {
  handover: Handover;
  /** Key names redacted besides the built-in ones (config redact.keys / HERALD_REDACT_KEYS). */
  redactKeys?: readonly string[];
  /** Most events one call may carry (the API's 1000); default: no limit. */
  maxBatch?: number;
  /** The entity registry's watched states (lists published after every enter). */
  watchedStates?: readonly string[];
}

export interface IngestResult {
  /** The events as stored and published: id, time and severity filled in, secrets redacted. */
  events: HeraldEvent[];
  /** How many were new (a repeated id is stored once). */
  inserted: number;
  /** Direct hand-overs: the messages published (0 when no target's profile carries the events). */
  messages?: number;
}

/** What Ingest.prepare returns for Ingest.deliver (no batch: the input was an empty array). */
export interface PreparedIngest {
  readonly batch: Batch | undefined;
}

const n = (x: number) => x.toLocaleString('en-US');

export class Ingest {
  readonly #o: IngestOptions;
  readonly #redact: (event: HeraldEvent) => HeraldEvent;
  readonly #redactValue: ValueRedactor;
  readonly #redactText: (text: string) => string;

  constructor(options: IngestOptions) {
    this.#o = options;
    this.#redact = createRedactor(options.redactKeys ?? []);
    this.#redactValue = createValueRedactor(options.redactKeys ?? []);
    this.#redactText = createTextRedactor(options.redactKeys ?? []);
  }

  /** The redactor of this ingest (replay re-applies it to stored events). */
  redact(event: HeraldEvent): HeraldEvent {
    return this.#redact(event);
  }

  /**
   * Ingests one event or a batch, all or nothing. `inputs` is what the caller received (any
   * JSON): an array is a batch whose problem paths start with the index (`[3].type`).
   * Throws ValidationError (400) listing every problem, or PAYLOAD_TOO_LARGE (413) naming the
   * event and the sink whose limit it exceeds; nothing is stored or sent then.
   */
  async events(inputs: unknown): Promise<IngestResult> {
    return this.deliver(this.prepare(inputs));
  }

  /**
   * The first half of events(): validates, normalizes, redacts and prepares `inputs` for the
   * hand-over, throwing what events() rejects with; nothing is handed over yet. A caller that
   * reads its input in batches (`herald emit --input`) prepares the next batch while the
   * previous one is being published, and hands them over in order.
   */
  prepare(inputs: unknown): PreparedIngest {
    const batch = Array.isArray(inputs);
    const list: unknown[] = batch ? inputs : [inputs];
    const problems = batch ? batchProblems(list, this.#o.maxBatch ?? Number.MAX_SAFE_INTEGER) : eventProblems(inputs);
    if (problems.length > 0) throw new ValidationError(summarize(problems, batch ? 'invalid batch' : 'invalid event'), problems);
    if (list.length === 0) return { batch: undefined };
    const events = list.map((input) => this.#redact(normalize(input as EventInput)));
    return { batch: this.#prepare(events, batch) };
  }

  /** The second half of events(): hands a prepared batch over (stores or publishes it). */
  async deliver(prepared: PreparedIngest): Promise<IngestResult> {
    const b = prepared.batch;
    if (b === undefined) return { events: [], inserted: 0 };
    const inserted = await this.#o.handover.deliver(b);
    const events = b.events as HeraldEvent[];
    return b.deliveries === undefined
      ? { events, inserted }
      : { events, inserted, messages: b.deliveries.reduce((sum, d) => sum + d.messages.length, 0) };
  }

  /**
   * Sets an entity's state (durable hand-overs only): redacts the attributes, plans the change,
   * and stores the record with its notifications (leave, enter, lists) and their outbox
   * entries in one transaction.
   */
  async state(request: StateRequest): Promise<StateChange> {
    const changeState = this.#o.handover.changeState;
    if (changeState === undefined) throw new HeraldError('INVALID_REQUEST', 'entity states need a store: use a durable publisher or herald serve');
    const problems = stateRequestProblems(request);
    if (problems.length > 0) throw new ValidationError(summarize(problems, 'invalid entity state'), problems);
    const t = this.#redactText;
    const redacted: StateRequest = {
      kind: t(request.kind),
      id: t(request.id),
      state: t(request.state),
      ...(request.source !== undefined && { source: t(request.source) }),
      ...(request.attributes !== undefined && { attributes: this.#redactValue(request.attributes) as Record<string, unknown> }),
    };
    const watched = [...new Set((this.#o.watchedStates ?? DEFAULT_WATCHED_STATES).map(normalizeState))];
    return changeState.call(this.#o.handover, redacted, async (tx) => {
      const plan = planStateChange(tx.current, redacted, tx.now);
      await tx.put(plan.current);
      // The lists are read after the write, so they hold the entity in its new state.
      const lists: Array<{ state: string; members: EntityState[] }> = [];
      if (announces(plan)) for (const w of watched) lists.push({ state: w, members: await tx.membersIn(w) });
      const events = stateNotifications(plan, lists, redacted.source ?? ENTITY_EVENT_SOURCE).map((input) => this.#redact(normalize(input)));
      const { docs, targets } = this.#prepare(events, true);
      return { plan, events, docs: [...docs!], targets: targets.map((t) => [...t]) };
    });
  }

  /** Targets, size checks and (direct) encoding or (durable) JSON of valid, redacted events. */
  #prepare(events: readonly HeraldEvent[], batch: boolean): Batch {
    const h = this.#o.handover;
    const targets = events.map((e) => h.targets(e));
    const at = (i: number) => (batch ? `[${i}]` : '');
    // A target's profile that cannot carry an event (a Choria event without its component)
    // refuses it here, naming the field, rather than have the relay park it after it is stored.
    const unencodable: FieldProblem[] = [];
    events.forEach((e, i) => {
      for (const b of targets[i]!) {
        for (const p of b.problems(e)) unencodable.push({ path: batch ? `${at(i)}.${p.path}` : p.path, message: `${p.message} (sink "${b.name}", profile ${b.profile.name})` });
      }
    });
    if (unencodable.length > 0) throw new ValidationError(summarize(unencodable, batch ? 'invalid batch' : 'invalid event'), unencodable);
    if (h.encodesNow) {
      const byBinding = new Map<SinkBinding, Delivery>();
      const tooLarge: FieldProblem[] = [];
      events.forEach((e, i) => {
        for (const b of targets[i]!) {
          let d = byBinding.get(b);
          if (d === undefined) byBinding.set(b, (d = { binding: b, messages: [] }));
          for (const m of b.encode(e)) {
            const bytes = messageBytes(m);
            if (b.rejectsOversized && b.maxMessageBytes !== undefined && bytes > b.maxMessageBytes) tooLarge.push(oversized(at(i), bytes, b));
            d.messages.push(m);
          }
        }
      });
      if (tooLarge.length > 0) throw tooLargeError(tooLarge);
      return { events, targets, deliveries: [...byBinding.values()] };
    }
    const docs = events.map((e) => JSON.stringify(e));
    const tooLarge: FieldProblem[] = [];
    events.forEach((e, i) => {
      for (const b of targets[i]!) {
        if (!b.rejectsOversized || b.maxMessageBytes === undefined) continue;
        // The JSON bounds what a profile writes (at most 3 bytes per UTF-16 unit, and envelopes
        // at most double it, e.g. props as an escaped string): only events that might exceed
        // the limit are encoded here; the relay encodes the rest once, when it publishes.
        if (docs[i]!.length * 6 + 1024 <= b.maxMessageBytes) continue;
        for (const m of b.encode(e)) {
          const bytes = messageBytes(m);
          if (bytes > b.maxMessageBytes) tooLarge.push(oversized(at(i), bytes, b));
        }
      }
    });
    if (tooLarge.length > 0) throw tooLargeError(tooLarge);
    return { events, targets, docs };
  }
}

function oversized(path: string, bytes: number, b: SinkBinding): FieldProblem {
  return { path, message: `is ${n(bytes)} bytes as a ${b.config.type} message for sink "${b.name}", which takes at most ${n(b.maxMessageBytes!)} (maxMessageBytes; oversized: park accepts and parks such events)` };
}

function tooLargeError(problems: FieldProblem[]): HeraldError {
  const first = problems[0]!;
  return new HeraldError('PAYLOAD_TOO_LARGE', `event ${first.path || ''}${first.path ? ' ' : ''}is too large: ${first.message.replace(/^is /, '')}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, { details: problems });
}
