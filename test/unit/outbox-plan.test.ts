/** Pure relay decisions: backoff, per-key order on partial failures, parking, sink filters, log throttling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { PublishOutcome } from '../../src/transports/types.js';
import { backoffDelay } from '../../src/outbox/backoff.js';
import { FailureLog, formatDuration } from '../../src/outbox/failure-log.js';
import { createBindings } from '../../src/delivery/binding.js';
import type { SinkConfig } from '../../src/config/sinks.js';
import { decideRound, encodeBatch, wholeBatchFailed, type OutboxEntry } from '../../src/outbox/plan.js';

const ev = (id: string, extra: Record<string, unknown> = {}): HeraldEvent =>
  createEvent({ id, source: 'test', type: 't.happened', ...extra });

const entry = (seq: number, key: string | null, attempts = 0): OutboxEntry => ({
  seq, eventId: `e${seq}`, key, attempts, createdMs: 0, event: ev(`e${seq}`),
});

/** One message per event; events whose id ends in "x" give two; "zero" gives none; "boom" throws. */
const binding = {
  profile: { name: 'cloudevents' },
  encode(e: HeraldEvent) {
    if (e.id.endsWith('boom')) throw new Error('cannot encode');
    if (e.id.endsWith('zero')) return [];
    const m = { eventId: e.id, topic: 't', value: Buffer.from(e.id) };
    return e.id.endsWith('x') ? [m, { ...m }] : [m];
  },
};
const ok: PublishOutcome = { ok: true };
const transient: PublishOutcome = { ok: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', 'leader not available') };
const permanent: PublishOutcome = { ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', 'message too large') };

test('backoff grows exponentially, stays within [half, whole] of the cap, never exceeds max', () => {
  const lo = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 10_000, random: () => 0 });
  const hi = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 10_000, random: () => 0.999999 });
  assert.equal(lo(1), 50);
  assert.equal(hi(1), 100);
  assert.equal(lo(2), 100);
  assert.equal(lo(4), 400);
  assert.equal(hi(30), 10_000);
  assert.equal(lo(1000), 5000);
  for (let n = 1; n < 60; n++) {
    const d = backoffDelay(n, { baseMs: 100, maxMs: 10_000 });
    assert.ok(d >= 50 && d <= 10_000, `attempt ${n}: ${d}`);
  }
});

test('encodeBatch: 0..n messages per event, encode errors and missing events are recorded per entry', () => {
  const entries = [entry(1, 'a'), { ...entry(2, 'a'), eventId: 'e2x', event: ev('e2x') }, { ...entry(3, 'b'), event: ev('e3zero') }, { ...entry(4, 'c'), event: ev('e4boom') }, { ...entry(5, 'd'), event: undefined }];
  const b = encodeBatch(entries, binding as unknown as Parameters<typeof encodeBatch>[1]);
  assert.equal(b.messages.length, 3);
  assert.deepEqual(b.owner, [0, 1, 1]);
  assert.match(b.encodeErrors.get(3)!, /cannot encode/);
  assert.match(b.encodeErrors.get(4)!, /no longer in the store/);
  assert.equal(b.encodeErrors.size, 2);
});

test('decideRound: a transient failure of key K re-sends every later entry of K, other keys are delivered', () => {
  const entries = [entry(1, 'K'), entry(2, 'L'), entry(3, 'K'), entry(4, null), entry(5, 'L')];
  const b = encodeBatch(entries, binding as unknown as Parameters<typeof encodeBatch>[1]);
  const r = decideRound(entries, b, [transient, ok, ok, ok, ok]);
  assert.deepEqual(r.retry.map((x) => x.entry.seq), [1, 3]);
  assert.deepEqual(r.delivered.map((x) => x.seq), [2, 4, 5]);
  assert.equal(r.parked.length, 0);
  assert.match(r.retry[1]!.error, /earlier event of key K/);
});

