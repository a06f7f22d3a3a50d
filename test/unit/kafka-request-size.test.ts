/** Splitting a publish into produce requests of at most max.request.size bytes (pure). */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { byRequestSize } from '../../src/transports/kafka/sink.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';

const msg = (i: number, bytes: number): { m: OutgoingMessage; i: number } => ({ i, m: { eventId: `e${i}`, topic: 't', key: `k${i}`, value: Buffer.alloc(bytes) } });

test('byRequestSize keeps order and never exceeds the limit unless a record alone does', () => {
  const items = Array.from({ length: 100 }, (_, i) => msg(i, 100 + (i % 10) * 50));
  const parts = byRequestSize(items, 2000);
  assert.deepEqual(parts.flat().map((x) => x.i), items.map((x) => x.i), 'order and completeness');
  assert.ok(parts.length > 1);
  for (const p of parts) {
    const bytes = p.reduce((n, x) => n + x.m.value!.length, 0);
    assert.ok(bytes <= 2000, `a request of ${bytes} bytes of values exceeds 2000`);
  }
});

test('byRequestSize sends a record larger than the limit alone, and counts headers and keys', () => {
  const big = msg(1, 5000);
  const parts = byRequestSize([msg(0, 10), big, msg(2, 10)], 1000);
  assert.deepEqual(parts.map((p) => p.map((x) => x.i)), [[0], [1], [2]]);
  const withHeaders = (i: number): { m: OutgoingMessage; i: number } => ({ i, m: { eventId: `e${i}`, topic: 't', value: Buffer.alloc(10), ceAttributes: { id: 'x'.repeat(400) } } });
  // Each record is small in value but ~440 bytes with its header: two fit in 1000, three do not.
  assert.deepEqual(byRequestSize([withHeaders(0), withHeaders(1), withHeaders(2)], 1000).map((p) => p.length), [2, 1]);
  assert.deepEqual(byRequestSize([], 1000), []);
});

test('byRequestSize also bounds the buffers the client builds per request (records with many headers go in smaller requests)', () => {
  const ce = (i: number): { m: OutgoingMessage; i: number } => ({
    i,
    m: { eventId: `e${i}`, topic: 't', value: Buffer.alloc(10), contentType: 'application/json', ceAttributes: { id: `e${i}`, source: 's', specversion: '1.0', type: 't', time: 'now', severity: 'info' } },
  });
  // 7 headers: 8 + 28 = 36 pieces a record, so 12,000 pieces hold 333 records.
  const parts = byRequestSize(Array.from({ length: 1000 }, (_, i) => ce(i)), 1 << 30);
  assert.deepEqual(parts.map((p) => p.length), [333, 333, 333, 1]);
  assert.deepEqual(parts.flat().map((x) => x.i), Array.from({ length: 1000 }, (_, i) => i), 'order and completeness');
  // No headers: 8 pieces, 1,500 records a request.
  assert.deepEqual(byRequestSize(Array.from({ length: 2000 }, (_, i) => msg(i, 10)), 1 << 30).map((p) => p.length), [1500, 500]);
  // An explicit bound.
  assert.deepEqual(byRequestSize(Array.from({ length: 5 }, (_, i) => msg(i, 10)), 1 << 30, 16).map((p) => p.length), [2, 2, 1]);
});
