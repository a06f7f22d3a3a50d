/**
 * Webhooks through the outbox of `herald serve` (in process, real SQLite and PostgreSQL
 * stores, a real HTTP receiver on loopback):
 * - a receiver that answers 500, then 429 with Retry-After, then hangs, then is stopped for a
 *   while loses nothing: every event arrives, each signature verifies with the
 *   `standardwebhooks` package, the first copies of each key arrive in the order the API
 *   accepted them, and a retried event keeps its webhook-id;
 * - an event the receiver answers 410 for is parked (GET /v2/sinks: parked, the status and
 *   the first bytes of the answer) while the others are delivered;
 * - one endpoint that hangs never holds up another webhook sink;
 * - GET /v2/sinks shows each endpoint's latency and last status, and neither it nor the log
 *   holds the secret.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Service } from '../../src/service/index.js';
import { pgUrl, uniqueName } from '../helpers/env.js';
import { startReceiver, stopReceivers, verifyStandardWebhook, type ReceivedRequest } from '../helpers/webhook-receiver.js';
import { memoryLogger, postEvents, sinkStatus, startTestService, waitFor } from './outbox-helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwKq3h3UpHQVY=';
const dir = mkdtempSync(join(tmpdir(), 'herald-webhook-outbox-'));
const services: Service[] = [];
const schemas: string[] = [];

after(async () => {
  for (const s of services) await s.close().catch(() => undefined);
  if (schemas.length > 0) {
    const c = new pg.Client({ connectionString: pgUrl() });
    await c.connect();
    for (const schema of schemas) await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  await stopReceivers();
  rmSync(dir, { recursive: true, force: true });
});

const receiver = startReceiver;

const eventOf = (run: string, n: number) => ({ id: `${run}-${n}`, source: 'herald-test', type: 'dev.herald.test.webhook', partitionkey: `k${n % 5}`, data: { n } });

/** Per key, the first arrival of each id must follow the order the ids were accepted in. */
function orderProblems(requests: readonly ReceivedRequest[], accepted: readonly string[]): string[] {
  const first = new Map<string, number>();
  requests.forEach((q, i) => {
    const id = q.headers['webhook-id']!;
    if (!first.has(id)) first.set(id, i);
  });
  const byKey = new Map<string, string[]>();
  for (const id of accepted) {
    const key = `k${Number(id.split('-').pop()) % 5}`;
    byKey.set(key, [...(byKey.get(key) ?? []), id]);
  }
  const out: string[] = [];
  for (const [key, ids] of byKey) {
    const at = ids.map((id) => first.get(id) ?? -1);
    if (at.some((x, i) => i > 0 && x < at[i - 1]!)) out.push(key);
  }
  return out;
}

const STORES: Array<[string, () => string]> = [
  ['SQLite', () => `sqlite:${join(dir, `${uniqueName('wh')}.db`)}`],
  ['PostgreSQL', () => pgUrl()],
];

