/** Retention in small batches on a real SQLite store: old events go, recent ones and undelivered ones stay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '../../src/events/event.js';
import { silentLogger } from '../../src/log.js';
import { outboxSchema } from '../../src/outbox/schema.js';
import { appendTo } from '../helpers/stores.js';
import { startHousekeeping } from '../../src/outbox/housekeeping.js';
import { openStore } from '../../src/store/index.js';

test('retention deletes expired events in batches and keeps those an outbox entry still needs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-retention-'));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`);
  await store.migrate([outboxSchema]);
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const day = 86_400_000;
  const now = Date.parse('2026-06-01T00:00:00Z');
  const old = Array.from({ length: 1234 }, (_, i) => createEvent({ id: `old-${i}`, source: 's', type: 't', time: new Date(now - 40 * day + i).toISOString() }));
  const recent = Array.from({ length: 10 }, (_, i) => createEvent({ id: `new-${i}`, source: 's', type: 't', time: new Date(now - day).toISOString() }));
  await store.append([...old, ...recent]);
  const undelivered = createEvent({ id: 'old-undelivered', source: 's', type: 't', time: new Date(now - 50 * day).toISOString() });
  await appendTo(store, [undelivered], ['main']);

  const hk = startHousekeeping({ store, retentionDays: 30, logger: silentLogger, batchSize: 100, pauseMs: 1, now: () => now, firstRunAfterMs: 3_600_000 });
  t.after(() => hk.close());
  const deleted = await hk.runOnce();
  assert.equal(deleted, 1234);
  assert.equal(await store.get('old-5'), undefined);
  assert.ok(await store.get('new-3'));
  assert.ok(await store.get('old-undelivered'), 'an event still waiting in the outbox is kept');
  assert.equal(await hk.runOnce(), 0);
});
