/**
 * The relay's claim query on SQLite: with a backlog it must walk (sink, status, seq) in order
 * and stop at the batch limit, not pick the due-time index and sort the whole backlog for
 * every batch (which made each claim of 500 entries take ~26 ms with 50,000 pending). While an
 * entry waits for a retry, the keys to hold back are looked up once through the due-time index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '../../src/events/event.js';
import { outboxSchema } from '../../src/outbox/schema.js';
import { claimQuery, fetchBatch } from '../../src/outbox/sql.js';
import { appendTo, outboxTables } from '../helpers/stores.js';
import { openStore } from '../../src/store/index.js';

test('the SQLite claim uses the (sink, status, seq) index without sorting, and returns the oldest due entries in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-claim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`);
  t.after(() => store.close());
  await store.migrate([outboxSchema]);
  const events = Array.from({ length: 3000 }, (_, i) => createEvent({ source: 's', type: 't', entity: { kind: 'job', id: `j${i % 10}` }, data: { i } }));
  for (let i = 0; i < events.length; i += 500) await appendTo(store, events.slice(i, i + 500), ['main']);
  const db = outboxTables(store);

  const options = { sink: 'main', now: Date.now() + 1000, limit: 100 };
  for (const guard of [false, true]) {
    const compiled = claimQuery(options, guard).compile(db);
    // The same statement with its parameters, prefixed with EXPLAIN QUERY PLAN.
    const details = (await db.executeQuery({ ...compiled, sql: `explain query plan ${compiled.sql}` })).rows as Array<{ detail: string }>;
    const text = details.map((r) => r.detail).join('\n');
    assert.ok(details.length > 0);
    assert.match(text, /herald_outbox_sink_status_seq/, `claim plan (guard ${guard}):\n${text}`);
    assert.doesNotMatch(text, /TEMP B-TREE FOR ORDER BY/, `claim plan (guard ${guard}) sorts the backlog:\n${text}`);
    // The keys waiting for a retry come from the due-time index, once per claim.
    if (guard) assert.match(text, /MATERIALIZE waiting[\s\S]*herald_outbox_due/, `guard plan:\n${text}`);
  }
  const batch = await fetchBatch(db, options);
  assert.equal(batch.length, 100);
  assert.deepEqual(batch.map((e) => e.eventId), events.slice(0, 100).map((e) => e.id), 'the oldest entries, in order');
});
