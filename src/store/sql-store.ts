/**
 * The one EventStore implementation over Kysely. Dialect differences are ability flags
 * (src/store/abilities.ts); the queries are otherwise the same on SQLite and PostgreSQL.
 */
import { Migrator, sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { HeraldError, ValidationError } from '../errors.js';
import { partitionKey } from '../events/event.js';
import type { EntityState } from '../events/entity-states.js';
import { normalizeState } from '../events/entity-states.js';
import { SEVERITIES, type HeraldEvent, type Severity } from '../events/schema.js';
import { silentLogger, type Logger } from '../log.js';
import type { DialectHandle, StoreAbilities } from './abilities.js';
import { addCounts, countRows, type CountRow } from './counts.js';
import { currentEntity, entitiesIn, entityFromRow, putEntity } from './entities.js';
import { insertRefs, refRows, refsConditions, replaceRefs } from './refs.js';
import { appliedMigrations, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import type { AppendOptions, DialectFunctions, EntityTransaction, EventPage, EventQuery, EventStore, SchemaModule, StoredEvent, StoreTransaction } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Columns per herald_events row, for chunking multi-row inserts. */
const EVENT_COLUMNS = 12;
const MAX_ROWS_PER_INSERT = 1000;

const toMs = (iso: string, name: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new ValidationError(`${name} must be an RFC 3339 date-time, got "${iso}"`, [{ path: name, message: 'must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z' }], 'INVALID_REQUEST');
  return ms;
};

const parseDoc = (doc: string): HeraldEvent => Object.freeze(JSON.parse(doc) as HeraldEvent);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The herald_events row of an event (its columns are the filters' indexes; `doc` is the event). */
export function eventRow(e: HeraldEvent, createdMs: number, doc?: string) {
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
    doc: doc ?? JSON.stringify(e),
  };
}

/**
 * What a rewrite changes in the counts: the removed and added rows of one key summed (one
 * upsert may not touch a row twice on PostgreSQL), unchanged keys dropped, in byte order.
 */
function netCounts(removed: readonly CountRow[], added: readonly CountRow[]): CountRow[] {
  const byKey = new Map<string, CountRow>();
  for (const r of [...removed, ...added]) {
    const k = JSON.stringify([r.source, r.type, r.entity_kind, r.severity]);
    const seen = byKey.get(k);
    if (seen === undefined) byKey.set(k, { ...r });
    else seen.n += r.n;
  }
  const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return [...byKey.values()].filter((r) => r.n !== 0)
    .sort((a, b) => bytes(a.source, b.source) || bytes(a.type, b.type) || bytes(a.entity_kind, b.entity_kind) || bytes(a.severity, b.severity));
}

/** An EventStore over one dialect handle. Construct through openStore(). */
/** Operations that write: their failures count against readiness. */
const WRITES = new Set(['append', 'rewrite', 'changeEntity']);

export class SqlEventStore implements EventStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly abilities: StoreAbilities;
  readonly functions: DialectFunctions;
  private readonly schema: string | undefined;
  private readonly clock: () => Date;
  private readonly logger: Logger;
  private readonly classifyError: DialectHandle['classifyError'];
  private closing: Promise<void> | undefined;

  constructor(handle: DialectHandle, options: { clock?: () => Date; logger?: Logger } = {}) {
    this.dialect = handle.name;
    this.db = handle.db;
    this.abilities = handle.abilities;
    this.functions = handle.functions;
    this.classifyError = handle.classifyError;
    this.schema = handle.schema;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Runs one operation, turning driver failures into the catalogue by the dialect's reading of
   * them: STORE_UNAVAILABLE (503, retry), STORE_FULL (507), INVALID_EVENT (400: the data is
   * refused) or INTERNAL (500: a bug, not worth a retry). A failed write is remembered for
   * readiness until a later write succeeds (see writeProblem).
   */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new HeraldError('CLOSED', `the event store is closed (${op})`);
    const write = WRITES.has(op);
    try {
      const result = await fn();
      if (write) this.#writeFailure = undefined;
      return result;
    } catch (err) {
      if (err instanceof HeraldError) throw err;
      const failure = this.classifyError(err);
      const what = `event store ${op} failed: ${(err as Error)?.message ?? String(err)}`;
      const error = failure === 'full'
        ? new HeraldError('STORE_FULL', `${what}; the ${this.dialect} store has no space left: free space (or raise its limit), writes resume by themselves`, { cause: err })
        : failure === 'unavailable'
          ? new HeraldError('STORE_UNAVAILABLE', what, { cause: err })
          : failure === 'rejected'
            ? new HeraldError('INVALID_EVENT', `the ${this.dialect} store refuses this data: ${(err as Error)?.message ?? String(err)}`, { cause: err })
            : new HeraldError('INTERNAL', what, { cause: err });
      if (write && (failure === 'full' || failure === 'unavailable')) this.#writeFailure = { error, at: Date.now() };
      throw error;
    }
  }

  #writeFailure: { error: HeraldError; at: number } | undefined;

  /**
   * The last write's failure while it is recent (10 s) and no write has succeeded since: a
   * store that answers reads but cannot write (a full disk) is not ready.
   */
  get writeProblem(): HeraldError | undefined {
    const f = this.#writeFailure;
    return f !== undefined && Date.now() - f.at < 10_000 ? f.error : undefined;
  }

  async migrate(modules: readonly SchemaModule[] = []): Promise<void> {
    await this.run('migrate', async () => {
      const migrator = new Migrator({
        db: this.db,
        provider: migrationProvider(this.abilities, modules, await appliedMigrations(this.db, this.schema)),
        // A component's migrations may be found missing after later ones ran (see migrationProvider).
        allowUnorderedMigrations: true,
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

  async append(events: readonly HeraldEvent[], options: AppendOptions = {}): Promise<{ inserted: number; stored: StoredEvent[] }> {
    if (events.length === 0) return { inserted: 0, stored: [] };
    return this.run('append', () =>
      this.db.transaction().execute(async (trx) => {
        const stored = await this.insertIn(this.txOf(trx), events, options);
        return { inserted: stored.length, stored };
      }),
    );
  }

  private txOf(trx: Transaction<Database>): StoreTransaction {
    return { db: trx, abilities: this.abilities, now: this.clock() };
  }

  /**
   * Inserts events (repeated ids are skipped), runs `within` with what was inserted, then adds
   * to the counts (last, in key order: see counts.ts).
   */
  private async insertIn(tx: StoreTransaction, events: readonly HeraldEvent[], options: AppendOptions): Promise<StoredEvent[]> {
    const now = tx.now.getTime();
    const first = new Map<string, number>();
    events.forEach((e, i) => {
      if (!first.has(e.id)) first.set(e.id, i);
    });
    const rows = [...first.values()].map((i) => eventRow(events[i]!, now, options.docs?.[i]));
    const stored: StoredEvent[] = [];
    const perInsert = Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.abilities.maxParameters / EVENT_COLUMNS));
    for (const chunk of chunks(rows, perInsert)) {
      const returned = await tx.db
        .insertInto('herald_events')
        .values(chunk)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning(['seq', 'id'])
        .execute();
      for (const r of returned) {
        const index = first.get(r.id)!;
        stored.push({ seq: Number(r.seq), event: events[index]!, index });
      }
    }
    stored.sort((a, b) => a.seq - b.seq);
    // The entities each event refers to (events/refs.ts), for the list's cluster/host queries.
    await insertRefs(tx.db, refRows(stored), this.abilities);
    if (options.within !== undefined && stored.length > 0) await options.within(tx, stored);
    await addCounts(tx.db, countRows(stored.map((x) => x.event)), this.abilities);
    return stored;
  }

  async rewrite(events: ReadonlyArray<{ seq: number; event: HeraldEvent }>): Promise<number> {
    if (events.length === 0) return 0;
    return this.run('rewrite', () =>
      this.db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('herald_events').select(['seq', 'doc']).where('seq', 'in', events.map((e) => e.seq) as never).execute();
        const old = new Map(before.map((r) => [Number(r.seq), JSON.parse(r.doc) as HeraldEvent]));
        let n = 0;
        const now = this.clock().getTime();
        const removed: HeraldEvent[] = [];
        const added: HeraldEvent[] = [];
        const rewritten: Array<{ seq: number; event: HeraldEvent }> = [];
        for (const { seq, event } of events) {
          const was = old.get(seq);
          if (was === undefined || was.id !== event.id) continue;
          const { id: _id, created_ms: _c, ...row } = eventRow(event, now);
          await trx.updateTable('herald_events').set(row).where('seq', '=', seq as never).execute();
          removed.push(was);
          added.push(event);
          rewritten.push({ seq, event });
          n++;
        }
        await replaceRefs(trx, rewritten, this.abilities);
        await addCounts(trx, netCounts(countRows(removed, -1), countRows(added)), this.abilities);
        return n;
      }),
    );
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
      if (q.refs !== undefined) c.push(...refsConditions(q.refs));
      if (withSeverity && q.severities !== undefined && q.severities.length > 0) c.push(eb('severity', 'in', q.severities));
      if (q.types !== undefined && q.types.length > 0) c.push(eb('type', 'in', q.types));
      if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) c.push(eb('type', 'not in', q.excludeTypes));
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
   * entity kind only are answered from herald_event_counts; any other filter (refs included)
   * counts the events.
   */
  private async severityCounts(q: EventQuery): Promise<Array<{ severity: string; n: number }>> {
    const aggregate = (q.entityIds === undefined || q.entityIds.length === 0)
      && q.refs === undefined && (q.excludeTypes === undefined || q.excludeTypes.length === 0)
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
    return (await this.tailDocs(q, afterSeq, limit)).map((r) => ({ seq: r.seq, event: parseDoc(r.doc) }));
  }

  async tailDocs(q: Omit<EventQuery, 'limit' | 'offset' | 'order'>, afterSeq: number, limit: number): Promise<Array<{ seq: number; id: string; doc: string }>> {
    return this.run('tail', async () => {
      const rows = await this.db
        .selectFrom('herald_events')
        .select(['seq', 'id', 'doc'])
        // Generated<ColumnType<...>> hides the comparable type from Kysely; the value is a plain number.
        .where('seq', '>', afterSeq as never)
        .where(this.conditions({ ...q, limit: 0, offset: 0, order: 'ascending' }, true))
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), id: r.id, doc: r.doc }));
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

  async changeEntity<T>(kind: string, id: string, fn: (tx: EntityTransaction) => Promise<T>): Promise<T> {
    return this.run('changeEntity', () =>
      this.db.transaction().execute(async (trx) => {
        if (this.abilities.advisoryLocks) {
          // State changes of one kind serialise across replicas, so every list notification
          // sees the others' committed states.
          await sql`select pg_advisory_xact_lock(hashtext(${`herald.entities:${kind}`}))`.execute(trx);
        }
        // The clock is read after the lock, so notifications of one kind are in time order too.
        const tx = this.txOf(trx);
        const current = await currentEntity(trx, kind, id, this.abilities);
        return fn({
          ...tx,
          current,
          put: (state: EntityState) => putEntity(trx, state),
          membersIn: (state: string) => entitiesIn(trx, kind, state),
          insert: (events, options = {}) => this.insertIn(tx, events, options),
        });
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
