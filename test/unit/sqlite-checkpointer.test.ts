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
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent } from '../../src/events/event.js';
import { openStore } from '../../src/store/index.js';

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
  let main = statSync(file).size;
  for (let i = 0; i < 40 && main < 4 * 1024 * 1024; i++) {
    await sleep(100);
    main = statSync(file).size;
  }
  assert.ok(main >= 4 * 1024 * 1024, `database file is ${main} bytes: the WAL was not checkpointed`);
  await store.close();
  const reopened = await openStore(`sqlite:${file}`);
  const { total } = await reopened.query({ limit: 1, offset: 0, order: 'ascending' });
  await reopened.close();
  assert.equal(total, 5000);
});
