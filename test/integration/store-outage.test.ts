/**
 * The store goes away under load and comes back (needs: Kafka, the PostgreSQL server
 * binaries for a server of the test's own, root for the tmpfs case).
 *
 * - PostgreSQL stopped with `-m immediate` at ~1,000 events/s: `herald serve` stays up, writes
 *   answer 503 STORE_UNAVAILABLE with Retry-After, reads and /readyz 503; once PostgreSQL is
 *   back everything resumes without a restart, and every event that got a 202 is stored and
 *   reaches Kafka.
 * - SQLite on a file system that fills up: 507 STORE_FULL (not a 503 about a rollback),
 *   /readyz unready while writes fail, and writes succeed again once there is space.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { pgClusterSkip, startPgCluster } from '../helpers/pg-cluster.js';
import { checkDelivery, postEvents, readTopic, sinkStatus, startServe, streamEvent, waitFor } from './outbox-helpers.js';

const status = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json().catch(() => null) as { code?: string; error?: string } | null };
};

test('PostgreSQL stopped under load: 503 with Retry-After, serve stays up, resumes by itself, nothing accepted lost', { skip: pgClusterSkip, timeout: 240_000 }, async (t) => {
  const pg = await startPgCluster();
  const topic = uniqueName('pg-outage');
  const serve = await startServe({ HERALD_DB: pg.url, HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_KAFKA_TOPIC: topic });
  t.after(async () => {
    await serve.stop();
    pg.destroy();
  });

  const run = uniqueName('r');
  const accepted = new Set<string>();
  const sentByKey = new Map<string, string[]>();
  const answers = new Map<number, number>();
  const outageAnswers: Array<{ status: number; retryAfter: string | null; code: string | undefined }> = [];
  let outage = false;
  let stop = false;
  // Two producers, 10 events every 20 ms each: about 1,000 events/s.
  const producer = async (p: number) => {
    for (let n = 0; !stop; n += 10) {
      const events = Array.from({ length: 10 }, (_, i) => streamEvent(run, p, n + i));
      try {
        const r = await fetch(`${serve.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
        answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
        const body = await r.json() as { code?: string };
        if (r.status === 202) {
          for (const e of events) {
            accepted.add(e.id);
            sentByKey.set(e.partitionkey, [...(sentByKey.get(e.partitionkey) ?? []), e.id]);
          }
        } else if (outage) {
          outageAnswers.push({ status: r.status, retryAfter: r.headers.get('retry-after'), code: body.code });
        }
      } catch (err) {
        assert.fail(`a request got no answer (is herald serve still up?): ${(err as Error).message}`);
      }
      // A sleep, not a wait: it paces the producer.
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // Entity-state changes beside them: their transactions read, compute and write, so at any
  // moment some connection is checked out between two statements, where a lost connection
  // reaches no query and surfaces as an 'error' event on the client.
  const states = ['CONFIGURED', 'RUNNING', 'STANDBY'];
  const stateChanger = async (w: number) => {
    for (let n = 0; !stop; n++) {
      try {
        const r = await fetch(`${serve.base}/v2/entities/environment/env-${w}-${n % 20}/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: states[n % 3], attributes: { n } }) });
        answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
        const body = await r.json() as { code?: string };
        if (outage && r.status !== 200) outageAnswers.push({ status: r.status, retryAfter: r.headers.get('retry-after'), code: body.code });
      } catch (err) {
        assert.fail(`a request got no answer (is herald serve still up?): ${(err as Error).message}`);
      }
    }
  };
  const producing = Promise.all([...[0, 1].map(producer), ...[0, 1, 2, 3].map(stateChanger)]);
  await waitFor('2,000 accepted events', () => accepted.size >= 2000, 60_000);

  pg.stop('immediate');
  outage = true;
  const acceptedAtStop = accepted.size;
  await waitFor('writes to answer 503 during the outage', () => outageAnswers.length >= 20, 30_000);
  const ready = await status(`${serve.base}/readyz`);
  const read = await status(`${serve.base}/v2/events?limit=1`);
  assert.equal(serve.child.exitCode, null, `herald serve exited:\n${serve.log().slice(-2000)}`);
  assert.equal(ready.status, 503, 'readyz during the outage');
  assert.equal(read.status, 503, 'a read during the outage');
  assert.equal(read.body?.code, 'STORE_UNAVAILABLE');
  for (const a of outageAnswers) {
    assert.deepEqual({ status: a.status, code: a.code, retry: a.retryAfter !== null && Number(a.retryAfter) > 0 }, { status: 503, code: 'STORE_UNAVAILABLE', retry: true });
  }

  pg.start();
  outage = false;
  await waitFor('writes to be accepted again', () => accepted.size >= acceptedAtStop + 1000, 60_000);
  stop = true;
  await producing;
  assert.equal((await status(`${serve.base}/readyz`)).status, 200, 'ready again without a restart');
  console.log(`answers: ${JSON.stringify(Object.fromEntries(answers))}; ${accepted.size} accepted (${acceptedAtStop} before the stop)`);

  // Nothing that got a 202 is lost: stored, and delivered to Kafka in per-key order.
  await waitFor('the outbox to drain', async () => (await sinkStatus(serve.base))[0]!.pending === 0, 120_000);
  // (The server is the test's own: every event in it is this test's.)
  const counted = await fetch(`${serve.base}/v2/events?limit=1`);
  assert.ok(Number(counted.headers.get('event-count')) >= accepted.size, `stored ${counted.headers.get('event-count')} of ${accepted.size} accepted`);
  const received = await readTopic(kafkaBrokers(), topic, accepted, 60_000);
  const report = checkDelivery(received, sentByKey);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.orderViolations, []);
  assert.equal(serve.child.exitCode, null);
});

const canMount = (() => {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'herald-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

test('SQLite on a full file system: 507 STORE_FULL, unready while writes fail, writes resume when space returns', {
  skip: canMount ? false : 'needs root and tmpfs mounts to fill a real file system',
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir]);
  const serve = await startServe({ HERALD_DB: `sqlite:${join(dir, 'h.db')}`, HERALD_STREAMING: 'false' });
  t.after(async () => {
    await serve.stop();
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const big = (i: number) => Array.from({ length: 20 }, (_, j) => ({ source: 'fill', type: 'fill', data: { i, j, pad: 'x'.repeat(1000) } }));
  let full: Awaited<ReturnType<typeof status>> | undefined;
  let accepted = 0;
  for (let i = 0; i < 1000 && full === undefined; i++) {
    const r = await status(`${serve.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(big(i)) });
    if (r.status === 202) accepted += 20;
    else full = r;
  }
  assert.ok(full !== undefined, 'the file system filled up');
  assert.equal(full.status, 507, JSON.stringify(full.body));
  assert.equal(full.body?.code, 'STORE_FULL');
  assert.match(full.body?.error ?? '', /no space left/);
  assert.ok(Number(full.retryAfter) > 0, 'Retry-After');
  assert.equal((await status(`${serve.base}/readyz`)).status, 503, 'unready while writes fail');
  assert.equal((await status(`${serve.base}/healthz`)).status, 200, 'alive');

  // Space returns: the next write succeeds, and readiness follows.
  execFileSync('mount', ['-o', 'remount,size=64m', dir]);
  const again = await status(`${serve.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(big(-1)) });
  assert.equal(again.status, 202, JSON.stringify(again.body));
  assert.equal((await status(`${serve.base}/readyz`)).status, 200);
  const count = await fetch(`${serve.base}/v2/events?limit=1&source=fill`);
  assert.equal(Number(count.headers.get('event-count')), accepted + 20, 'every accepted event is stored, the refused batch is not');
  assert.equal(serve.child.exitCode, null);
});
