/**
 * Herald's benchmark scenarios. Each returns ScenarioResult rows; bench/run.ts starts the
 * broker, orders them, computes ratios to the reference rows and writes the results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { sql } from 'kysely';
import { createPublisher } from '../src/pipeline/publisher.js';
import { createBindings } from '../src/delivery/binding.js';
import { createKafkaSource } from '../src/transports/kafka/source.js';
import { openStore, type EventStore } from '../src/store/index.js';
import { startService } from '../src/service/index.js';
import { loadConfig } from '../src/config/index.js';
import { normalize, type EventInput, type HeraldEvent, type Severity } from '../src/events/index.js';
import { decodeMessage } from '../src/profiles/decode.js';
import { lifecycle, machine } from '../src/profiles/choria/lifecycle.js';
import type { IncomingMessage } from '../src/profiles/types.js';
import type { SinkConfig } from '../src/config/schema.js';
import { Tally } from '../src/tally/tally.js';
import { percentile, ROOT, type ScenarioResult } from './support.js';

export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const PG_URL = process.env.HERALD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchContext {
  brokers: string;
  tmp: string;
  recordSize: number;
  partitions: number;
  quick: boolean;
  /** Creates a fresh topic with `partitions` partitions and returns its name. */
  topic(label: string): Promise<string>;
  log(msg: string): void;
}

const now = () => performance.now();

/** An event whose Kafka value (binary CloudEvent: the data as JSON) is about `size` bytes. */
export function benchEvent(i: number, size: number, id?: string): EventInput {
  const bare = JSON.stringify({ i, pad: '' }).length;
  const pad = 'x'.repeat(Math.max(0, size - bare - String(i).length + 1));
  return {
    ...(id !== undefined && { id }),
    source: 'herald-bench',
    type: 'com.example.bench.tick',
    entity: { kind: 'job', id: `j${i % 1000}` },
    data: { i, pad },
  };
}

const kafkaSink = (brokers: string, topic: string, extra: Record<string, unknown> = {}): SinkConfig =>
  ({ name: 'main', type: 'kafka', brokers: brokers.split(','), topic, profile: 'cloudevents', ...extra }) as SinkConfig;

