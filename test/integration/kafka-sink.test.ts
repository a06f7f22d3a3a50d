/**
 * The Kafka sink, topic helpers and Kafka source against the real broker.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { HeraldError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { KafkaSink } from '../../src/transports/kafka/sink.js';
import { describeTopics, ensureTopics } from '../../src/transports/kafka/topics.js';
import { createKafkaSource } from '../../src/transports/kafka/source.js';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { sinkFor } from '../helpers/sinks.js';
import { readTopicN as readN } from '../helpers/sources.js';

const brokers = () => kafkaBrokers().split(',');

describe('KafkaSink', () => {
  let sink: KafkaSink;
  before(async () => {
    sink = await sinkFor({ name: 'test', type: 'kafka', brokers: brokers(), timeoutMs: 10_000 }) as KafkaSink;
  });
  after(async () => {
    await sink.close();
  });

  it('binds content type, ce_ attributes, headers, key and value; a null value stays null', async () => {
    const topic = uniqueName('sink-bind');
    await ensureTopics(brokers(), [{ topic, partitions: 1 }], { create: true });
    assert.equal(sink.connected, false);
    const outcomes = await sink.publish([
      { eventId: 'e1', topic, key: 'cluster:c1', value: Buffer.from('{"a":1}'), contentType: 'application/json', ceAttributes: { id: 'e1', type: 't', specversion: '1.0' }, headers: { 'x-trace': 'abc' } },
      { eventId: 'e2', topic, value: null, ceAttributes: { id: 'e2' } },
    ]);
    assert.deepEqual(outcomes, [{ ok: true }, { ok: true }]);
    assert.equal(sink.connected, true);
    assert.equal(sink.lastDeliveries[0]?.topic, topic);
    const [a, b] = await readN(topic, 2);
    assert.equal(a!.key, 'cluster:c1');
    assert.equal(a!.value?.toString(), '{"a":1}');
    assert.deepEqual(a!.headers, { 'content-type': 'application/json', ce_id: 'e1', ce_type: 't', ce_specversion: '1.0', 'x-trace': 'abc' });
    assert.equal(b!.key, null);
    assert.equal(b!.value, null);
    assert.deepEqual(b!.headers, { ce_id: 'e2' });
  });

  it('overlapping publish() calls are all acknowledged, in call order per key (the idempotent producer never sees two sends at once)', async () => {
    const topic = uniqueName('sink-concurrent');
    await ensureTopics(brokers(), [{ topic, partitions: 3 }], { create: true });
    const calls = 20;
    const perCall = 50;
    const results = await Promise.all(Array.from({ length: calls }, (_, c) => sink.publish(
      Array.from({ length: perCall }, (_, i) => ({ eventId: `c${c}-${i}`, topic, key: `k${i % 5}`, value: Buffer.from(`${c}:${i}`) })),
    )));
    assert.equal(results.length, calls);
    for (const outcomes of results) assert.deepEqual(outcomes, Array.from({ length: perCall }, () => ({ ok: true })));
    const got = await readN(topic, calls * perCall);
    // Per key, the order is the order of the calls, then the order within a call.
    const byKey = new Map<string, number[]>();
    for (const m of got) {
      const [c, i] = m.value!.toString().split(':').map(Number) as [number, number];
      byKey.set(m.key!, [...(byKey.get(m.key!) ?? []), c * perCall + i]);
    }
    for (const [key, seqs] of byKey) assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `order of key ${key}`);
    assert.equal(new Set(got.map((m) => m.value!.toString())).size, calls * perCall, 'no duplicates');
  });

  it('splits a publish larger than max.request.size into several requests, in order (not one request per record)', async () => {
    const topic = uniqueName('sink-large');
    await ensureTopics(brokers(), [{ topic, partitions: 1 }], { create: true });
    // 3,000 records of 1 KiB: about 3 MiB, three times the broker's message.max.bytes for one partition.
    const pad = 'x'.repeat(1024);
    const messages = Array.from({ length: 3000 }, (_, i) => ({ eventId: `e${i}`, topic, key: `k${i % 7}`, value: Buffer.from(`${i}:${pad}`) }));
    const before = sink.requests;
    const outcomes = await sink.publish(messages);
    assert.ok(outcomes.every((o) => o.ok), 'every record acknowledged');
    const requests = sink.requests - before;
    assert.ok(requests >= 3 && requests <= 6, `3 MiB in 3 to 6 requests of at most 1 MiB, not ${requests}`);
    const got = await readN(topic, 3000);
    assert.deepEqual(got.map((m) => Number(m.value!.toString().split(':')[0])), Array.from({ length: 3000 }, (_, i) => i));
  });

  it('keeps the order of records with the same key within a batch', async () => {
    const topic = uniqueName('sink-order');
    await ensureTopics(brokers(), [{ topic, partitions: 3 }], { create: true });
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    const messages = Array.from({ length: 100 }, (_, i) => ({ eventId: `e${i}`, topic, key: keys[i % keys.length]!, value: Buffer.from(String(i)) }));
    const outcomes = await sink.publish(messages);
    assert.ok(outcomes.every((o) => o.ok));
    const got = await readN(topic, 100);
    for (const key of keys) {
      const seq = got.filter((m) => m.key === key).map((m) => Number(m.value!.toString()));
      assert.deepEqual(seq, [...seq].sort((x, y) => x - y), `order of ${key}`);
      assert.equal(seq.length, 20);
    }
  });

  it('reports a record the broker rejects for good as a permanent outcome, and delivers the rest', async () => {
    const topic = uniqueName('sink-reject');
    await ensureTopics(brokers(), [{ topic, partitions: 1 }], { create: true });
    const outcomes = await sink.publish([
      { eventId: 'ok1', topic, key: 'a', value: Buffer.from('first') },
      { eventId: 'big', topic, key: 'b', value: Buffer.alloc(3 * 1024 * 1024, 1) },
      { eventId: 'bad', topic: 'not a topic!', value: null },
    ]);
    assert.equal(outcomes[0]!.ok, true);
    const big = outcomes[1]!;
    assert.ok(!big.ok && big.permanent);
    assert.equal(big.error.code, 'BROKER_REJECTED');
    assert.match(big.error.message, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
    const bad = outcomes[2]!;
    assert.ok(!bad.ok && bad.permanent);
    assert.match(bad.error.message, /not a valid Kafka topic name/);
    const [first] = await readN(topic, 1);
    assert.equal(first!.value?.toString(), 'first');
  });

  it('rejects with BROKER_UNAVAILABLE naming the broker when it cannot be reached; close is idempotent', async () => {
    const dead = await sinkFor({ name: 'dead', type: 'kafka', brokers: ['127.0.0.1:1'], timeoutMs: 3000 });
    await assert.rejects(dead.publish([{ eventId: 'x', topic: 'herald.events', value: null }]), (err: unknown) => {
      assert.ok(err instanceof HeraldError);
      assert.ok(err.code === 'BROKER_UNAVAILABLE' || err.code === 'TIMEOUT', err.code);
      assert.match(err.message, /127\.0\.0\.1:1/);
      return true;
    });
    assert.equal(dead.connected, false);
    await assert.rejects(dead.connect(), (err: unknown) => err instanceof HeraldError && err.exitCode === 1);
    await dead.close();
    await dead.close();
    await assert.rejects(dead.publish([{ eventId: 'x', topic: 't', value: null }]), (err: unknown) => err instanceof HeraldError && err.code === 'CLOSED');
  });
});

describe('topic helpers', () => {
  it('creates missing topics with their settings, then warns where existing settings differ', async () => {
    const topic = uniqueName('topics-ensure');
    const created = await ensureTopics(brokers(), [{ topic, partitions: 2, replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 3_600_000 }], { create: true });
    assert.deepEqual(created, []);
    const [d] = await describeTopics(brokers(), { pattern: new RegExp(`^${topic}$`) });
    assert.deepEqual(d, { name: topic, partitions: 2, replicationFactor: 1, minInsyncReplicas: '1', retentionMs: '3600000', cleanupPolicy: 'delete' });
    const warnings = await ensureTopics(brokers(), [{ topic, partitions: 4, retentionMs: 60_000 }], { create: true });
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /partitions 2, configured 4/);
    assert.match(warnings.join('\n'), /retention\.ms 3600000, configured 60000/);
  });

  it('only warns about a missing topic when creation is off', async () => {
    const topic = uniqueName('topics-nocreate');
    const warnings = await ensureTopics(brokers(), [{ topic }], { create: false });
    assert.match(warnings[0]!, /does not exist/);
    assert.deepEqual(await describeTopics(brokers(), { pattern: new RegExp(`^${topic}$`) }), []);
  });
});

describe('KafkaSource', () => {
  it('reads topics matching a pattern', async () => {
    const prefix = uniqueName('src-pattern');
    const sink = await sinkFor({ name: 'p', type: 'kafka', brokers: brokers() });
    try {
      for (const t of [`${prefix}-a`, `${prefix}-b`]) {
        await ensureTopics(brokers(), [{ topic: t, partitions: 1 }], { create: true });
        await sink.publish([{ eventId: t, topic: t, value: Buffer.from(t) }]);
      }
    } finally {
      await sink.close();
    }
    const source = createKafkaSource({ brokers: brokers(), pattern: new RegExp(`^${prefix}-`), from: 'beginning' });
    const seen = new Set<string>();
    const guard = setTimeout(() => void source.close(), 60_000);
    for await (const m of source.messages()) {
      seen.add(m.topic);
      if (seen.size === 2) break;
    }
    clearTimeout(guard);
    await source.close();
    assert.deepEqual([...seen].sort(), [`${prefix}-a`, `${prefix}-b`]);
  });

  it('a group reader yields only partitions it owns: a fetch sent before a rebalance never delivers the new owner\'s records', async () => {
    // The client keeps a fetch in flight for up to maxWaitTime with the partitions it owned
    // when it sent it. Records published right after a rebalance, into partitions that moved
    // to the other reader, came back on that stale fetch and were read by both readers (tally's
    // two-instance group test counted 278 for 184 events with no rebalance after the start).
    // Publishing the moment the first reader logs its new assignment hits that window.
    const topic = uniqueName('src-rebalance');
    const group = uniqueName('herald-test-group');
    await ensureTopics(brokers(), [{ topic, partitions: 4 }], { create: true });
    const sink = await sinkFor({ name: 'r', type: 'kafka', brokers: brokers() });
    const warm = uniqueName('src-rebalance-warm');
    await ensureTopics(brokers(), [{ topic: warm, partitions: 1 }], { create: true });
    await sink.publish([{ eventId: 'w', topic: warm, value: Buffer.from('w') }]);
    const joined: { reader: string; generation: number; partitions: string[] }[] = [];
    const waiters: (() => void)[] = [];
    const recorder = (reader: string): Logger => pino({ level: 'info' }, {
      write(line: string) {
        const o = JSON.parse(line) as { msg?: string; generation?: number; partitions?: string[] };
        if (o.msg !== 'joined the consumer group') return;
        joined.push({ reader, generation: o.generation ?? -1, partitions: o.partitions ?? [] });
        for (const w of waiters.splice(0)) w();
      },
    });
    const joinOf = (reader: string, after = -1) => new Promise<number>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`${reader} did not join after generation ${after}: ${JSON.stringify(joined)}`)), 30_000);
      const check = () => {
        const j = joined.find((x) => x.reader === reader && x.generation > after);
        if (j === undefined) return void waiters.push(check);
        clearTimeout(limit);
        resolve(j.generation);
      };
      check();
    });
    const read: Record<string, { partition: number; offset: string }[]> = { a: [], b: [] };
    const sources = { a: createKafkaSource({ brokers: brokers(), topics: [topic], group, from: 'beginning', logger: recorder('a') }),
      b: createKafkaSource({ brokers: brokers(), topics: [topic], group, from: 'beginning', logger: recorder('b') }) };
    const loops: Promise<void>[] = [];
    const readWith = (name: 'a' | 'b') => loops.push((async () => {
      for await (const m of sources[name].messages()) {
        read[name]!.push({ partition: m.partition!, offset: m.offset! });
        await m.ack();
      }
    })());
    const guard = setTimeout(() => void Promise.all([sources.a.close(), sources.b.close()]), 60_000);
    const n = 400;
    try {
      readWith('a');
      const first = await joinOf('a');
      // Let a's fetch loop settle into its long polls over all 4 partitions.
      await new Promise((r) => setTimeout(r, 800));
      readWith('b');
      await joinOf('a', first);
      await sink.publish(Array.from({ length: n }, (_, i) => ({ eventId: String(i), topic, key: `k${i}`, value: Buffer.from(String(i)) })));
      const deadline = Date.now() + 30_000;
      while (read.a!.length + read.b!.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // A sleep, not a wait: it checks an absence (a late repeat would show up here).
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      clearTimeout(guard);
      await Promise.all([sources.a.close(), sources.b.close()]);
      await Promise.all(loops);
      await sink.close();
    }
    const seen = [...read.a!, ...read.b!].map((m) => `${m.partition}:${m.offset}`);
    assert.equal(new Set(seen).size, n, 'every record read');
    assert.equal(seen.length, n, `no record read by both readers (a read ${read.a!.length}, b ${read.b!.length})`);
    const partitionsOf = (r: string) => new Set(read[r]!.map((m) => m.partition));
    assert.ok(partitionsOf('a').size > 0 && partitionsOf('b').size > 0, 'both readers own some partitions');
    assert.deepEqual([...partitionsOf('a')].filter((p) => partitionsOf('b').has(p)), [], 'no partition read by both');
  });

  it('commits the offsets of acknowledged messages with a consumer group', async () => {
    const topic = uniqueName('src-group');
    const group = uniqueName('herald-test-group');
    await ensureTopics(brokers(), [{ topic, partitions: 1 }], { create: true });
    const sink = await sinkFor({ name: 'g', type: 'kafka', brokers: brokers() });
    await sink.publish([0, 1, 2].map((i) => ({ eventId: String(i), topic, value: Buffer.from(String(i)) })));
    await sink.close();
    await readN(topic, 2, { group, ack: true });
    const admin = new Admin({ clientId: 'herald-test', bootstrapBrokers: brokers() });
    try {
      const [g] = await admin.listConsumerGroupOffsets({ groups: [group] });
      const committed = g?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
      // Kafka commits the offset of the next message to read: two acked messages -> 2.
      assert.equal(committed, 2n);
    } finally {
      await admin.close();
    }
  });
});