for (const [storeName, storeUrl] of STORES) {
  describe(`through the outbox (${storeName})`, () => {
    test('500, 429 with Retry-After, hanging and a stopped receiver: nothing lost, order per key, ids stable; 410 parks', async () => {
      const run = uniqueName('wh').replace(/-/g, '');
      const r = await receiver();
      const parkedId = `${run}-7`;
      let limitedAt: number | undefined;
      r.answer = (q, n) => {
        if (q.headers['webhook-id'] === parkedId) return { status: 410, body: 'subscription cancelled by the customer' };
        if (n < 3) return { status: 500, body: 'try again' };
        if (n === 3) {
          limitedAt = q.at;
          return { status: 429, headers: { 'retry-after': '1' } };
        }
        if (n < 6) return { hang: true };
        return { status: 204 };
      };
      const log = memoryLogger('debug');
      if (storeName === 'PostgreSQL') schemas.push(run.toLowerCase());
      const service = await startTestService({
        store: { url: storeUrl() },
        sinks: [{ name: 'hook', type: 'webhook', url: r.url(), secret: SECRET, timeoutMs: 1000, concurrency: 4 }],
      }, { logger: log.logger, ...(storeName === 'PostgreSQL' && { storeSchema: run.toLowerCase() }), relay: { idleMs: 50 } });
      services.push(service);
      const accepted: string[] = [];
      const post = async (from: number, to: number) => {
        const events = Array.from({ length: to - from }, (_, i) => eventOf(run, from + i));
        const res = await postEvents(service.address, events);
        assert.equal(res.status, 202);
        accepted.push(...res.ids);
      };
      for (let b = 0; b < 4; b++) await post(b * 10, b * 10 + 10);
      const delivered = () => new Set(r.requests.filter((q) => q.headers['webhook-id'] !== parkedId).map((q) => q.headers['webhook-id']));
      await waitFor('the first 40 events at the receiver', () => delivered().size >= 39, 60_000, 100);

      // Down for a while: events keep being accepted and wait in the outbox.
      await r.stop();
      await post(40, 60);
      await waitFor('the sink to report the outage', async () => {
        const s = (await sinkStatus(service.address)).find((x) => x.name === 'hook')!;
        return s.pending > 0 && /refused|closed|no answer/.test(String(s.lastError));
      }, 60_000, 100);
      await r.start();
      await waitFor('every event at the receiver after it came back', async () => {
        const s = (await sinkStatus(service.address)).find((x) => x.name === 'hook')!;
        return delivered().size === 59 && s.pending === 0;
      }, 90_000, 200);

      const answered = r.requests.filter((q, i) => i >= 6 && q.headers['webhook-id'] !== parkedId);
      for (const q of answered) verifyStandardWebhook(SECRET, q);
      assert.deepEqual(orderProblems(r.requests.filter((q) => q.headers['webhook-id'] !== parkedId), accepted.filter((id) => id !== parkedId)), [], 'first copies in order per key');
      // The first requests failed and were retried with the same webhook-id.
      for (const q of r.requests.slice(0, 3)) {
        const again = r.requests.filter((x) => x.headers['webhook-id'] === q.headers['webhook-id']);
        assert.ok(again.length >= 2, `${q.headers['webhook-id']} retried`);
        assert.equal(new Set(again.map((x) => x.headers['ce-id'])).size, 1);
      }
      // After the 429, nothing new was sent for at least the second it asked for. Requests already
      // in flight beside it (at most concurrency - 1 = 3) may land just after it; none later.
      assert.ok(limitedAt !== undefined);
      const later = r.requests.filter((q) => q.at > limitedAt!);
      const inFlight = later.filter((q) => q.at < limitedAt! + 50);
      assert.ok(inFlight.length <= 3, `at most 3 requests in flight beside the 429, got ${inFlight.length}`);
      const next = later.find((q) => q.at >= limitedAt! + 50);
      assert.ok(next === undefined || next.at >= limitedAt! + 1000, `Retry-After honoured (next request ${next ? next.at - limitedAt! : '-'} ms after the 429)`);

      const s = (await sinkStatus(service.address)).find((x) => x.name === 'hook')! as unknown as Record<string, unknown> & { parked: number; endpoint: Record<string, unknown> & { latencyMs: Record<string, unknown> } };
      assert.equal(s.parked, 1, 'the 410 event is parked');
      const parked = await service.pipeline.outbox.parked('hook');
      assert.equal(parked.length, 1);
      assert.match(String(parked[0]!.error), /410: subscription cancelled by the customer/);
      assert.equal(s.endpoint.lastStatus, 204);
      assert.equal(s.endpoint.url, r.url());
      assert.equal(typeof s.endpoint.latencyMs.p99, 'number');
      assert.ok((s.endpoint.requests as number) >= 60);
      const everything = JSON.stringify(s) + JSON.stringify(log.lines);
      assert.ok(!everything.includes(SECRET.slice(6)), 'the secret is in neither /v2/sinks nor the log');
      assert.ok(!everything.includes('whsec_'), 'not even its prefix');
    });
  });
}

test('one endpoint that hangs never holds up another webhook sink', async () => {
  const slow = await receiver();
  slow.answer = () => ({ hang: true });
  const fast = await receiver();
  const run = uniqueName('whs').replace(/-/g, '');
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, `${run}.db`)}` },
    sinks: [
      { name: 'slow', type: 'webhook', url: slow.url(), secret: SECRET, timeoutMs: 3000 },
      { name: 'fast', type: 'webhook', url: fast.url(), secret: SECRET },
    ],
  }, { relay: { idleMs: 50 } });
  services.push(service);
  const events = Array.from({ length: 30 }, (_, n) => eventOf(run, n));
  assert.equal((await postEvents(service.address, events)).status, 202);
  await waitFor('every event at the healthy endpoint', () => new Set(fast.requests.map((q) => q.headers['webhook-id'])).size === 30, 30_000, 50);
  const status = await sinkStatus(service.address);
  const slowStatus = status.find((x) => x.name === 'slow')!;
  assert.ok(slowStatus.pending > 0, 'the hanging endpoint still has its events pending');
  assert.equal(slowStatus.delivered, 0);
  assert.equal(status.find((x) => x.name === 'fast')!.pending, 0);
  for (const q of fast.requests) verifyStandardWebhook(SECRET, q);
});
