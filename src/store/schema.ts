/**
 * The SQL schema shared by both dialects (Kysely table types). Times are stored as
 * milliseconds since the epoch (bigint) so ordering and range filters use plain integer
 * indexes on both SQLite and PostgreSQL; the full event is kept as JSON text in `doc`.
 */
import type { ColumnType, Generated } from 'kysely';

export type BigIntCol = ColumnType<number, number | bigint, number | bigint>;

export interface EventsTable {
  /** Insertion order; the outbox, replay and SSE resume use it. */
  seq: Generated<BigIntCol>;
  id: string;
  source: string;
  type: string;
  subject: string | null;
  severity: string;
  entity_kind: string | null;
  entity_id: string | null;
  partition_key: string | null;
  message: string | null;
  time_ms: BigIntCol;
  created_ms: BigIntCol;
  /** The whole canonical event as JSON (already redacted). */
  doc: string;
}

export interface EntitiesTable {
  kind: string;
  id: string;
  state: string;
  previous_state: string | null;
  entered_ms: BigIntCol;
  updated_ms: BigIntCol;
  /** JSON object. */
  attributes: string;
}

/**
 * Events per (source, type, entity kind, severity), kept exact in the transaction of every
 * insert and delete of herald_events: the per-severity counts of a query filtering only on
 * these columns read this instead of the events.
 */
export interface EventCountsTable {
  source: string;
  type: string;
  /** '' for events without an entity (a primary key column cannot be NULL on PostgreSQL). */
  entity_kind: string;
  severity: string;
  n: BigIntCol;
}

/**
 * The entities each event refers to (events/refs.ts decides which: its cluster, host and
 * infra-env, and a non-default category), written in the transaction of its insert and removed
 * with it (a delete trigger, migration 0006). The primary key (seq, kind, id) answers "which
 * refs has this event"; the index (kind, id, seq) answers "which events refer to this entity".
 */
export interface EventRefsTable {
  seq: BigIntCol;
  kind: string;
  id: string;
}

export interface Database {
  herald_events: EventsTable;
  herald_event_refs: EventRefsTable;
  herald_event_counts: EventCountsTable;
  herald_entities: EntitiesTable;
}
