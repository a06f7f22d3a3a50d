/**
 * Filtered pages over 200,000 stored events, on both dialects, through the API. Asserts the
 * counts are right and prints p50/p99 per query shape (figures only, no timing assertion).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../helpers/app.js';
import { loadConfig } from '../../src/config/index.js';
import { normalize, type HeraldEvent, type Severity } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/index.js';
import { openTestStore, TEST_DIALECTS, type TestStore } from '../helpers/stores.js';

const N = 200_000;
const BASE = Date.parse('2024-01-01T00:00:00Z');

const severityOf = (i: number): Severity => (i % 1000 === 2 ? 'critical' : i % 100 === 0 ? 'error' : i % 50 === 1 ? 'warning' : 'info');

function eventAt(i: number): HeraldEvent {
  return normalize({
    id: `ev-${i}`,
    source: `svc/${i % 5}`,
    type: `com.example.t${i % 20}`,
    severity: severityOf(i),
    time: new Date(BASE + i * 1000).toISOString(),
    entity: { kind: 'cluster', id: `c${i % 1000}` },
    message: i % 10_000 === 7 ? `Needle in the haystack ${i}` : `event number ${i}`,
    data: { i },
  });
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

for (const dialect of TEST_DIALECTS) {
  describe(`query over ${N} events on ${dialect}`, () => {
    let store: EventStore;
    let opened: TestStore | undefined;
    let app: FastifyInstance;

    before(async () => {
      opened = await openTestStore(dialect, 'scale');
      store = opened.store;
      const t0 = performance.now();
      for (let start = 0; start < N; start += 5000) {
        await store.append(Array.from({ length: 5000 }, (_, k) => eventAt(start + k)));
      }
      // Fresh statistics, as autovacuum would have gathered on a long-running database.
      await sql`ANALYZE herald_events`.execute(store.db);
      const ms = performance.now() - t0;
      console.log(`# ${dialect}: stored ${N} events in ${(ms / 1000).toFixed(1)} s (${Math.round(N / (ms / 1000))} events/s)`);
      app = await appOn(store, loadConfig({ env: {} }));
    });
    after(async () => {
      await app?.close();
      await opened?.dispose();
    });

    test('filtered pages: correct counts; latency figures printed', async () => {
      const count = (pred: (i: number) => boolean) => {
        let n = 0;
        for (let i = 0; i < N; i++) if (pred(i)) n++;
        return n;
      };
      const since = new Date(BASE + 100_000 * 1000).toISOString();
      const until = new Date(BASE + 110_000 * 1000).toISOString();
      const shapes: Array<{ name: string; qs: string; expected: number; first?: string }> = [
        { name: 'entity page', qs: 'cluster_id=c42&limit=50', expected: count((i) => i % 1000 === 42), first: 'ev-42' },
        { name: 'entity, descending, deep offset', qs: 'entity_kind=cluster&entity_id=c42&order=descending&limit=50&offset=150', expected: count((i) => i % 1000 === 42), first: `ev-${(199 - 150) * 1000 + 42}` },
        { name: 'severity error+critical', qs: 'severities=error,critical&limit=100', expected: count((i) => ['error', 'critical'].includes(severityOf(i))), first: 'ev-0' },
        { name: 'type in time range', qs: `types=com.example.t3&since=${since}&until=${until}&limit=100`, expected: count((i) => i % 20 === 3 && i >= 100_000 && i < 110_000), first: 'ev-100003' },
        { name: 'source, descending', qs: 'source=svc/4&order=descending&limit=100', expected: count((i) => i % 5 === 4), first: `ev-${N - 1}` },
        { name: 'time range only', qs: `since=${since}&until=${until}&limit=100`, expected: 10_000, first: 'ev-100000' },
        { name: 'message substring (scan)', qs: 'message=NEEDLE&limit=100', expected: count((i) => i % 10_000 === 7), first: 'ev-7' },
        { name: 'unfiltered first page', qs: 'limit=100', expected: N, first: 'ev-0' },
      ];
      const lines: string[] = [];
      for (const shape of shapes) {
        const times: number[] = [];
        for (let rep = 0; rep < 15; rep++) {
          const t0 = performance.now();
          const r = await app.inject({ url: `/v2/events?${shape.qs}` });
          times.push(performance.now() - t0);
          assert.equal(r.statusCode, 200, r.body);
          if (rep === 0) {
            assert.equal(r.headers['event-count'], String(shape.expected), shape.name);
            const events = r.json() as HeraldEvent[];
            if (shape.first) assert.equal(events[0]?.id, shape.first, shape.name);
          }
        }
        lines.push(`#   ${shape.name.padEnd(34)} total=${String(shape.expected).padStart(6)}  p50=${percentile(times, 50).toFixed(1)} ms  p99=${percentile(times, 99).toFixed(1)} ms`);
      }
      // Severity counts of the whole set (other filters only).
      const all = await app.inject({ url: '/v2/events?limit=0&severities=critical' });
      assert.equal(all.headers['severity-count-critical'], String(count((i) => severityOf(i) === 'critical')));
      assert.equal(all.headers['severity-count-error'], String(count((i) => severityOf(i) === 'error')));
      assert.equal(all.headers['severity-count-warning'], String(count((i) => severityOf(i) === 'warning')));
      console.log(`# ${dialect}: GET /v2/events over ${N} events (15 requests each, through app.inject)\n${lines.join('\n')}`);
    });
  });
}
