/**
 * SQLite WAL checkpoints run in a worker thread, not inside the writer's COMMIT: after a burst
 * of writes far below the writer's own safety threshold (64 MiB of WAL), the pages still reach
 * the database file within a few seconds, and nothing is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '../../src/events/event.js';
import { openStore } from '../../src/store/index.js';
import { waitFor } from '../helpers/wait.js';

test('a worker checkpoints the WAL into the database file while the writer goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'h.db');
  const store = await openStore(`sqlite:${file}`);
  await store.migrate();
  const pad = 'x'.repeat(900);
  for (let b = 0; b < 10; b++) {
    await store.append(Array.from({ length: 500 }, (_, i) => createEvent({ source: 's', type: 't', data: { b, i, pad } })));
  }
  const wal = statSync(`${file}-wal`).size;
  assert.ok(wal > 4 * 1024 * 1024, `the burst wrote ${wal} bytes of WAL`);
  // The writer alone would not checkpoint before 64 MiB of WAL; the worker does within its interval.
  let main = 0;
  // A timeout falls through to the assertion below, which names the size (and the store is closed).
  await waitFor('the WAL to be checkpointed into the database file', () => (main = statSync(file).size) >= 4 * 1024 * 1024, 5_000, 100)
    .catch(() => undefined);
  assert.ok(main >= 4 * 1024 * 1024, `database file is ${main} bytes: the WAL was not checkpointed`);
  await store.close();
  const reopened = await openStore(`sqlite:${file}`);
  const { total } = await reopened.query({ limit: 1, offset: 0, order: 'ascending' });
  await reopened.close();
  assert.equal(total, 5000);
});
