/**
 * The broker is SIGKILLed in the middle of a stream of 20,000 events posted by four
 * concurrent HTTP clients, and restarted after a pause: every accepted event arrives, per-key
 * order holds, and the duplicates (allowed: at-least-once) are printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { startCluster } from '../../scripts/kafka/lib.mjs';
import { uniqueName } from '../helpers/env.js';
import { checkDelivery, memoryLogger, postEvents, readTopic, sinkStatus, startTestService, streamEvent, waitFor } from './outbox-helpers.js';

interface Cluster { bootstrap: string; kill(id: number): void; restart(id: number): Promise<void>; stop(): Promise<void> }

const PRODUCERS = 4;
const PER_PRODUCER = 5000;
const BATCH = 100;

test('broker SIGKILLed mid-stream and restarted: all 20,000 events arrive in per-key order', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-broker-kill-'));
  const cluster = await startCluster({ dir: join(dir, 'kafka'), size: 1 }) as Cluster;
  const topic = uniqueName('broker-kill');
  const { logger, lines } = memoryLogger();
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [{ name: 'main', type: 'kafka', brokers: cluster.bootstrap.split(','), topic, timeoutMs: 5000, batchSize: 500, topics: { partitions: 4 } }],
  }, { logger });
  t.after(async () => {
    await service.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const accepted = new Set<string>();
  let killedAt = -1;
  let restarting: Promise<void> | undefined;
  const t0 = Date.now();
  const producer = async (p: number) => {
    for (let b = 0; b < PER_PRODUCER / BATCH; b++) {
      const events = Array.from({ length: BATCH }, (_, i) => streamEvent(run, p, b * BATCH + i));
      const r = await postEvents(service.address, events);
      assert.equal(r.status, 202);
      for (const e of events) {
        accepted.add(e.id);
        const list = sentByKey.get(e.partitionkey) ?? [];
        list.push(e.id);
        sentByKey.set(e.partitionkey, list);
      }
      if (killedAt < 0 && accepted.size >= 6000) {
        killedAt = accepted.size;
        cluster.kill(1);
        console.log(`broker SIGKILLed after ${accepted.size} accepted events (${Date.now() - t0} ms)`);
        restarting = (async () => {
          // A sleep, not a wait: the outage lasts 3 s on purpose before the broker comes back.
          await new Promise((r) => setTimeout(r, 3000));
          await cluster.restart(1);
          console.log(`broker restarted (${Date.now() - t0} ms)`);
        })();
      }
      // A sleep, not a wait: it paces each producer at one batch per 20 ms.
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
  console.log(`all ${accepted.size} events accepted (${Date.now() - t0} ms)`);
  assert.ok(killedAt > 0);
  const during = await sinkStatus(service.address);
  console.log('GET /v2/sinks after the stream:', JSON.stringify(during[0]));
  await restarting;
  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address))[0]!.pending === 0, 180_000);
  console.log(`outbox drained (${Date.now() - t0} ms)`);

  const received = await readTopic(cluster.bootstrap, topic, accepted, 120_000);
  const report = checkDelivery(received, sentByKey);
  console.log(`received ${received.length} messages for ${accepted.size} events: ${report.duplicates} duplicates, ${report.missing.length} missing, ${report.orderViolations.length} keys out of order`);
  const [s] = await sinkStatus(service.address);
  console.log('GET /v2/sinks at the end:', JSON.stringify(s));
  console.log('relay log lines:', lines.filter((l) => /sink main/.test(l.msg)).map((l) => l.msg).join('\n  '));
  assert.equal(accepted.size, PRODUCERS * PER_PRODUCER);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  assert.equal(s!.delivered, PRODUCERS * PER_PRODUCER);
  assert.ok(lines.some((l) => l.msg.includes('sink main is failing')));
  assert.ok(lines.some((l) => l.msg.includes('sink main recovered')));
});
