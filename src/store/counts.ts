/**
 * herald_event_counts: events per (source, type, entity kind, severity), kept exact in the
 * transaction of every insert (here) and delete (the trigger of migration 0002), so the
 * per-severity counts of a query filtering only on these columns read this table instead of
 * counting every matching event.
 */
import { sql, type Transaction } from 'kysely';
import type { HeraldEvent } from '../events/schema.js';
import type { StoreAbilities } from './abilities.js';
import type { Database } from './schema.js';

/** A herald_event_counts row; entity_kind '' stands for "no entity". */
export interface CountRow { source: string; type: string; entity_kind: string; severity: string; n: number }

const MAX_ROWS_PER_INSERT = 1000;
const COUNT_COLUMNS = 5;

/** Byte order of UTF-8 (PostgreSQL's collate "C"), so both dialects and the delete trigger agree. */
const byBytes = (a: string, b: string): number => (a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Events per count key (`sign` -1 subtracts), keys in byte order. */
export function countRows(events: readonly HeraldEvent[], sign: 1 | -1 = 1): CountRow[] {
  const byKey = new Map<string, CountRow>();
  for (const e of events) {
    const row = { source: e.source, type: e.type, entity_kind: e.entity?.kind ?? '', severity: e.severity, n: sign };
    const k = JSON.stringify([row.source, row.type, row.entity_kind, row.severity]);
    const seen = byKey.get(k);
    if (seen === undefined) byKey.set(k, row);
    else seen.n += sign;
  }
  return [...byKey.values()].sort((a, b) =>
    byBytes(a.source, b.source) || byBytes(a.type, b.type) || byBytes(a.entity_kind, b.entity_kind) || byBytes(a.severity, b.severity));
}

/**
 * Adds rows to herald_event_counts (one upsert per chunk). Called last in a transaction, in key
 * order: on PostgreSQL the count rows are hot, so their locks are held briefly and taken in one
 * order (no deadlocks between concurrent appends, nor with the delete trigger).
 */
export async function addCounts(trx: Transaction<Database>, rows: readonly CountRow[], abilities: StoreAbilities): Promise<void> {
  const perInsert = Math.min(MAX_ROWS_PER_INSERT, Math.floor(abilities.maxParameters / COUNT_COLUMNS));
  for (let i = 0; i < rows.length; i += perInsert) {
    await trx
      .insertInto('herald_event_counts')
      .values(rows.slice(i, i + perInsert))
      .onConflict((oc) => oc.columns(['source', 'type', 'entity_kind', 'severity'])
        .doUpdateSet({ n: sql<number>`herald_event_counts.n + excluded.n` }))
      .execute();
  }
  if (rows.some((r) => r.n < 0)) await trx.deleteFrom('herald_event_counts').where('n', '<=', 0).execute();
}
