/**
 * Webhook benchmarks: Herald delivering to a local HTTP receiver (a child process, so it has
 * a core of its own, that verifies every Standard Webhooks signature with node:crypto as a
 * real receiver would, and answers 204).
 * - delivered events/s: the library publisher, direct (emitMany, resolves once the receiver
 *   acknowledged) and durable (SQLite outbox, until drained), one request per event;
 * - e2e latency at 1,000 events/s: from the emit() call until the receiver has the request,
 *   direct and durable (both clocks are the machine's monotonic clock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPublisher } from '../src/pipeline/publisher.js';
import type { SinkConfig } from '../src/config/schema.js';
import { benchEvent, type BenchContext } from './scenarios.js';
import { percentile, type ScenarioResult } from './support.js';

/** Events sent before an e2e measurement starts. */
const WARM = 1000;
const SECRET = `whsec_${Buffer.from('herald-bench-webhook-secret-0123').toString('base64')}`;

/**
 * The receiver: verifies each request's signature, records when (process.hrtime, ns) each
 * webhook-id first arrived, answers 204. GET /stats returns the arrivals; GET /count how many.
 */
const RECEIVER = `
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
const key = Buffer.from(process.env.SECRET.slice(6), 'base64');
const arrived = new Map();
let bad = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/count' ? JSON.stringify({ n: arrived.size, bad }) : JSON.stringify({ bad, arrived: Object.fromEntries(arrived) }));
    return;
  }
  const t = process.hrtime.bigint();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    const h = createHmac('sha256', key).update(id + '.' + req.headers['webhook-timestamp'] + '.').update(Buffer.concat(chunks)).digest('base64');
    const ok = String(req.headers['webhook-signature']).split(' ').some((s) => s.startsWith('v1,') && s.length === h.length + 3 && timingSafeEqual(Buffer.from(s.slice(3)), Buffer.from(h)));
    if (!ok) bad++;
    if (!arrived.has(id)) arrived.set(id, Number(t / 1000n) / 1000);
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

interface Receiver {
  url: string;
  count(): Promise<{ n: number; bad: number }>;
  /** First arrival per webhook-id, in ms of the monotonic clock. */
  arrivals(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', RECEIVER], { env: { ...process.env, SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the receiver exited ${code}`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hooks`,
    count: async () => (await (await fetch(`${base}/count`)).json()) as { n: number; bad: number },
    async arrivals() {
      const body = (await (await fetch(`${base}/stats`)).json()) as { arrived: Record<string, number> };
      return new Map(Object.entries(body.arrived));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const sink = (url: string): SinkConfig => ({ name: 'hook', type: 'webhook', url, secret: SECRET });
const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

async function waitCount(r: Receiver, n: number, timeoutMs = 120_000): Promise<{ n: number; bad: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await r.count();
    if (c.n >= n || Date.now() > deadline) return c;
    await sleep(50);
  }
}

/** Delivered events/s to the local receiver: direct (emitMany batches) and durable (SQLite outbox until drained). */
export async function webhookThroughput(ctx: BenchContext, records: number, batch = 1000): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const mode of ['direct', 'durable'] as const) {
    const receiver = await startReceiver();
    try {
      const publisher = createPublisher({
        sinks: [sink(receiver.url)],
        ...(mode === 'durable' && { durable: { store: `sqlite:${join(ctx.tmp, `webhook-${Date.now()}.db`)}`, drainTimeoutMs: 600_000 } }),
      });
      // The pool's first connections and the client's load outside the timed part.
      await publisher.emit(benchEvent(-1, ctx.recordSize, `warm-${mode}`));
      await waitCount(receiver, 1);
      const inputs = Array.from({ length: records }, (_, i) => benchEvent(i, ctx.recordSize, `${mode}-${i}`));
      const t0 = performance.now();
      for (let start = 0; start < records; start += batch) await publisher.emitMany(inputs.slice(start, start + batch));
      if (mode === 'durable') await publisher.close();
      const got = await waitCount(receiver, records + 1);
      const seconds = (performance.now() - t0) / 1000;
      if (mode === 'direct') await publisher.close();
      out.push({
        name: `webhook: herald ${mode} → local receiver`,
        events: records,
        seconds,
        events_per_s: records / seconds,
        note: `${mode === 'direct' ? 'emitMany batches of ' + batch + ', each resolved once every request was answered' : 'emitMany batches of ' + batch + ' into the SQLite outbox; time until drained'}; one signed POST per event, 16 in flight, 1,000 keys; ${got.n - 1} received, ${got.bad} bad signatures`,
      });
    } finally {
      await receiver.stop();
    }
  }
  return out;
}

/** e2e latency at `rate` events/s: emit() call → the receiver has the request. */
export async function webhookE2e(ctx: BenchContext, rate: number, seconds: number): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  const total = Math.round(rate * seconds);
  for (const mode of ['direct', 'durable'] as const) {
    const receiver = await startReceiver();
    try {
      const publisher = createPublisher({
        sinks: [sink(receiver.url)],
        ...(mode === 'durable' && { durable: { store: `sqlite:${join(ctx.tmp, `webhook-e2e-${Date.now()}.db`)}`, drainTimeoutMs: 60_000 } }),
      });
      // Steady state: the pool's connections open and the request path compiled (1,000 events first).
      await publisher.emitMany(Array.from({ length: WARM }, (_, i) => benchEvent(i, ctx.recordSize, `warm-e2e-${mode}-${i}`)));
      await waitCount(receiver, WARM);
      const called: number[] = new Array(total);
      const pending: Promise<unknown>[] = [];
      let failed = 0;
      const t0 = performance.now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
        while (sent < due) {
          const i = sent++;
          called[i] = monotonicMs();
          pending.push(publisher.emit(benchEvent(i, ctx.recordSize, `e2e-${mode}-${i}`)).catch(() => { failed++; }));
        }
        await sleep(1);
      }
      await Promise.all(pending);
      await waitCount(receiver, total + WARM, 60_000);
      const elapsed = (performance.now() - t0) / 1000;
      await publisher.close();
      const arrivals = await receiver.arrivals();
      const lat: number[] = [];
      for (let i = 0; i < total; i++) {
        const at = arrivals.get(`e2e-${mode}-${i}`);
        if (at !== undefined) lat.push(at - called[i]!);
      }
      lat.sort((a, b) => a - b);
      out.push({
        name: `webhook e2e latency: herald ${mode}`,
        events: total,
        seconds: elapsed,
        events_per_s: total / elapsed,
        p50_ms: percentile(lat, 50),
        p99_ms: percentile(lat, 99),
        max_ms: lat[lat.length - 1] ?? Number.NaN,
        note: `after ${WARM} warm-up events; ${rate}/s single emit() calls (not awaited in turn); emit() call → receiver has the request${mode === 'durable' ? '; through the SQLite outbox and its relay' : '; direct: one POST per emit()'}${failed > 0 ? `; ${failed} emits FAILED` : ''}${lat.length < total ? `; ONLY ${lat.length} of ${total} received` : ''}`,
      });
    } finally {
      await receiver.stop();
    }
  }
  return out;
}
