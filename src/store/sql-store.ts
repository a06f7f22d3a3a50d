/**
 * The one EventStore implementation over Kysely. Dialect differences are ability flags
 * (src/store/abilities.ts); the queries are otherwise the same on SQLite and PostgreSQL.
 */
import { Migrator, sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { HeraldError, ValidationError } from '../errors.js';
import { createEvent, partitionKey } from '../events/event.js';
import {
  ENTITY_EVENT_SOURCE,
  ENTITY_EVENT_TYPES,
  UNKNOWN_STATE,
  type EntityListData,
  type EntityState,
  type EntityTransitionData,
} from '../events/entity-states.js';
import { SEVERITIES, type HeraldEvent, type Severity } from '../events/schema.js';
import { silentLogger, type Logger } from '../log.js';
import type { DialectHandle, StoreAbilities } from './abilities.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import type { AppendOptions, EventPage, EventQuery, EventStore, StateChange } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Columns per herald_events row and per herald_outbox row, for chunking multi-row inserts. */
const EVENT_COLUMNS = 12;
const OUTBOX_COLUMNS = 8;
const COUNT_COLUMNS = 5;
const MAX_ROWS_PER_INSERT = 1000;

/** The default watched states of the entity registry. */
export const DEFAULT_WATCHED_STATES = ['RUNNING'] as const;

/**
 * Normalises a requested state: upper case; DESTROY (its outcome is not known yet) and an
 * empty state are recorded as UNKNOWN.
 */
export function normalizeState(state: string | null | undefined): string {
  const s = (state ?? '').trim().toUpperCase();
  return s === '' || s === 'DESTROY' ? UNKNOWN_STATE : s;
}

const toMs = (iso: string, name: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new ValidationError(`${name} must be an RFC 3339 date-time, got "${iso}"`, [{ path: name, message: 'must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z' }], 'INVALID_REQUEST');
  return ms;
};

const parseDoc = (doc: string): HeraldEvent => Object.freeze(JSON.parse(doc) as HeraldEvent);

function entityFromRow(row: { kind: string; id: string; state: string; previous_state: string | null; entered_ms: number; updated_ms: number; attributes: string }): EntityState {
  return {
    kind: row.kind,
    id: row.id,
    state: row.state,
    previous: row.previous_state,
    enteredAt: new Date(Number(row.entered_ms)).toISOString(),
    updatedAt: new Date(Number(row.updated_ms)).toISOString(),
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A herald_event_counts row; entity_kind '' stands for "no entity". */
interface CountRow { source: string; type: string; entity_kind: string; severity: string; n: number }

/** Byte order of UTF-8 (PostgreSQL's collate "C"), so both dialects and the delete trigger agree. */
const byBytes = (a: string, b: string): number => (a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Events per count key, keys in byte order. */
function countRows(events: readonly HeraldEvent[]): CountRow[] {
  const byKey = new Map<string, CountRow>();
  for (const e of events) {
    const row = { source: e.source, type: e.type, entity_kind: e.entity?.kind ?? '', severity: e.severity, n: 1 };
    const k = JSON.stringify([row.source, row.type, row.entity_kind, row.severity]);
    const seen = byKey.get(k);
    if (seen === undefined) byKey.set(k, row);
    else seen.n++;
  }
  return [...byKey.values()].sort((a, b) =>
    byBytes(a.source, b.source) || byBytes(a.type, b.type) || byBytes(a.entity_kind, b.entity_kind) || byBytes(a.severity, b.severity));
}

/** The herald_events row of an event (its columns are the filters' indexes; `doc` is the event). */
export function eventRow(e: HeraldEvent, createdMs: number) {
  return {
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject ?? null,
    severity: e.severity,
    entity_kind: e.entity?.kind ?? null,
    entity_id: e.entity?.id ?? null,
    partition_key: partitionKey(e) ?? null,
    message: e.message ?? null,
    time_ms: toMs(e.time, 'time'),
    created_ms: createdMs,
    doc: JSON.stringify(e),
  };
}

/** An EventStore over one dialect handle. Construct through openStore(). */
export class SqlEventStore implements EventStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  private readonly abilities: StoreAbilities;
  private readonly schema: string | undefined;
  private readonly clock: () => Date;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  constructor(handle: DialectHandle, options: { clock?: () => Date; logger?: Logger } = {}) {
    this.dialect = handle.name;
    this.db = handle.db;
    this.abilities = handle.abilities;
    this.schema = handle.schema;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger ?? silentLogger;
  }

  /** Runs one operation, turning driver failures into STORE_UNAVAILABLE (503 in the API). */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new HeraldError('CLOSED', `the event store is closed (${op})`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HeraldError) throw err;
      throw new HeraldError('STORE_UNAVAILABLE', `event store ${op} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  async migrate(): Promise<void> {
    await this.run('migrate', async () => {
      const migrator = new Migrator({
        db: this.db,
        provider: migrationProvider(this.abilities),
        ...(this.schema !== undefined && { migrationTableSchema: this.schema }),
      });
      // Kysely's migration lock is a no-op on SQLite (and its DDL runs outside a transaction
      // there), so two processes may race on one file. Every migration step is idempotent
      // (IF NOT EXISTS): the loser fails on the migration record and, retried, finds it applied.
      let { error, results } = await migrator.migrateToLatest();
      const raced = (e: unknown) => /unique|already exists|duplicate/i.test((e as Error)?.message ?? '');
      for (let attempt = 1; error && raced(error) && attempt < 5; attempt++) {
        await new Promise((r) => setTimeout(r, 50 * attempt));
        ({ error, results } = await migrator.migrateToLatest());
      }
      for (const r of results ?? []) {
        if (r.status === 'Success') this.logger.info({ migration: r.migrationName }, 'applied store migration');
      }
      if (error) {
        throw new HeraldError('STORE_UNAVAILABLE', `cannot prepare the ${this.dialect} event store (migrations): ${(error as Error)?.message ?? String(error)}; check the database is running and reachable (store.url / HERALD_DB / --db)`, { cause: error });
      }
    });
  }

  async append(events: readonly HeraldEvent[], options: AppendOptions = {}): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    return this.run('append', () =>
      this.db.transaction().execute(async (trx) => ({ inserted: (await this.appendIn(trx, events, options)).length })),
    );
  }

  /** Inserts events and their outbox rows inside `trx`; returns the events actually inserted. */
  private async appendIn(trx: Transaction<Database>, events: readonly HeraldEvent[], options: AppendOptions): Promise<HeraldEvent[]> {
    const now = this.clock().getTime();
    const byId = new Map<string, HeraldEvent>();
    for (const e of events) if (!byId.has(e.id)) byId.set(e.id, e);
    const rows = [...byId.values()].map((e) => eventRow(e, now));
    const inserted: Array<{ seq: number; event: HeraldEvent }> = [];
    const perInsert = Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.abilities.maxParameters / EVENT_COLUMNS));
    for (const chunk of chunks(rows, perInsert)) {
      const returned = await trx
        .insertInto('herald_events')
        .values(chunk)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning(['seq', 'id'])
        .execute();
      for (const r of returned) inserted.push({ seq: Number(r.seq), event: byId.get(r.id)! });
    }
    inserted.sort((a, b) => a.seq - b.seq);

    if (options.sinks !== undefined) await this.insertOutbox(trx, inserted, options.sinks, now);
    // Last, in key order: on PostgreSQL the count rows are hot, so hold their locks briefly and
    // take them in one order (no deadlocks between concurrent appends, nor with the delete trigger).
    await this.addCounts(trx, countRows(inserted.map((i) => i.event)));
    return inserted.map((i) => i.event);
  }

  /** Adds rows to herald_event_counts (one upsert per chunk). */
  private async addCounts(trx: Transaction<Database>, rows: readonly CountRow[]): Promise<void> {
    const perInsert = Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.abilities.maxParameters / COUNT_COLUMNS));
    for (const chunk of chunks(rows, perInsert)) {
      await trx
        .insertInto('herald_event_counts')
        .values(chunk)
        .onConflict((oc) => oc.columns(['source', 'type', 'entity_kind', 'severity'])
          .doUpdateSet({ n: sql<number>`herald_event_counts.n + excluded.n` }))
        .execute();
    }
  }

  /** One pending outbox row per stored event and sink (the sinks may be chosen per event). */
  private async insertOutbox(trx: Db, stored: ReadonlyArray<{ seq: number; event: HeraldEvent }>, sinks: NonNullable<AppendOptions['sinks']>, now: number): Promise<number> {
    const outbox = stored.flatMap(({ seq, event }) => {
      const names = typeof sinks === 'function' ? sinks(event) : sinks;
      return names.map((sink) => ({
        sink,
        event_seq: seq,
        event_id: event.id,
        partition_key: partitionKey(event) ?? null,
        status: 'pending',
        attempts: 0,
        next_attempt_ms: now,
        created_ms: now,
      }));
    });
    const perOutbox = Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.abilities.maxParameters / OUTBOX_COLUMNS));
    for (const chunk of chunks(outbox, perOutbox)) await trx.insertInto('herald_outbox').values(chunk).execute();
    return outbox.length;
  }

  async enqueue(stored: ReadonlyArray<{ seq: number; event: HeraldEvent }>, sinks: NonNullable<AppendOptions['sinks']>): Promise<number> {
    if (stored.length === 0) return 0;
    return this.run('enqueue', () => this.db.transaction().execute((trx) => this.insertOutbox(trx, stored, sinks, this.clock().getTime())));
  }

  async get(id: string): Promise<HeraldEvent | undefined> {
    return this.run('get', async () => {
      const row = await this.db.selectFrom('herald_events').select('doc').where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : parseDoc(row.doc);
    });
  }

  /** The WHERE clause of a query; the severity filter is left out for the per-severity counts. */
  private conditions(q: EventQuery, withSeverity: boolean) {
    const since = q.since !== undefined ? toMs(q.since, 'since') : undefined;
    const until = q.until !== undefined ? toMs(q.until, 'until') : undefined;
    return (eb: ExpressionBuilder<Database, 'herald_events'>) => {
      const c = [];
      if (q.entityKind !== undefined) c.push(eb('entity_kind', '=', q.entityKind));
      if (q.entityIds !== undefined && q.entityIds.length > 0) {
        c.push(q.entityIds.length === 1 ? eb('entity_id', '=', q.entityIds[0]!) : eb('entity_id', 'in', q.entityIds));
      }
      if (withSeverity && q.severities !== undefined && q.severities.length > 0) c.push(eb('severity', 'in', q.severities));
      if (q.types !== undefined && q.types.length > 0) c.push(eb('type', 'in', q.types));
      if (q.source !== undefined) c.push(eb('source', '=', q.source));
      if (q.message !== undefined && q.message !== '') {
        // A literal substring: escape LIKE's wildcards so "50%" matches "50%" only.
        const pattern = `%${q.message.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
        c.push(sql<boolean>`${sql.ref('message')} ${sql.raw(this.abilities.caseInsensitiveLike)} ${pattern} escape ${'\\'}`);
      }
      if (since !== undefined) c.push(eb('time_ms', '>=', since));
      if (until !== undefined) c.push(eb('time_ms', '<', until));
      return eb.and(c);
    };
  }

  /**
   * Events per severity within every filter but severities. Filters on source, types and
   * entity kind only are answered from herald_event_counts; any other filter counts the events.
   */
  private async severityCounts(q: EventQuery): Promise<Array<{ severity: string; n: number }>> {
    const aggregate = (q.entityIds === undefined || q.entityIds.length === 0)
      && (q.message === undefined || q.message === '')
      && q.since === undefined && q.until === undefined
      && q.entityKind !== ''; // '' is the counts' "no entity"
    if (!aggregate) {
      return this.db
        .selectFrom('herald_events')
        .select(['severity', (eb) => eb.fn.countAll<number>().as('n')])
        .where(this.conditions(q, false))
        .groupBy('severity')
        .execute();
    }
    let counts = this.db
      .selectFrom('herald_event_counts')
      .select(['severity', (eb) => eb.fn.sum<number>('n').as('n')]);
    if (q.source !== undefined) counts = counts.where('source', '=', q.source);
    if (q.types !== undefined && q.types.length > 0) counts = counts.where('type', 'in', q.types);
    if (q.entityKind !== undefined) counts = counts.where('entity_kind', '=', q.entityKind);
    return counts.groupBy('severity').execute();
  }

  async query(q: EventQuery): Promise<EventPage> {
    return this.run('query', async () => {
      const counts = await this.severityCounts(q);
      const severityCounts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
      for (const r of counts) if (r.severity in severityCounts) severityCounts[r.severity as Severity] = Number(r.n);
      const wanted = q.severities !== undefined && q.severities.length > 0 ? q.severities : SEVERITIES;
      const total = (wanted as readonly Severity[]).reduce<number>((sum, s) => sum + severityCounts[s], 0);
      const dir = q.order === 'descending' ? 'desc' : 'asc';
      const rows = total === 0 || q.limit === 0
        ? []
        : await this.db
          .selectFrom('herald_events')
          .select('doc')
          .where(this.conditions(q, true))
          .orderBy('time_ms', dir)
          .orderBy('seq', dir)
          .limit(q.limit)
          .offset(q.offset)
          .execute();
      return { events: rows.map((r) => parseDoc(r.doc)), total, severityCounts };
    });
  }

  async tail(q: Omit<EventQuery, 'limit' | 'offset' | 'order'>, afterSeq: number, limit: number): Promise<Array<{ seq: number; event: HeraldEvent }>> {
    return this.run('tail', async () => {
      const rows = await this.db
        .selectFrom('herald_events')
        .select(['seq', 'doc'])
        // Generated<ColumnType<...>> hides the comparable type from Kysely; the value is a plain number.
        .where('seq', '>', afterSeq as never)
        .where(this.conditions({ ...q, limit: 0, offset: 0, order: 'ascending' }, true))
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), event: parseDoc(r.doc) }));
    });
  }

  async seqOf(id: string): Promise<number | undefined> {
    return this.run('seqOf', async () => {
      const row = await this.db.selectFrom('herald_events').select('seq').where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : Number(row.seq);
    });
  }

  async lastSeq(): Promise<number> {
    return this.run('lastSeq', async () => {
      const row = await this.db.selectFrom('herald_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
      return row?.m == null ? 0 : Number(row.m);
    });
  }

  async setEntityState(
    input: { kind: string; id: string; state: string; attributes?: Record<string, unknown>; source?: string },
    options: AppendOptions & { watchedStates?: readonly string[] } = {},
  ): Promise<StateChange> {
    const state = normalizeState(input.state);
    const watched = new Set((options.watchedStates ?? DEFAULT_WATCHED_STATES).map((s) => normalizeState(s)));
    const source = input.source ?? ENTITY_EVENT_SOURCE;
    return this.run('setEntityState', () =>
      this.db.transaction().execute(async (trx) => {
        if (this.abilities.advisoryLocks) {
          await sql`select pg_advisory_xact_lock(hashtext(${`herald.entities:${input.kind}`}))`.execute(trx);
        }
        // Read the clock after the lock, so notifications of one kind are in time order too.
        const nowDate = this.clock();
        const now = nowDate.getTime();
        const time = nowDate.toISOString();
        let select = trx.selectFrom('herald_entities').selectAll().where('kind', '=', input.kind).where('id', '=', input.id);
        if (this.abilities.supportsForUpdate) select = select.forUpdate();
        const prevRow = await select.executeTakeFirst();
        const previous = prevRow === undefined ? null : entityFromRow(prevRow);
        const attributes = input.attributes ?? previous?.attributes ?? {};
        const changed = previous === null || previous.state !== state;
        const attributesChanged = previous !== null && JSON.stringify(previous.attributes) !== JSON.stringify(attributes);
        const row = {
          kind: input.kind,
          id: input.id,
          state,
          previous_state: changed ? (previous?.state ?? null) : (previous?.previous ?? null),
          entered_ms: changed || previous === null ? now : Date.parse(previous.enteredAt),
          updated_ms: now,
          attributes: JSON.stringify(attributes),
        };
        await trx
          .insertInto('herald_entities')
          .values(row)
          .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({
            state: row.state,
            previous_state: row.previous_state,
            entered_ms: row.entered_ms,
            updated_ms: row.updated_ms,
            attributes: row.attributes,
          }))
          .execute();
        const current = entityFromRow(row);

        const events: HeraldEvent[] = [];
        const entity = { kind: input.kind, id: input.id };
        if (changed && previous !== null) {
          const data: EntityTransitionData = { kind: input.kind, id: input.id, state: previous.state, next: state, enteredAt: previous.enteredAt, attributes: previous.attributes };
          events.push(createEvent({ source, type: ENTITY_EVENT_TYPES.leave, time, entity, message: `${input.kind} ${input.id} leaves ${previous.state} for ${state}`, data }));
        }
        if (changed || attributesChanged) {
          // `changed: false` marks an attribute-only update: profiles that announce transitions
          // (aliecs: env_state.RUNNING = start of run) must not treat it as entering the state.
          const data: EntityTransitionData = { kind: input.kind, id: input.id, state, previous: changed ? (previous?.state ?? null) : previous!.previous, enteredAt: current.enteredAt, attributes, changed };
          const message = changed
            ? `${input.kind} ${input.id} entered ${state}${previous ? ` (was ${previous.state})` : ''}`
            : `${input.kind} ${input.id} in ${state}: attributes updated`;
          events.push(createEvent({ source, type: ENTITY_EVENT_TYPES.enter, time, entity, message, data }));
          // A list of every watched state after every enter: AliECS dashboards expect the active
          // list after each enter-state notification, whatever state was entered.
          const touched = [...watched];
          for (const w of touched) {
            const members = await trx.selectFrom('herald_entities').selectAll()
              .where('kind', '=', input.kind).where('state', '=', w).orderBy('id').execute();
            const list: EntityListData = {
              kind: input.kind,
              state: w,
              entities: members.map((m) => {
                const e = entityFromRow(m);
                return { id: e.id, state: e.state, enteredAt: e.enteredAt, attributes: e.attributes };
              }),
            };
            events.push(createEvent({
              source,
              type: ENTITY_EVENT_TYPES.list,
              time,
              entity: { kind: input.kind, id: '*' },
              partitionkey: `${input.kind}:list`,
              message: `${list.entities.length} ${input.kind}${list.entities.length === 1 ? '' : 's'} in ${w}`,
              data: list,
            }));
          }
        }
        await this.appendIn(trx, events, options);
        return { previous, current, events };
      }),
    );
  }

  async listEntities(filter: { kind?: string; state?: string } = {}): Promise<EntityState[]> {
    return this.run('listEntities', async () => {
      let q = this.db.selectFrom('herald_entities').selectAll();
      if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
      if (filter.state !== undefined) q = q.where('state', '=', normalizeState(filter.state));
      const rows = await q.orderBy('kind').orderBy('id').execute();
      return rows.map(entityFromRow);
    });
  }

  async deleteEventsBefore(before: string): Promise<number> {
    const ms = toMs(before, 'before');
    return this.run('deleteEventsBefore', async () => {
      // Events an outbox entry still points to stay until they are delivered (or the entry is dropped).
      // The delete trigger of migration 0002 subtracts the deleted events from herald_event_counts.
      const result = await this.db
        .deleteFrom('herald_events')
        .where('time_ms', '<', ms)
        .where(({ not, exists, selectFrom }) => not(exists(
          selectFrom('herald_outbox').select('herald_outbox.seq').whereRef('herald_outbox.event_seq', '=', 'herald_events.seq'),
        )))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async ping(): Promise<boolean> {
    if (this.closing !== undefined) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), 3000);
      });
      await Promise.race([sql`select 1`.execute(this.db as Db), timeout]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closing ??= this.db.destroy().catch(() => undefined);
    await this.closing;
  }
}
