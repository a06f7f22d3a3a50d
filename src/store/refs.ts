/**
 * herald_event_refs: the entities each stored event refers to (see schema.ts). Which ones is the
 * events layer's rule (events/refs.ts); the store only keeps them, in the transaction of the
 * event's insert or rewrite, and answers conditions on them through its indexes, so "every event
 * of cluster C, its hosts' included" reads the (kind, id, seq) index instead of every event's
 * JSON. A delete of events removes their refs in the same statement (trigger, migration 0006).
 */
import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import { eventRefs } from '../events/refs.js';
import type { HeraldEvent } from '../events/schema.js';
import type { StoreAbilities } from './abilities.js';
import type { Database } from './schema.js';
import type { RefTerm } from './types.js';

// Migrations work on an untyped database (the tables may not exist in Kysely's types yet).
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RefRow { seq: number; kind: string; id: string }

const REF_COLUMNS = 3;
const MAX_ROWS_PER_INSERT = 1000;

/** The refs rows of stored events. */
export function refRows(stored: ReadonlyArray<{ seq: number; event: HeraldEvent }>): RefRow[] {
  return stored.flatMap(({ seq, event }) => eventRefs(event).map((r) => ({ seq, kind: r.kind, id: r.id })));
}

/** Inserts refs rows (chunked below the dialect's parameter limit); rows already there are kept. */
export async function insertRefs(db: Transaction<Database> | AnyDb, rows: readonly RefRow[], abilities: StoreAbilities): Promise<void> {
  const perInsert = Math.min(MAX_ROWS_PER_INSERT, Math.floor(abilities.maxParameters / REF_COLUMNS));
  for (let i = 0; i < rows.length; i += perInsert) {
    await (db as Transaction<Database>).insertInto('herald_event_refs').values(rows.slice(i, i + perInsert))
      .onConflict((oc) => oc.columns(['seq', 'kind', 'id']).doNothing())
      .execute();
  }
}

/** Replaces the refs of rewritten events (their data may name other ids now). */
export async function replaceRefs(trx: Transaction<Database>, stored: ReadonlyArray<{ seq: number; event: HeraldEvent }>, abilities: StoreAbilities): Promise<void> {
  if (stored.length === 0) return;
  await trx.deleteFrom('herald_event_refs').where('seq', 'in', stored.map((s) => s.seq)).execute();
  await insertRefs(trx, refRows(stored), abilities);
}

const never = sql<SqlBool>`1 = 0`;

/** One term as SQL on herald_events. */
function termSql(t: RefTerm): RawBuilder<SqlBool> {
  const seq = sql.ref('herald_events.seq');
  if ('none' in t) {
    return sql<SqlBool>`not exists (select 1 from herald_event_refs r where r.seq = ${seq} and r.kind = ${t.kind})`;
  }
  if (t.ids.length === 0) return never;
  const ids = t.ids.length === 1 ? sql`r.id = ${t.ids[0]!}` : sql`r.id in (${sql.join([...t.ids])})`;
  return sql<SqlBool>`${seq} in (select r.seq from herald_event_refs r where r.kind = ${t.kind} and ${ids})`;
}

/** The conditions of EventQuery.refs: every group holds, each by one of its terms (an empty group by none). */
export function refsConditions(groups: readonly (readonly RefTerm[])[]): Expression<SqlBool>[] {
  return groups.map((g) => {
    if (g.length === 0) return never;
    if (g.length === 1) return termSql(g[0]!);
    return sql<SqlBool>`(${sql.join(g.map(termSql), sql` or `)})`;
  });
}

/**
 * Fills herald_event_refs from the stored events (migration 0006): only rows that may have refs
 * are read (an entity of a ref kind, or a doc naming one of the data keys; false positives are
 * harmless, the rule decides), in batches by seq. Idempotent: existing rows are kept, so a run
 * repeated after a crash (SQLite runs migrations outside a transaction) completes the table.
 */
export async function backfillRefs(db: AnyDb, abilities: StoreAbilities, batch = 1000): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await sql<{ seq: number | string; doc: string }>`
      select seq, doc from herald_events
      where seq > ${after}
        and (entity_kind in ('cluster', 'host', 'infra-env', 'infra_env', 'infraenv')
          or doc like '%"cluster_id"%' or doc like '%"host_id"%' or doc like '%"infra_env_id"%' or doc like '%"category"%')
      order by seq
      limit ${batch}`.execute(db);
    if (rows.rows.length === 0) return;
    const stored = rows.rows.map((r) => ({ seq: Number(r.seq), event: JSON.parse(r.doc) as HeraldEvent }));
    await insertRefs(db, refRows(stored), abilities);
    after = stored[stored.length - 1]!.seq;
  }
}
