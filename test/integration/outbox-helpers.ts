/**
 * Shared pieces of the outbox and durable-delivery integration tests (not a test file):
 * reading a topic back with a real consumer, order and duplicate checks, posting events,
 * and running `herald serve` as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/net.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { HeraldConfigInput } from '../../src/config/schema.js';
import type { Logger } from '../../src/log.js';
import { startService, type Service } from '../../src/service/index.js';
import { KafkaSource } from '../../src/transports/kafka/source.js';
import { CLI, ROOT } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

export interface Received {
  id: string;
  key: string | null;
  partition: number;
  offset: string;
}

/** Reads `topic` from the beginning until every id in `expected` was seen or `timeoutMs` passed. */
export async function readTopic(brokers: string, topic: string, expected: ReadonlySet<string>, timeoutMs = 60_000): Promise<Received[]> {
  const source = new KafkaSource({ brokers: brokers.split(','), topics: [topic], from: 'beginning', timeoutMs: 30_000 });
  const out: Received[] = [];
  const missing = new Set(expected);
  const timer = setTimeout(() => void source.close(), timeoutMs);
  try {
    for await (const m of source.messages()) {
      const id = m.headers['ce_id'] ?? '';
      out.push({ id, key: m.key ?? null, partition: m.partition ?? -1, offset: m.offset ?? '' });
      missing.delete(id);
      if (missing.size === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await source.close();
  }
  return out;
}

export interface DeliveryReport {
  missing: string[];
  duplicates: number;
  /** Keys whose first copies arrived out of the order they were accepted in. */
  orderViolations: string[];
}

/**
 * Compares what arrived with what was accepted. `sentByKey` holds, per key, the ids in the
 * order the API accepted them; per key, the first copy of each id must arrive in that order.
 */
export function checkDelivery(received: readonly Received[], sentByKey: ReadonlyMap<string, readonly string[]>): DeliveryReport {
  const seen = new Map<string, number>();
  for (const r of received) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  const missing: string[] = [];
  const orderViolations: string[] = [];
  // Offsets only order records within a partition, and one key lives in one partition.
  const byPartitionOrder = new Map<string, number>();
  for (const r of received) {
    if (!byPartitionOrder.has(r.id)) byPartitionOrder.set(r.id, Number(r.offset));
  }
  for (const [key, ids] of sentByKey) {
    let last = -1;
    let violated = false;
    for (const id of ids) {
      const at = byPartitionOrder.get(id);
      if (at === undefined) {
        missing.push(id);
        continue;
      }
      if (at < last) violated = true;
      last = at;
    }
    if (violated) orderViolations.push(key);
  }
  return { missing, duplicates, orderViolations };
}

/** POSTs events to `/v2/events`; returns the status, the accepted ids and the latency. */
export async function postEvents(base: string, events: unknown[]): Promise<{ status: number; ids: string[]; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  const body = (await res.json().catch(() => ({}))) as { ids?: string[] };
  return { status: res.status, ids: body.ids ?? [], ms: performance.now() - t0 };
}

export async function sinkStatus(base: string): Promise<Array<Record<string, unknown> & { name: string; pending: number; delivered: number; connected: boolean; lastError: string | null }>> {
  const res = await fetch(`${base}/v2/sinks`);
  return (await res.json()) as never;
}

export { waitFor } from '../helpers/wait.js';


export { freePort };

export interface ServeProcess {
  child: ChildProcess;
  base: string;
  /** Everything the process wrote to stderr (its log). */
  log(): string;
  /** SIGTERM and wait; SIGKILL after 15 s. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `herald serve` (the built CLI) and resolves once it listens. */
export async function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, HERALD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const proc: ServeProcess = {
    child,
    base,
    log: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitFor('herald serve to listen', async () => {
      if (child.exitCode !== null) throw new Error(`herald serve exited with ${child.exitCode}:\n${stderr}`);
      try {
        return (await fetch(`${base}/healthz`)).ok;
      } catch {
        return false;
      }
    }, 30_000);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

/** An event of producer `p`, number `n`, on one of that producer's keys. */
export function streamEvent(run: string, p: number, n: number, keysPerProducer = 8): { id: string; source: string; type: string; partitionkey: string; data: { p: number; n: number } } {
  return { id: `${run}-${p}-${n}`, source: 'herald-test', type: 'dev.herald.test.stream', partitionkey: `p${p}-k${n % keysPerProducer}`, data: { p, n } };
}

/** A logger that keeps its lines (parsed) for assertions; `print` also echoes warnings. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** Starts the service in-process with the outbox attached, on a free port. */
export async function startTestService(input: HeraldConfigInput, options: { logger?: Logger; storeSchema?: string; relay?: { idleMs?: number } } = {}): Promise<Service> {
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0 }, ...input } });
  return startService(config, {
    ...(options.logger !== undefined && { logger: options.logger }),
    ...(options.storeSchema !== undefined && { storeSchema: options.storeSchema }),
    ...(options.relay !== undefined && { relay: options.relay }),
  });
}
