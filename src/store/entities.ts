/** The entity registry's rows: reading and writing herald_entities. */
import type { Transaction } from 'kysely';
import type { EntityState } from '../events/entity-states.js';
import type { StoreAbilities } from './abilities.js';
import type { Database, EntitiesTable } from './schema.js';

type EntityRow = Pick<EntitiesTable, 'kind' | 'id' | 'state' | 'previous_state' | 'attributes'> & { entered_ms: number; updated_ms: number };

export function entityFromRow(row: EntityRow): EntityState {
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

/** The entity's row, locked for update where the dialect can (several writers). */
export async function currentEntity(trx: Transaction<Database>, kind: string, id: string, abilities: StoreAbilities): Promise<EntityState | null> {
  let select = trx.selectFrom('herald_entities').selectAll().where('kind', '=', kind).where('id', '=', id);
  if (abilities.supportsForUpdate) select = select.forUpdate();
  const row = await select.executeTakeFirst();
  return row === undefined ? null : entityFromRow(row);
}

export async function putEntity(trx: Transaction<Database>, e: EntityState): Promise<void> {
  const row = {
    kind: e.kind,
    id: e.id,
    state: e.state,
    previous_state: e.previous,
    entered_ms: Date.parse(e.enteredAt),
    updated_ms: Date.parse(e.updatedAt),
    attributes: JSON.stringify(e.attributes),
  };
  await trx.insertInto('herald_entities').values(row)
    .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({
      state: row.state,
      previous_state: row.previous_state,
      entered_ms: row.entered_ms,
      updated_ms: row.updated_ms,
      attributes: row.attributes,
    }))
    .execute();
}

export async function entitiesIn(trx: Transaction<Database>, kind: string, state: string): Promise<EntityState[]> {
  const rows = await trx.selectFrom('herald_entities').selectAll().where('kind', '=', kind).where('state', '=', state).orderBy('id').execute();
  return rows.map(entityFromRow);
}