test('decideRound: a poison message is parked and blocks nothing, not even its own key', () => {
  const entries = [entry(1, 'K'), entry(2, 'K'), entry(3, 'L')];
  const r = decideRound(entries, encodeBatch(entries, binding as unknown as Parameters<typeof encodeBatch>[1]), [permanent, ok, ok]);
  assert.deepEqual(r.parked.map((x) => x.entry.seq), [1]);
  assert.match(r.parked[0]!.error, /too large/);
  assert.deepEqual(r.delivered.map((x) => x.seq), [2, 3]);
});

test('decideRound: an entry with several messages is delivered only when all are acknowledged', () => {
  const entries = [{ ...entry(1, 'K'), eventId: 'e1x', event: ev('e1x') }, entry(2, 'M')];
  const b = encodeBatch(entries, binding as unknown as Parameters<typeof encodeBatch>[1]);
  const r = decideRound(entries, b, [ok, transient, ok]);
  assert.deepEqual(r.retry.map((x) => x.entry.seq), [1]);
  assert.deepEqual(r.delivered.map((x) => x.seq), [2]);
  const r2 = decideRound(entries, b, [ok, permanent, transient]);
  assert.deepEqual(r2.parked.map((x) => x.entry.seq), [1]);
  assert.deepEqual(r2.retry.map((x) => x.entry.seq), [2]);
});

test('decideRound: events that give no message count as delivered', () => {
  const entries = [{ ...entry(1, 'K'), event: ev('e1zero') }];
  const r = decideRound(entries, encodeBatch(entries, binding as unknown as Parameters<typeof encodeBatch>[1]), []);
  assert.deepEqual(r.delivered.map((x) => x.seq), [1]);
});

test('wholeBatchFailed only when every outcome is a transient failure', () => {
  assert.equal(wholeBatchFailed([transient, transient]), true);
  assert.equal(wholeBatchFailed([transient, ok]), false);
  assert.equal(wholeBatchFailed([transient, permanent]), false);
  assert.equal(wholeBatchFailed([]), false);
});

test('sink filters: types, severities, entity kinds and the enabled flag', () => {
  const e = ev('f1', { severity: 'error', entity: { kind: 'cluster', id: 'c1' } });
  const accepts = (extra: Partial<SinkConfig>, event = e) => createBindings([{ name: 'a', type: 'kafka', brokers: ['127.0.0.1:1'], ...extra } as SinkConfig])[0]!.accepts(event);
  assert.equal(accepts({}), true);
  assert.equal(accepts({ enabled: false }), false);
  assert.equal(accepts({ filter: { types: ['other'] } }), false);
  assert.equal(accepts({ filter: { types: [] } }), true);
  assert.equal(accepts({ filter: { severities: ['error', 'critical'] } }), true);
  assert.equal(accepts({ filter: { severities: ['info'] } }), false);
  assert.equal(accepts({ filter: { entityKinds: ['host'] } }), false);
  assert.equal(accepts({ filter: { entityKinds: ['cluster'] } }, ev('f2')), false);
});

test('failure log: one warning, a summary per interval, one recovery line', async () => {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk)) as { level: number; msg: string }); cb(); } });
  const logger = pino({ level: 'info' }, stream);
  let t = 0;
  const log = new FailureLog('main', logger, { summaryEveryMs: 30_000, now: () => t });
  for (let i = 0; i < 100; i++) {
    await log.failure('connect ECONNREFUSED 127.0.0.1:1', () => 1234);
    t += 1000; // 100 failures over 100 s
  }
  log.success();
  log.success();
  await new Promise((r) => setImmediate(r));
  const msgs = lines.map((l) => l.msg);
  assert.match(msgs[0]!, /sink main is failing: connect ECONNREFUSED/);
  const summaries = msgs.filter((m) => m.includes('still failing'));
  assert.equal(summaries.length, 3, msgs.join('\n'));
  assert.match(summaries[0]!, /still failing for 30s, 1234 pending, 31 failed attempts, last error: connect ECONNREFUSED/);
  assert.match(msgs.at(-1)!, /sink main recovered after 1m40s/);
  assert.equal(msgs.length, 5);
  assert.equal(formatDuration(3_900_000), '1h05m');
});
