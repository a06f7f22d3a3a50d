/**
 * Creating canonical events. The id and time are assigned here, exactly once; every later
 * stage (outbox, retries, replay) carries the same values so consumers can de-duplicate.
 */
import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { ValidationError } from '../errors.js';
import type { EventInput, HeraldEvent } from './schema.js';
import { eventProblems, summarize } from './validate.js';

export interface CreateEventOptions {
  /** Clock for tests; defaults to `new Date()`. */
  now?: () => Date;
  /**
   * Id generator for tests; defaults to a UUIDv7 (RFC 9562): unique like a random UUID, but
   * ordered by creation time, so the store's id index grows at its end instead of dirtying a
   * random page per event (SQLite ingest measured 16,600 → 20,000 events/s with it).
   */
  newId?: () => string;
}

/**
 * Random bytes for new ids, taken from a pool refilled 256 ids at a time: the uuid package's
 * default draws 16 bytes from the system per id, which cost about 3 µs an id (9 % of a
 * structured-mode publish in the profile).
 */
const idRandom = new Uint8Array(16 * 256);
let idRandomAt = idRandom.length;

/** A new event id: a UUIDv7 (time-ordered; see CreateEventOptions.newId). */
export function newEventId(): string {
  if (idRandomAt === idRandom.length) {
    randomFillSync(idRandom);
    idRandomAt = 0;
  }
  const random = idRandom.subarray(idRandomAt, idRandomAt + 16);
  idRandomAt += 16;
  return uuidv7({ random });
}

/** Validates an input and returns the frozen canonical event, with id, time and severity filled in. */
export function createEvent(input: unknown, options: CreateEventOptions = {}): HeraldEvent {
  const problems = eventProblems(input);
  if (problems.length > 0) throw new ValidationError(summarize(problems, 'invalid event'), problems);
  return normalize(input as EventInput, options);
}

/** Normalizes an already validated input (no validation here; see createEvent). */
export function normalize(input: EventInput, options: CreateEventOptions = {}): HeraldEvent {
  const entity = input.entity ?? (input.entitykind !== undefined && input.entityid !== undefined
    ? { kind: input.entitykind, id: input.entityid }
    : undefined);
  // Assigned one by one rather than with conditional spreads: this runs for every event.
  const event: { -readonly [K in keyof HeraldEvent]: HeraldEvent[K] } = {
    specversion: '1.0',
    id: input.id ?? (options.newId ?? newEventId)(),
    source: input.source,
    type: input.type,
    time: input.time !== undefined ? new Date(input.time).toISOString() : (options.now?.() ?? new Date()).toISOString(),
    severity: input.severity ?? 'info',
  };
  if (input.subject !== undefined) event.subject = input.subject;
  if (entity !== undefined) event.entity = { kind: entity.kind, id: entity.id };
  if (input.partitionkey !== undefined) event.partitionkey = input.partitionkey;
  if (input.message !== undefined) event.message = input.message;
  if (input.datacontenttype !== undefined) event.datacontenttype = input.datacontenttype;
  if (input.dataschema !== undefined) event.dataschema = input.dataschema;
  if (input.data !== undefined) event.data = input.data;
  return Object.freeze(event);
}

/** The record key: the explicit partition key, else the entity (`kind:id`), else the subject. */
export function partitionKey(event: HeraldEvent): string | undefined {
  if (event.partitionkey !== undefined) return event.partitionkey;
  if (event.entity !== undefined) return `${event.entity.kind}:${event.entity.id}`;
  return event.subject;
}