async function inBatches(total: number, batch: number, concurrency: number, fn: (start: number, n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const start = next;
      const n = Math.min(batch, total - start);
      next += n;
      await fn(start, n);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// ---------------------------------------------------------------------------------------------
// 2. Herald direct: the library publisher, no outbox.

/**
 * What a service sending a burst writes: emitMany in batches of `batch`, with a few batches in
 * flight (the publisher is shared; each emitMany resolves after acks=all).
 */
export async function heraldDirect(ctx: BenchContext, records: number, mode: 'binary' | 'structured' = 'binary', batch = 1000, concurrency = 1): Promise<ScenarioResult> {
  const topic = await ctx.topic(`direct-${mode}`);
  const publisher = createPublisher({ sinks: [kafkaSink(ctx.brokers, topic, mode === 'structured' ? { mode } : {})] });
  // Connect (and fetch metadata) outside the timed part, as ProducerPerformance's JVM start is.
  await publisher.emit(benchEvent(-1, ctx.recordSize));
  const inputs = Array.from({ length: records }, (_, i) => benchEvent(i, ctx.recordSize));
  const t0 = now();
  await inBatches(records, batch, concurrency, async (start, n) => {
    await publisher.emitMany(inputs.slice(start, start + n));
  });
  const seconds = (now() - t0) / 1000;
  await publisher.close();
  return {
    name: mode === 'binary' ? 'herald direct: emitMany' : 'herald direct: emitMany, structured',
    events: records,
    seconds,
    events_per_s: records / seconds,
    note: `emitMany batches of ${batch}, ${concurrency} in flight (awaited in turn); resolves after acks=all; ${mode === 'binary'
      ? 'binary CloudEvents (the default): 9 headers per record'
      : 'structured CloudEvents (mode: structured): one content-type header, the attributes inside the JSON value'}`,
  };
}

// ---------------------------------------------------------------------------------------------
// 3a. Herald durable library publisher (SQLite outbox).

export async function heraldDurableSqlite(ctx: BenchContext, records: number, mode: 'binary' | 'structured' = 'binary', batch = 1000): Promise<ScenarioResult> {
  const topic = await ctx.topic(`durable-${mode}`);
  const db = join(ctx.tmp, `durable-${mode}-${Date.now()}.db`);
  const publisher = createPublisher({
    sinks: [kafkaSink(ctx.brokers, topic, mode === 'structured' ? { mode } : {})],
    durable: { store: `sqlite:${db}`, drainTimeoutMs: 600_000 },
  });
  await publisher.emit(benchEvent(-1, ctx.recordSize));
  const inputs = Array.from({ length: records }, (_, i) => benchEvent(i, ctx.recordSize));
  const t0 = now();
  for (let start = 0; start < records; start += batch) await publisher.emitMany(inputs.slice(start, start + batch));
  const stored = (now() - t0) / 1000;
  // close() drains the outbox (every entry acknowledged by the broker and deleted).
  await publisher.close();
  const seconds = (now() - t0) / 1000;
  return {
    name: mode === 'binary' ? 'herald durable: SQLite outbox' : 'herald durable: SQLite outbox, structured',
    events: records,
    seconds,
    events_per_s: records / seconds,
    stored_per_s: records / stored,
    note: `emitMany batches of ${batch}; time until the outbox drained (all acked); stored at ${Math.round(records / stored)}/s${mode === 'structured' ? '; structured CloudEvents' : ''}`,
  };
}

// ---------------------------------------------------------------------------------------------
// 3b. herald serve + HTTP batch ingest.

export interface ServeChild {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

export async function startServe(env: Record<string, string>, port: number): Promise<ServeChild> {
  const child = spawn(process.execPath, [CLI, 'serve', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HERALD_HOST: '127.0.0.1', HERALD_PORT: String(port), ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald serve exited ${child.exitCode}: ${stderr}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`herald serve did not become ready: ${stderr}`);
    }
    await sleep(100);
  }
  return { child, url, stderr: () => stderr, stop };
}

async function postAll(url: string, bodies: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const r = await fetch(`${url}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.status !== 202) throw new Error(`POST /v2/events answered ${r.status}: ${(await r.text()).slice(0, 500)}`);
      await r.arrayBuffer().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function requestBodies(records: number, batch: number, size: number): string[] {
  const bodies: string[] = [];
  for (let start = 0; start < records; start += batch) {
    bodies.push(JSON.stringify(Array.from({ length: Math.min(batch, records - start) }, (_, k) => benchEvent(start + k, size))));
  }
  return bodies;
}

async function pending(url: string): Promise<number> {
  const r = await fetch(`${url}/v2/sinks`);
  const sinks = (await r.json()) as Array<{ pending: number }>;
  return sinks.reduce((a, s) => a + s.pending, 0);
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

const schemaUrl = (schema: string) => `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;

/** `herald serve` with SQLite or PostgreSQL: POST arrays of `batch`; ingest rate and delivered rate. */
export async function heraldServeIngest(ctx: BenchContext, store: 'sqlite' | 'postgres', records: number, port: number, batch = 500, concurrency = 4): Promise<ScenarioResult[]> {
  const topic = await ctx.topic(`serve-${store}`);
  const schema = `herald_bench_${process.pid}_${Date.now()}`;
  const db = store === 'sqlite' ? `sqlite:${join(ctx.tmp, `serve-${Date.now()}.db`)}` : schemaUrl(schema);
  const serve = await startServe({ HERALD_DB: db, HERALD_KAFKA_BROKERS: ctx.brokers, HERALD_KAFKA_TOPIC: topic }, port);
  try {
    // Warm-up: one request through the whole path (connect, metadata).
    await postAll(serve.url, requestBodies(10, 10, ctx.recordSize), 1);
    while ((await pending(serve.url)) > 0) await sleep(50);
    const bodies = requestBodies(records, batch, ctx.recordSize);
    const t0 = now();
    await postAll(serve.url, bodies, concurrency);
    const ingest = (now() - t0) / 1000;
    // Bounded so a slow relay cannot stall the whole run: what was delivered by then counts.
    const deadline = Date.now() + (ctx.quick ? 60_000 : 180_000);
    let left = await pending(serve.url);
    while (left > 0 && Date.now() < deadline) {
      await sleep(25);
      left = await pending(serve.url);
    }
    const delivered = (now() - t0) / 1000;
    const label = store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    return [
      { name: `herald serve ingest: ${label}`, events: records, seconds: ingest, events_per_s: records / ingest, note: `POST /v2/events arrays of ${batch}, ${concurrency} clients; until the last 202` },
      {
        name: `herald serve delivered: ${label}`, events: records - left, seconds: delivered, events_per_s: (records - left) / delivered,
        note: left === 0 ? 'from the first POST until GET /v2/sinks shows 0 pending' : `NOT DRAINED: ${left} of ${records} still pending when the bench stopped waiting`,
      },
    ];
  } finally {
    await serve.stop();
    if (store === 'postgres') await dropSchema(schema);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. End-to-end latency at a fixed rate.

interface Consumer {
  received: Map<string, number>;
  stop(): Promise<void>;
}

/** The same Node consumer for every latency scenario: key of a message → time it arrived. */
async function startConsumer(brokers: string, topic: string, keyOf: (m: { value: Buffer | null; headers: Record<string, string> }) => string | undefined): Promise<Consumer> {
  const source = createKafkaSource({ brokers: brokers.split(','), topics: [topic], from: 'beginning' });
  await source.start();
  const received = new Map<string, number>();
  const loop = (async () => {
    for await (const m of source.messages()) {
      const t = now();
      const k = keyOf(m);
      if (k !== undefined && !received.has(k)) received.set(k, t);
    }
  })().catch(() => undefined);
  return { received, stop: async () => { await source.close(); await loop; } };
}

/** Calls `send(i)` for i in [0, total) at `rate` per second (without waiting for the sends). */
async function paced(total: number, rate: number, send: (i: number) => void): Promise<void> {
  const t0 = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
    while (sent < due) send(sent++);
    await sleep(1);
  }
}

async function waitReceived(c: Consumer, total: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (c.received.size < total && Date.now() < deadline) await sleep(20);
}

function latencyResult(name: string, total: number, seconds: number, lat: number[], note: string): ScenarioResult {
  const s = [...lat].sort((a, b) => a - b);
  return {
    name, events: total, seconds, events_per_s: total / seconds,
    p50_ms: percentile(s, 50), p99_ms: percentile(s, 99), max_ms: s[s.length - 1] ?? Number.NaN,
    note: lat.length < total ? `${note}; ONLY ${lat.length} of ${total} received` : note,
  };
}

export async function e2eHerald(ctx: BenchContext, mode: 'direct' | 'durable', rate: number, seconds: number): Promise<ScenarioResult> {
  const topic = await ctx.topic(`e2e-${mode}`);
  const total = Math.round(rate * seconds);
  const publisher = createPublisher({
    sinks: [kafkaSink(ctx.brokers, topic)],
    ...(mode === 'durable' && { durable: { store: `sqlite:${join(ctx.tmp, `e2e-${Date.now()}.db`)}`, drainTimeoutMs: 60_000 } }),
  });
  const runId = `r${Date.now()}`;
  await publisher.emit(benchEvent(-1, ctx.recordSize, `${runId}-warm`));
  const consumer = await startConsumer(ctx.brokers, topic, (m) => m.headers['ce_id']);
  await waitReceived(consumer, 1, 30_000);
  const called: number[] = new Array(total);
  const returned: number[] = new Array(total);
  const pendingEmits: Promise<unknown>[] = [];
  const t0 = now();
  let failed = 0;
  let lastError = '';
  if (mode === 'durable') {
    // What a user writes: one emit() per event, not awaited by the producer of events.
    await paced(total, rate, (i) => {
      called[i] = now();
      pendingEmits.push(publisher.emit(benchEvent(i, ctx.recordSize, `${runId}-${i}`)).then(
        () => { returned[i] = now(); },
        (err: unknown) => { failed++; lastError = (err as Error).message; },
      ));
    });
  } else {
    // Concurrent emit() calls on a direct publisher fail with OUT_OF_ORDER_SEQUENCE_NUMBER (the
    // Kafka sink does not serialise publish() calls on its idempotent producer), so events are
    // queued and whatever queued up while a call was in flight goes out as one emitMany().
    let queue: number[] = [];
    let inFlight: Promise<void> | undefined;
    const flush = (): void => {
      if (inFlight !== undefined || queue.length === 0) return;
      const batch = queue;
      queue = [];
      inFlight = publisher.emitMany(batch.map((i) => benchEvent(i, ctx.recordSize, `${runId}-${i}`))).then(
        () => { const t = now(); for (const i of batch) returned[i] = t; },
        (err: unknown) => { failed += batch.length; lastError = (err as Error).message; },
      ).finally(() => { inFlight = undefined; flush(); });
      pendingEmits.push(inFlight);
    };
    await paced(total, rate, (i) => {
      called[i] = now();
      queue.push(i);
      flush();
    });
    while (inFlight !== undefined || queue.length > 0) { flush(); await (inFlight ?? sleep(1)); }
  }
  await Promise.all(pendingEmits);
  if (failed > 0) ctx.log(`  ${failed} emits failed: ${lastError}`);
  await waitReceived(consumer, total + 1);
  const elapsed = (now() - t0) / 1000;
  await consumer.stop();
  await publisher.close();
  const fromReturn: number[] = [];
  const fromCall: number[] = [];
  for (let i = 0; i < total; i++) {
    const r = consumer.received.get(`${runId}-${i}`);
    if (r === undefined || returned[i] === undefined) continue;
    fromReturn.push(r - returned[i]!);
    fromCall.push(r - called[i]!);
  }
  fromReturn.sort((a, b) => a - b);
  const what = mode === 'direct'
    ? 'events queued while an emitMany() is in flight go out together (the harness batches them; the Kafka sink would coalesce concurrent calls too); it resolves after acks=all, so the consumer may see a record before it returns (negative)'
    : 'emit() resolves once stored in SQLite (group commit); the relay publishes what it was handed';
  return latencyResult(`e2e latency: herald ${mode}, ${rate.toLocaleString('en-US')}/s`, total, elapsed, fromCall,
    `${failed > 0 ? `${failed} emits FAILED (${lastError.slice(0, 120)}); ` : ''}${rate}/s single emit() calls; emit() called → consumer received; ${what}; from emit()'s return: p50 ${percentile(fromReturn, 50).toFixed(1)} p99 ${percentile(fromReturn, 99).toFixed(1)} ms`);
}

/** kcat -P fed on stdin at the same rate; each line carries its send time; same Node consumer. */
/**
 * One event at a time into an idle `herald serve`: from the POST until the consumer has it,
 * `count` times with a pause between (so each one finds the relay asleep). What an operator
 * sees for a single state change; without the relays being woken by the append it would be
 * the poll interval (100 ms) on top.
 */
export async function e2eServeIdle(ctx: BenchContext, port: number, count: number): Promise<ScenarioResult> {
  const topic = await ctx.topic('serve-idle');
  const serve = await startServe({ HERALD_DB: `sqlite:${join(ctx.tmp, `idle-${Date.now()}.db`)}`, HERALD_KAFKA_BROKERS: ctx.brokers, HERALD_KAFKA_TOPIC: topic }, port);
  const consumer = await startConsumer(ctx.brokers, topic, (m) => m.headers.ce_id);
  const runId = `idle${Date.now()}`;
  const post = async (id: string) => {
    const r = await fetch(`${serve.url}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(benchEvent(0, ctx.recordSize, id)) });
    if (r.status !== 202) throw new Error(`POST answered ${r.status}`);
    await r.arrayBuffer();
  };
  try {
    await post(`${runId}-warm`);
    await waitReceived(consumer, 1);
    const lat: number[] = [];
    const t0 = now();
    for (let i = 0; i < count; i++) {
      await sleep(150); // longer than the relay's poll interval: every event finds it idle
      const id = `${runId}-${i}`;
      const sent = now();
      await post(id);
      const deadline = Date.now() + 10_000;
      while (!consumer.received.has(id) && Date.now() < deadline) await sleep(0.5);
      const at = consumer.received.get(id);
      if (at !== undefined) lat.push(at - sent);
    }
    return latencyResult('e2e latency: herald serve, one event on an idle service', count, (now() - t0) / 1000, lat, `POST /v2/events (one event, SQLite) until a Kafka consumer has it; ${count} events, 150 ms apart; target median < 20 ms`);
  } finally {
    await consumer.stop();
    await serve.stop();
  }
}

export async function e2eKcat(ctx: BenchContext, rate: number, seconds: number): Promise<ScenarioResult> {
  const topic = await ctx.topic('e2e-kcat');
  const total = Math.round(rate * seconds);
  const kcat = spawn('kcat', ['-P', '-b', ctx.brokers, '-t', topic, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  kcat.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => kcat.once('exit', (code) => res(code)));
  const sent: number[] = new Array(total);
  const consumer = await startConsumer(ctx.brokers, topic, (m) => m.value?.subarray(0, 12).toString('latin1').trim());
  const pad = 'x'.repeat(Math.max(0, ctx.recordSize - 13));
  // kcat produces a line it read only once more input arrives: two warm-up lines, one seen.
  kcat.stdin!.write(`${'warm'.padEnd(12)} ${pad}\n`);
  await sleep(50);
  kcat.stdin!.write(`${'warm2'.padEnd(12)} ${pad}\n`);
  await waitReceived(consumer, 1, 30_000);
  const t0 = now();
  await paced(total, rate, (i) => {
    sent[i] = now();
    kcat.stdin!.write(`${String(i).padEnd(12)} ${pad}\n`);
  });
  // kcat holds back lines it has read but not yet produced until more input (or EOF) arrives:
  // closing stdin right after the last line flushes the tail without waiting.
  kcat.stdin!.end();
  await waitReceived(consumer, total + 2);
  const elapsed = (now() - t0) / 1000;
  const code = await exited;
  await consumer.stop();
  if (code !== 0) throw new Error(`kcat exited ${code}: ${stderr}`);
  const lat: number[] = [];
  for (let i = 0; i < total; i++) {
    const r = consumer.received.get(String(i));
    if (r !== undefined) lat.push(r - sent[i]!);
  }
  return latencyResult('e2e latency: reference kcat -P', total, elapsed, lat, `${rate}/s lines written to kcat's stdin → consumer received (includes librdkafka linger.ms=5)`);
}

// ---------------------------------------------------------------------------------------------
// 5. Query latency over many stored events.

// Stored events end an hour ago (within the default retention of 30 days, which a starting
// service enforces at once).
let BASE = Date.now() - 3_600_000;
const severityOf = (i: number): Severity => (i % 1000 === 2 ? 'critical' : i % 100 === 0 ? 'error' : i % 50 === 1 ? 'warning' : 'info');

function storedEvent(i: number): HeraldEvent {
  return normalize({
    id: `ev-${i}`,
    source: `svc/${i % 5}`,
    type: `com.example.t${i % 20}`,
    severity: severityOf(i),
    time: new Date(BASE + i * 1000).toISOString(),
    entity: { kind: 'cluster', id: `c${i % 1000}` },
    message: `event number ${i}`,
    data: { i },
  });
}

export async function queryLatency(ctx: BenchContext, store: 'sqlite' | 'postgres', total: number, reps: number): Promise<ScenarioResult[]> {
  const schema = `herald_bench_q_${process.pid}_${Date.now()}`;
  const url = store === 'sqlite' ? `sqlite:${join(ctx.tmp, `query-${Date.now()}.db`)}` : PG_URL;
  const label = store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  BASE = Date.now() - (total + 3600) * 1000;
  let loader: EventStore | undefined = await openStore(url, store === 'postgres' ? { schema } : {});
  try {
    await loader.migrate();
    const t0 = now();
    for (let start = 0; start < total; start += 1000) {
      await loader.append(Array.from({ length: Math.min(1000, total - start) }, (_, k) => storedEvent(start + k)));
    }
    // Fresh statistics and (PostgreSQL) a visibility map, as autovacuum gives a long-running
    // database: without it PostgreSQL's index-only scans still read every matching row.
    await (store === 'postgres' ? sql`VACUUM ANALYZE` : sql`ANALYZE`).execute(loader.db);
    const loadS = (now() - t0) / 1000;
    ctx.log(`  ${label}: stored ${total} events in ${loadS.toFixed(1)} s (${Math.round(total / loadS)}/s, store.append batches of 1000)`);
    await loader.close();
    loader = undefined;
    return await measureQueries({ label, url, ...(store === 'postgres' && { schema }), total, reps, base: BASE });
  } finally {
    await loader?.close();
    if (store === 'postgres') await dropSchema(schema);
  }
}

/**
 * The query rows over a store loaded with storedEvent(0 … total-1) from `base`: GET
 * /v2/events over HTTP of a service on it. Exported so a loaded store can be measured again.
 */
export async function measureQueries(o: { label: string; url: string; schema?: string; total: number; reps: number; base: number }): Promise<ScenarioResult[]> {
  const { label, url, total, reps, base } = o;
  // Retention keeps every stored event: 10,000,000 of them a second apart span 116 days, and
  // the default 30 days had the starting service delete most of them while it was measured.
  const days = Math.ceil((Date.now() - base) / 86_400_000) + 1;
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0 }, store: { url }, streaming: false, retention: { days } } });
  const service = await startService(config, { ...(o.schema !== undefined && { storeSchema: o.schema }) });
  try {
    const since = new Date(base + Math.floor(total / 2) * 1000).toISOString();
    const until = new Date(base + (Math.floor(total / 2) + 10_000) * 1000).toISOString();
    const shapes = [
      { name: 'entity page', qs: 'entity_kind=cluster&entity_id=c42&limit=50' },
      { name: 'severities error,critical', qs: 'severities=error,critical&limit=100' },
      { name: 'type + time range', qs: `types=com.example.t3&since=${since}&until=${until}&limit=100` },
      { name: 'source, descending, offset 200', qs: 'source=svc/4&order=descending&limit=100&offset=200' },
    ];
    const out: ScenarioResult[] = [];
    for (const shape of shapes) {
      const times: number[] = [];
      let count = '';
      for (let rep = 0; rep < reps + 3; rep++) {
        const q0 = now();
        const r = await fetch(`${service.address}/v2/events?${shape.qs}`);
        await r.arrayBuffer();
        const ms = now() - q0;
        if (r.status !== 200) throw new Error(`GET /v2/events?${shape.qs} answered ${r.status}`);
        count = r.headers.get('event-count') ?? '';
        if (!(Number(count) > 0)) throw new Error(`GET /v2/events?${shape.qs} found nothing (Event-Count ${count})`);
        if (rep >= 3) times.push(ms); // the first three warm the caches and prepared statements
      }
      times.sort((a, b) => a - b);
      const secs = times.reduce((a, b) => a + b, 0) / 1000;
      out.push({
        name: `query ${label}: ${shape.name}`, events: reps, seconds: secs, events_per_s: reps / secs,
        p50_ms: percentile(times, 50), p99_ms: percentile(times, 99), max_ms: times[times.length - 1]!,
        note: `GET /v2/events over ${total} events, ${reps} sequential requests over HTTP; Event-Count ${count}; events/s column = requests/s`,
      });
    }
    return out;
  } finally {
    await service.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 6. Tally throughput.

export function tallyThroughput(total: number): ScenarioResult {
  const [binding] = createBindings([{ name: 'choria', type: 'kafka', brokers: ['127.0.0.1:9'], profile: 'choria' } as SinkConfig]);
  const variants: IncomingMessage[] = [];
  for (let n = 0; n < 1000; n++) {
    const o = { identity: `node${n}.example.net`, component: n % 3 === 0 ? 'server' : 'provisioner', version: `0.${n % 7}.0` };
    const e = n % 4 === 0 ? lifecycle.startup(o) : n % 4 === 1 ? lifecycle.alive(o) : n % 4 === 2 ? lifecycle.shutdown(o)
      : machine.transition({ identity: o.identity, machine: 'hoist', version: '1.0.0', transition: 'go', fromState: 'idle', toState: 'busy' });
    for (const m of binding!.encode(e)) {
      variants.push({ topic: m.topic, key: m.key ?? null, value: m.value, headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])) });
    }
  }
  const tally = new Tally();
  for (let i = 0; i < 2000; i++) tally.observe(decodeMessage(variants[i % variants.length]!)); // warm-up
  const t0 = now();
  for (let i = 0; i < total; i++) tally.observe(decodeMessage(variants[i % variants.length]!));
  const seconds = (now() - t0) / 1000;
  return { name: 'tally: decode + observe (Choria)', events: total, seconds, events_per_s: total / seconds, note: 'decodeMessage + Tally.observe on pre-encoded Choria lifecycle/transition messages, in-process, one core' };
}

// ---------------------------------------------------------------------------------------------
// 7. Memory of herald serve while the broker is down.

export function statusKb(pid: number, key: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function memoryBrokerDown(ctx: BenchContext, records: number, port: number, closedPort: number, batch = 500, concurrency = 4): Promise<ScenarioResult> {
  const serve = await startServe({
    HERALD_DB: `sqlite:${join(ctx.tmp, `memory-${Date.now()}.db`)}`,
    HERALD_KAFKA_BROKERS: `127.0.0.1:${closedPort}`,
    HERALD_KAFKA_TOPIC: 'herald.bench.memory',
  }, port);
  const pid = serve.child.pid!;
  try {
    const startRss = statusKb(pid, 'VmRSS') ?? 0;
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, statusKb(pid, 'VmRSS') ?? 0); }, 50);
    const t0 = now();
    await postAll(serve.url, requestBodies(records, batch, ctx.recordSize), concurrency);
    const seconds = (now() - t0) / 1000;
    await sleep(1000);
    clearInterval(sampler);
    const hwm = statusKb(pid, 'VmHWM') ?? peak;
    const left = await pending(serve.url);
    return {
      name: 'memory: serve, broker down',
      events: records, seconds, events_per_s: records / seconds,
      peak_rss_mb: Math.max(hwm, peak) / 1024,
      note: `VmHWM of the herald serve process; RSS at start ${(startRss / 1024).toFixed(0)} MB; ${left} pending in the outbox afterwards (sink at a closed port)`,
    };
  } finally {
    await serve.stop();
  }
}
