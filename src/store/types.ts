/**
 * The event store: events, the entity state registry and the outbox tables live in one SQL
 * database (SQLite or PostgreSQL). Both dialects implement this interface and pass the same
 * conformance suite (test/conformance/store.test.ts).
 */
import type { Kysely } from 'kysely';
import type { EntityState, HeraldEvent, Severity } from '../events/index.js';
import type { Database } from './schema.js';

export type Order = 'ascending' | 'descending';

export interface EventQuery {
  entityKind?: string;
  /** One or several entity ids (the API's host_ids alias gives several). */
  entityIds?: string[];
  severities?: Severity[];
  types?: string[];
  source?: string;
  /** Substring of the message (case-insensitive). */
  message?: string;
  /** Inclusive lower bound, RFC 3339. */
  since?: string;
  /** Exclusive upper bound, RFC 3339. */
  until?: string;
  limit: number;
  offset: number;
  order: Order;
}

export interface EventPage {
  events: HeraldEvent[];
  /** Events matching the filters, ignoring limit/offset. */
  total: number;
  /**
   * Events per severity within all the other filters: the severity filter itself is ignored
   * here (as the Assisted Installer's Severity-Count-* headers do), so a UI can show how many
   * warnings there are while listing only errors. `total` does honour the severity filter.
   */
  severityCounts: Record<Severity, number>;
}

export interface AppendOptions {
  /**
   * The sinks that must deliver these events: one outbox entry per event and sink, written in
   * the same transaction. A function chooses per event (sink filters).
   */
  sinks?: readonly string[] | ((event: HeraldEvent) => readonly string[]);
}

export interface StateChange {
  previous: EntityState | null;
  current: EntityState;
  /** The notifications produced (leave?, enter, list?), already stored (and queued for sinks). */
  events: HeraldEvent[];
}

/** Opening a store: `openStore(url, options)` in src/store/index.ts. */
export interface StoreOptions {
  /** PostgreSQL schema to use (default public); tests use a schema of their own. */
  schema?: string;
  /** Clock for tests (entity enteredAt, outbox created_ms); defaults to the system clock. */
  clock?: () => Date;
}

export interface EventStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Kysely instance for components that add their own queries (the outbox relay). */
  readonly db: Kysely<Database>;
  /** Applies migrations (idempotent, safe with several processes). */
  migrate(): Promise<void>;
  /** Stores events atomically (all or none); duplicate ids are ignored (idempotent retries). */
  append(events: readonly HeraldEvent[], options?: AppendOptions): Promise<{ inserted: number }>;
  /**
   * Queues already stored events (from tail()) for delivery to sinks again: one pending
   * outbox row per event and sink (replay). Returns the rows written.
   */
  enqueue(stored: ReadonlyArray<{ seq: number; event: HeraldEvent }>, sinks: NonNullable<AppendOptions['sinks']>): Promise<number>;
  get(id: string): Promise<HeraldEvent | undefined>;
  query(q: EventQuery): Promise<EventPage>;
  /**
   * Events stored after position `afterSeq` (insertion order), matching the filters of `q`
   * (its limit/offset/order are ignored): the live stream (GET /v2/events/stream) reads these.
   */
  tail(q: Omit<EventQuery, 'limit' | 'offset' | 'order'>, afterSeq: number, limit: number): Promise<Array<{ seq: number; event: HeraldEvent }>>;
  /** The position of a stored event (to resume a stream after Last-Event-ID); undefined when unknown. */
  seqOf(id: string): Promise<number | undefined>;
  /** The position of the newest stored event (0 when empty): a live stream starts after it. */
  lastSeq(): Promise<number>;
  /** Records a state change and its notifications atomically. */
  setEntityState(input: { kind: string; id: string; state: string; attributes?: Record<string, unknown>; source?: string }, options?: AppendOptions & { watchedStates?: readonly string[] }): Promise<StateChange>;
  listEntities(filter?: { kind?: string; state?: string }): Promise<EntityState[]>;
  /** Deletes events older than `before` (RFC 3339); returns how many. */
  deleteEventsBefore(before: string): Promise<number>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
