/**
 * A three-broker KRaft cluster on loopback, topic replication factor 3 with
 * min.insync.replicas=2: one broker is SIGKILLed mid-stream. Nothing is lost, per-key order
 * holds, and delivery pauses only briefly (the longest gap is printed; 30 s is a hang guard).
 * The pause is mostly Kafka's own failover: the controller fences the dead broker after
 * broker.session.timeout.ms (9 s by default) and only then elects new partition leaders; a
 * publish stuck on the dead broker is abandoned after the sink's timeoutMs and retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { startCluster } from '../../scripts/kafka/lib.mjs';
import { describeTopics } from '../../src/transports/kafka/topics.js';
import { uniqueName } from '../helpers/env.js';
import { checkDelivery, memoryLogger, postEvents, readTopic, sinkStatus, startTestService, streamEvent, waitFor } from './outbox-helpers.js';

interface Cluster { bootstrap: string; kill(id: number): void; stop(): Promise<void> }

test('three-broker cluster, one broker killed mid-stream: nothing lost, no long pause', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
  const t0 = Date.now();
  const cluster = await startCluster({ dir: join(dir, 'kafka'), size: 3, heap: '512m' }) as Cluster;
  console.log(`3-broker cluster ready in ${Date.now() - t0} ms at ${cluster.bootstrap}`);
  const topic = uniqueName('cluster');
  const { logger, lines } = memoryLogger();
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [{
      name: 'main', type: 'kafka', brokers: cluster.bootstrap.split(','), topic, timeoutMs: 5000, batchSize: 200,
      topics: { partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 },
    }],
  }, { logger });
  t.after(async () => {
    await service.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Watch deliveries: the longest time the delivered count stood still while work was pending.
  let watching = true;
  let longestGap = 0;
  const watcher = (async () => {
    let last = -1;
    let lastChange = Date.now();
    while (watching) {
      const [s] = await sinkStatus(service.address);
      const now = Date.now();
      if (s!.delivered !== last) {
        last = s!.delivered;
        lastChange = now;
      } else if (s!.pending > 0) {
        longestGap = Math.max(longestGap, now - lastChange);
      } else {
        lastChange = now;
      }
      // A sleep, not a wait: the watcher samples the sink every 100 ms to measure the gaps.
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // The relay's first connect created the topic from the sink's `topics` settings.
  await waitFor('the sink to connect', async () => (await sinkStatus(service.address))[0]!.connected, 60_000);
  const [described] = await describeTopics(cluster.bootstrap.split(','), { pattern: new RegExp(`^${topic}$`) });
  console.log('topic as created:', JSON.stringify(described));
  assert.equal(described?.replicationFactor, 3);
  assert.equal(described?.partitions, 3);
  assert.equal(described?.minInsyncReplicas, '2');

  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const accepted = new Set<string>();
  let killed = false;
  const producer = async (p: number) => {
    for (let n = 0; n < 4000; n += 50) {
      const events = Array.from({ length: 50 }, (_, i) => streamEvent(run, p, n + i));
      const r = await postEvents(service.address, events);
      assert.equal(r.status, 202);
      for (const e of events) {
        accepted.add(e.id);
        sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
      }
      if (!killed && accepted.size >= 2000) {
        killed = true;
        cluster.kill(2);
        console.log(`broker 2 SIGKILLed after ${accepted.size} accepted events`);
      }
      // A sleep, not a wait: it paces each producer at one batch per 40 ms.
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  await Promise.all([producer(0), producer(1)]);
  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address))[0]!.pending === 0, 120_000);
  watching = false;
  await watcher;
  const received = await readTopic(cluster.bootstrap, topic, accepted, 120_000);
  const report = checkDelivery(received, sentByKey);
  console.log(`accepted ${accepted.size}, received ${received.length}: ${report.duplicates} duplicates, ${report.missing.length} missing, ${report.orderViolations.length} keys out of order; longest delivery gap ${longestGap} ms`);
  console.log('relay log:', lines.filter((l) => /sink main/.test(l.msg)).map((l) => l.msg).join(' | ') || '(no failure lines)');
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  assert.ok(longestGap < 30_000, `delivery stood still for ${longestGap} ms`);
});
