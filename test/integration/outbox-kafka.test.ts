/**
 * The outbox against the real Kafka broker of the test run: delivery with per-key order,
 * a poison message (too large for the broker) parked without blocking the others, GET
 * /v2/sinks and the metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { checkDelivery, postEvents, readTopic, sinkStatus, startTestService, streamEvent, waitFor } from './outbox-helpers.js';

test('events posted to the API reach Kafka in per-key order; a too-large one (oversized: park) is parked, the rest flow', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-outbox-kafka-'));
  const topic = uniqueName('outbox-basic');
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    // oversized: park accepts an event larger than the broker takes and parks it (the default, reject, refuses it with 413).
    sinks: [{ name: 'main', type: 'kafka', brokers: kafkaBrokers().split(','), topic, topics: { partitions: 3 }, oversized: 'park' }],
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = uniqueName('r');
  const sentByKey = new Map<string, string[]>();
  const all = new Set<string>();
  for (let batch = 0; batch < 5; batch++) {
    const events = Array.from({ length: 40 }, (_, i) => streamEvent(run, 0, batch * 40 + i));
    // The poison: ~1.5 MB of data, above the broker's message.max.bytes.
    if (batch === 2) events.splice(5, 0, { ...streamEvent(run, 0, 9999), data: { p: 0, n: 9999, blob: 'x'.repeat(1_500_000) } } as never);
    const r = await postEvents(service.address, events);
    assert.equal(r.status, 202);
    for (const e of events) {
      if (e.data.n === 9999) continue;
      all.add(e.id);
      sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
    }
  }
  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address))[0]!.pending === 0, 60_000);
  const received = await readTopic(kafkaBrokers(), topic, all);
  const report = checkDelivery(received, sentByKey);
  console.log(`received ${received.length} messages, ${report.duplicates} duplicates`);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  assert.equal(received.some((r) => r.id === `${run}-0-9999`), false);

  const [s] = await sinkStatus(service.address);
  console.log('GET /v2/sinks:', JSON.stringify(s));
  assert.equal(s!.parked, 1);
  assert.equal(s!.delivered, 200);
  assert.equal(s!.connected, true);
  assert.match(String(s!.lastError), /large|size/i);
  const metrics = await (await fetch(`${service.address}/metrics`)).text();
  assert.match(metrics, /herald_outbox_parked\{sink="main"\} 1/);
  assert.match(metrics, /herald_outbox_delivered_total\{sink="main"\} 200/);
  assert.match(metrics, /herald_outbox_publish_duration_seconds_count\{sink="main"\} [1-9]/);
});

test('an event larger than a sink takes is refused at ingest by default: 413 naming the event and the limit, nothing stored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-outbox-kafka-'));
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [{ name: 'main', type: 'kafka', brokers: kafkaBrokers().split(','), topic: uniqueName('outbox-413') }],
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = uniqueName('r');
  const events = Array.from({ length: 8 }, (_, i) => streamEvent(run, 0, i));
  events.splice(5, 0, { ...streamEvent(run, 0, 9999), data: { p: 0, n: 9999, blob: 'x'.repeat(1_500_000) } } as never);
  const res = await fetch(`${service.address}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  assert.equal(res.status, 413);
  const body = (await res.json()) as { code: string; error: string; details: Array<{ path: string; message: string }> };
  assert.equal(body.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(body.details[0]!.path, '[5]');
  assert.match(body.details[0]!.message, /sink "main", which takes at most 1,048,576/);
  assert.equal((await service.store.query({ limit: 0, offset: 0, order: 'ascending' })).total, 0, 'nothing of the batch is stored');
  assert.equal((await sinkStatus(service.address))[0]!.pending, 0);
});
