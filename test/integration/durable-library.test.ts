/**
 * Library durable mode: createPublisher({ sinks, durable: { store: 'sqlite:...' } }). emit()
 * returns once the event is stored; close() drains. Events stored while the broker address
 * is wrong stay in the outbox file and are delivered by the next publisher on that file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { openStore } from '../../src/store/index.js';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { outboxTables } from '../helpers/stores.js';
import { checkDelivery, freePort, readTopic, streamEvent } from './outbox-helpers.js';

test('durable publisher: emit stores, close drains; a backlog survives into the next publisher', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-durable-lib-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = `sqlite:${join(dir, 'outbox.db')}`;
  const topic = uniqueName('durable-lib');
  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const ids = new Set<string>();
  const remember = (id: string, key: string) => {
    ids.add(id);
    sentByKey.set(key, [...(sentByKey.get(key) ?? []), id]);
  };

  // 1. Nothing listens at the broker address: emit still returns at once (stored), close gives up draining after 500 ms.
  const dead = await freePort();
  const offline = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: [`127.0.0.1:${dead}`], topic, timeoutMs: 1000 }], durable: { store, drainTimeoutMs: 500 } });
  const t0 = performance.now();
  for (let n = 0; n < 100; n++) {
    const e = await offline.emit(streamEvent(run, 0, n));
    remember(e.id, e.partitionkey!);
  }
  console.log(`100 durable emits with the broker unreachable took ${(performance.now() - t0).toFixed(0)} ms`);
  await offline.close();
  const check = await openStore(store);
  const pending = await outboxTables(check).selectFrom('herald_outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  await check.close();
  assert.equal(Number(pending?.n), 100, 'the undelivered events stay in the outbox file');

  // 2. The next publisher on the same file reaches the broker: it delivers the backlog and its own events.
  const online = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: kafkaBrokers().split(','), topic }], durable: { store, drainTimeoutMs: 30_000 } });
  for (let n = 100; n < 300; n++) {
    const e = await online.emit(streamEvent(run, 0, n));
    remember(e.id, e.partitionkey!);
  }
  await online.close();
  const received = await readTopic(kafkaBrokers(), topic, ids, 60_000);
  const report = checkDelivery(received, sentByKey);
  console.log(`received ${received.length} for ${ids.size} events, ${report.duplicates} duplicates`);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  const after = await openStore(store);
  const left = await outboxTables(after).selectFrom('herald_outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  await after.close();
  assert.equal(Number(left?.n), 0);
});
