/**
 * `herald serve` is SIGKILLed in the middle of a stream and started again on the same
 * store: every event that got a 202 arrives in Kafka (at-least-once, per-key order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { checkDelivery, postEvents, readTopic, sinkStatus, startServe, streamEvent, waitFor, type ServeProcess } from './outbox-helpers.js';

test('herald serve SIGKILLed mid-stream and restarted: every event that got a 202 arrives', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-serve-kill-'));
  const topic = uniqueName('serve-kill');
  const env = {
    HERALD_DB: `sqlite:${join(dir, 'h.db')}`,
    HERALD_KAFKA_BROKERS: kafkaBrokers(),
    HERALD_KAFKA_TOPIC: topic,
  };
  let serve: ServeProcess = await startServe(env);
  t.after(async () => {
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const accepted = new Set<string>();
  let failedRequests = 0;
  const record = (events: ReturnType<typeof streamEvent>[]) => {
    for (const e of events) {
      accepted.add(e.id);
      sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
    }
  };
  const producer = async (p: number, from: number, count: number, base: string) => {
    for (let n = from; n < from + count; n += 50) {
      const events = Array.from({ length: 50 }, (_, i) => streamEvent(run, p, n + i));
      try {
        const r = await postEvents(base, events);
        if (r.status === 202) record(events);
        else failedRequests++;
      } catch {
        failedRequests++; // the process died under this request: no 202, no promise
        return;
      }
      // A sleep, not a wait: it paces each producer at one batch per 10 ms.
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const first = serve;
  const stream = Promise.all([0, 1, 2].map((p) => producer(p, 0, 5000, first.base)));
  await waitFor('2000 accepted events', () => accepted.size >= 2000, 60_000);
  await first.kill();
  await stream;
  console.log(`herald serve SIGKILLed after ${accepted.size} accepted events (${failedRequests} requests without an answer)`);

  serve = await startServe(env);
  // The stream goes on against the restarted process, with new ids.
  await Promise.all([0, 1, 2].map((p) => producer(p, 10_000, 500, serve.base)));
  await waitFor('the outbox to drain', async () => (await sinkStatus(serve.base))[0]!.pending === 0, 120_000);
  const received = await readTopic(kafkaBrokers(), topic, accepted, 60_000);
  const report = checkDelivery(received, sentByKey);
  console.log(`accepted ${accepted.size}, received ${received.length} messages: ${report.duplicates} duplicates, ${report.missing.length} missing, ${report.orderViolations.length} keys out of order`);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
});
