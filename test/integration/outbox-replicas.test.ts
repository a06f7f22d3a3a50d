/**
 * Two replicas on one PostgreSQL relay the same sink: they split the key-hash slots, nothing
 * is lost, per-key order holds, and the duplicates are printed (none expected without crashes).
 * Then two `herald serve` processes, one SIGKILLed mid-stream: the survivor takes over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { kafkaBrokers, pgUrl, uniqueName } from '../helpers/env.js';
import type { Service } from '../../src/service/index.js';
import { checkDelivery, postEvents, readTopic, sinkStatus, startServe, startTestService, streamEvent, waitFor } from './outbox-helpers.js';

const deliveredBy = async (s: Service): Promise<number> => {
  const m = /herald_outbox_delivered_total\{sink="main"\} (\d+)/.exec(await s.registry.metrics());
  return m ? Number(m[1]) : 0;
};

test('two replicas on PostgreSQL share a sink without losing, reordering or duplicating', { timeout: 240_000 }, async (t) => {
  const schema = uniqueName('replicas').replace(/-/g, '_');
  const topic = uniqueName('replicas');
  const input = {
    store: { url: pgUrl() },
    sinks: [{ name: 'main', type: 'kafka' as const, brokers: kafkaBrokers().split(','), topic, batchSize: 200, topics: { partitions: 4 } }],
  };
  const a = await startTestService(input, { storeSchema: schema });
  const b = await startTestService(input, { storeSchema: schema });
  t.after(async () => {
    await a.close();
    await b.close();
    const client = new pg.Client({ connectionString: pgUrl() });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });
  const leases = async () => {
    const r = await a.store.db.selectFrom('herald_outbox_leases' as never).select(['owner' as never]).execute() as Array<{ owner: string }>;
    const per = new Map<string, number>();
    for (const row of r) per.set(row.owner, (per.get(row.owner) ?? 0) + 1);
    return [...per.values()].sort();
  };
  await waitFor('the slots to be split between the replicas', async () => {
    const l = await leases();
    return l.length === 2 && l[0] === 16 && l[1] === 16;
  }, 30_000);
  console.log('slot leases per replica:', (await leases()).join(', '));

  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const accepted = new Set<string>();
  const producer = async (p: number, base: string) => {
    for (let n = 0; n < 3000; n += 100) {
      const events = Array.from({ length: 100 }, (_, i) => streamEvent(run, p, n + i, 16));
      const r = await postEvents(base, events);
      assert.equal(r.status, 202);
      for (const e of events) {
        accepted.add(e.id);
        sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
      }
    }
  };
  // Each producer talks to one replica; keys are per producer, so their order is defined.
  await Promise.all([producer(0, a.address), producer(1, b.address), producer(2, a.address), producer(3, b.address)]);
  await waitFor('the outbox to drain', async () => (await sinkStatus(a.address))[0]!.pending === 0, 120_000);
  const received = await readTopic(kafkaBrokers(), topic, accepted, 60_000);
  const report = checkDelivery(received, sentByKey);
  const [da, db] = [await deliveredBy(a), await deliveredBy(b)];
  console.log(`accepted ${accepted.size}, received ${received.length}: ${report.duplicates} duplicates, ${report.missing.length} missing, ${report.orderViolations.length} keys out of order; delivered by replica A ${da}, by B ${db}`);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  assert.ok(da > 0 && db > 0, 'both replicas relayed');
  assert.equal(da + db, accepted.size, 'each entry delivered by exactly one replica');
  const [s] = await sinkStatus(b.address);
  assert.equal(s!.delivered, accepted.size);
});

test('two herald serve replicas on PostgreSQL, one SIGKILLed mid-stream: the other takes its slots over, nothing is lost', { timeout: 240_000 }, async (t) => {
  const schema = uniqueName('replica_kill').replace(/-/g, '_');
  const topic = uniqueName('replica-kill');
  const dir = mkdtempSync(join(tmpdir(), 'herald-replica-kill-'));
  const cfg = join(dir, 'herald.yaml');
  // timeoutMs 2000 gives 10 s leases: a dead replica's slots are free again after that.
  writeFileSync(cfg, [
    `store: { url: "${pgUrl()}?schema=${schema}" }`,
    'sinks:',
    `  - { name: main, type: kafka, brokers: ${JSON.stringify(kafkaBrokers().split(','))}, topic: ${topic}, timeoutMs: 2000, batchSize: 100, topics: { partitions: 4 } }`,
  ].join('\n'));
  const a = await startServe({}, ['--config', cfg]);
  const b = await startServe({}, ['--config', cfg]);
  t.after(async () => {
    await a.stop();
    await b.stop();
    const client = new pg.Client({ connectionString: pgUrl() });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const accepted = new Set<string>();
  let killed = false;
  // Both producers post to replica B (the survivor); replica A only relays.
  const producer = async (p: number) => {
    for (let n = 0; n < 3000; n += 50) {
      const events = Array.from({ length: 50 }, (_, i) => streamEvent(run, p, n + i, 16));
      const r = await postEvents(b.base, events);
      assert.equal(r.status, 202);
      for (const e of events) {
        accepted.add(e.id);
        sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
      }
      if (!killed && accepted.size >= 1500) {
        killed = true;
        await a.kill();
        console.log(`replica A SIGKILLed after ${accepted.size} accepted events`);
      }
      // A sleep, not a wait: it paces each producer at one batch per 20 ms.
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all([producer(0), producer(1)]);
  await waitFor('the outbox to drain', async () => (await sinkStatus(b.base))[0]!.pending === 0, 120_000);
  const received = await readTopic(kafkaBrokers(), topic, accepted, 60_000);
  const report = checkDelivery(received, sentByKey);
  console.log(`accepted ${accepted.size}, received ${received.length}: ${report.duplicates} duplicates, ${report.missing.length} missing, ${report.orderViolations.length} keys out of order`);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
});
