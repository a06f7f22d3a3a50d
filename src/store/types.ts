/**
 * The event store: events and the entity state registry in one SQL database (SQLite or
 * PostgreSQL). Both dialects implement this interface and pass the same conformance suite
 * (test/conformance/store.test.ts). Other components keep their own tables in the same
 * database (the outbox): they register their migrations with migrate() and write their rows
 * inside the store's transactions (`within`), so an event and what must follow from it commit
 * together.
 */
import type { HeraldError } from '../errors.js';
import type { Kysely, Migration, Transaction } from 'kysely';
import type { EntityState, HeraldEvent, Severity } from '../events/index.js';
import type { DialectFunctions, StoreAbilities } from './abilities.js';

export type { DialectFunctions } from './abilities.js';
import type { Database } from './schema.js';

export type Order = 'ascending' | 'descending';

/**
 * A condition on the entities an event refers to (herald_event_refs, filled by append from
 * events/refs.ts): it refers to one of `ids` of `kind`, or (`none`) to no entity of `kind`.
 */
export type RefTerm =
  | { kind: string; ids: readonly string[] }
  | { kind: string; none: true };

export interface EventQuery {
  entityKind?: string;
  /** One or several entity ids. */
  entityIds?: string[];
  /**
   * Conditions on the events' refs, answered from the refs index: every group must hold, and a
   * group holds when one of its terms does (an empty group holds for no event). E.g. "events
   * of cluster C that are cluster-level or of host H":
   * `[[{kind: 'cluster', ids: [C]}], [{kind: 'host', none: true}, {kind: 'host', ids: [H]}]]`.
   */
  refs?: readonly (readonly RefTerm[])[];
  severities?: Severity[];
  types?: string[];
  /** Types left out (e.g. entity notifications where only events are wanted). */
  excludeTypes?: string[];
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

/** A stored event: its position (insertion order) and, for append, its index in the appended list. */
export interface StoredEvent {
  seq: number;
  event: HeraldEvent;
  index: number;
}

/** What a component writing in the store's transaction gets. */
export interface StoreTransaction {
  /** The transaction (typed for the store's tables; a component adds its own with withTables). */
  readonly db: Transaction<Database>;
  readonly abilities: StoreAbilities;
  /** The store's clock (now). */
  readonly now: Date;
}

/** Writes of other components inside an append's transaction, after the events are inserted. */
export type Within = (tx: StoreTransaction, stored: readonly StoredEvent[]) => Promise<void>;

export interface AppendOptions {
  /** The events' JSON, when the caller has it already (one serialisation per event). */
  docs?: readonly string[];
  /** Runs in the same transaction, with the events actually inserted (repeated ids are not). */
  within?: Within;
}

/** What a state change sees inside its transaction (the kind is locked against concurrent changes). */
export interface EntityTransaction extends StoreTransaction {
  /** The entity's current record, or null. */
  readonly current: EntityState | null;
  /** Writes the entity's new record. */
  put(state: EntityState): Promise<void>;
  /** The kind's entities in `state`, by id. */
  membersIn(state: string): Promise<EntityState[]>;
  /** Inserts events (the notifications) in this transaction, like append. */
  insert(events: readonly HeraldEvent[], options?: AppendOptions): Promise<StoredEvent[]>;
}

/** A component's tables: migrations merged into the store's one ordered Migrator. */
export interface SchemaModule {
  readonly name: string;
  /** Migrations by name; names sort into one order with the store's own (0001_init, ...). */
  migrations(abilities: StoreAbilities): Record<string, Migration>;
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
  /** Set while recent writes fail for lack of space or of the database (readiness reports it). */
  readonly writeProblem?: HeraldError | undefined;
  readonly abilities: StoreAbilities;
  /** Kysely instance for components with tables of their own (the outbox). */
  readonly db: Kysely<Database>;
  /** Dialect functions components may need; absent where the dialect has no such thing. */
  readonly functions: DialectFunctions;
  /** Applies the store's migrations and those of `modules`, in one order (idempotent, safe with several processes). */
  migrate(modules?: readonly SchemaModule[]): Promise<void>;
  /** Stores events atomically (all or none); repeated ids are ignored (idempotent retries). */
  append(events: readonly HeraldEvent[], options?: AppendOptions): Promise<{ inserted: number; stored: StoredEvent[] }>;
  /**
   * Replaces stored events by seq with new versions of themselves (same id; e.g. re-redacted
   * before a replay), keeping the counts exact.
   */
  rewrite(events: ReadonlyArray<{ seq: number; event: HeraldEvent }>): Promise<number>;
  get(id: string): Promise<HeraldEvent | undefined>;
  query(q: EventQuery): Promise<EventPage>;
  /**
   * Events stored after position `afterSeq` (insertion order), matching the filters of `q`
   * (its limit/offset/order are ignored): the live stream and replay read these.
   */
  tail(q: Omit<EventQuery, 'limit' | 'offset' | 'order'>, afterSeq: number, limit: number): Promise<Array<{ seq: number; event: HeraldEvent }>>;
  /**
   * tail() without parsing: each event's id and its stored JSON text (what JSON.stringify of
   * the event gives). The live stream sends that text as it is, so a feed allocates one string
   * per event instead of an object tree and a second serialisation.
   */
  tailDocs(q: Omit<EventQuery, 'limit' | 'offset' | 'order'>, afterSeq: number, limit: number): Promise<Array<{ seq: number; id: string; doc: string }>>;
  /** The position of a stored event (to resume a stream after Last-Event-ID); undefined when unknown. */
  seqOf(id: string): Promise<number | undefined>;
  /** The position of the newest stored event (0 when empty): a live stream starts after it. */
  lastSeq(): Promise<number>;
  /** Runs `fn` in a transaction holding the entity kind's lock, with the entity's current record. */
  changeEntity<T>(kind: string, id: string, fn: (tx: EntityTransaction) => Promise<T>): Promise<T>;
  listEntities(filter?: { kind?: string; state?: string }): Promise<EntityState[]>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
