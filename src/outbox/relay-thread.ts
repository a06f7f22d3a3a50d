/**
 * Runs the relays in a worker thread (relay-worker.ts). The main thread keeps everything
 * else: the outbox's status, drain and parked entries read the store as before; the thread's
 * relays are seen through proxies with the SinkRelay face (name, notify, liveStatus, close),
 * its log lines go to the main logger and its counters to the main registry.
 *
 * Why a thread: a relay round (claim, parse, encode, publish, delete) costs about as much CPU
 * as storing the events did, and on one thread the two add up. Measured with `herald serve`
 * and SQLite: 26,000 events/s ingested with no sink, 17,000/s with the relay on the same thread.
 */
import { Worker } from 'node:worker_threads';
import type { SinkConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SinkStatus } from '../sinks/types.js';
import type { OutboxMetrics } from './metrics.js';

export type LiveStatus = Pick<SinkStatus, 'connected'> & { lastError?: { message: string; at: number }; failing: boolean };

/** What outbox.ts needs of a relay, in-process (SinkRelay) or in the thread (a proxy). */
export interface RelayHandle {
  readonly name: string;
  start(): void;
  notify(): void;
  liveStatus(): LiveStatus;
  close(): Promise<void>;
}

export interface RelayThreadData {
  store: { url: string; schema?: string };
  sinks: SinkConfig[];
  member: string;
  logLevel: string;
  relay: { idleMs?: number; summaryEveryMs?: number; leaseRefreshMs?: number; backoff?: { baseMs?: number; maxMs?: number } };
}

export type ToRelayThread = { t: 'notify' } | { t: 'close' };
export type FromRelayThread =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  | { t: 'closed' }
  | { t: 'log'; line: string }
  | { t: 'status'; sink: string; live: LiveStatus }
  | { t: 'metric'; k: 'delivered' | 'failed' | 'retries' | 'parked' | 'publish'; sink: string; v: number };

/** Bound of close(): relays finish a publish in flight (bounded by its own timeout) first. */
const CLOSE_TIMEOUT_MS = 60_000;
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/**
 * A Worker running relay-worker next to this module. When the TypeScript sources run directly
 * (tsx, as in the tests), a worker does not inherit tsx's loader, so it registers it first.
 */
function relayWorker(data: RelayThreadData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./relay-worker.js', import.meta.url), { workerData: data });
  const entry = JSON.stringify(new URL('./relay-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** Re-emits a forwarded pino line on the main logger, at its level, with its fields. */
function relog(logger: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const label = logger.levels.labels[rec.level as number] as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | undefined;
  if (label === undefined) return;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!PINO_FIELDS.has(k)) fields[k] = v;
  logger[label](fields, typeof rec.msg === 'string' ? rec.msg : '');
}

/**
 * Starts the relays of `data.sinks` in a worker thread; resolves once they run. A thread that
 * dies unexpectedly is logged and started again (what it had claimed is still pending in the store).
 */
export async function startRelayThread(data: RelayThreadData, logger: Logger, metrics: OutboxMetrics): Promise<RelayHandle[]> {
  const live = new Map<string, LiveStatus>();
  let worker: Worker;
  let closing: Promise<void> | undefined;
  let notifyQueued = false;
  let restarts = 0;

  const spawn = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const w = relayWorker(data);
    worker = w;
    let ready = false;
    w.on('message', (m: FromRelayThread) => {
      switch (m.t) {
        case 'ready':
          ready = true;
          resolve();
          break;
        case 'failed':
          if (!ready) reject(new Error(`the relay thread could not start: ${m.message}`));
          else logger.error({ err: m.message }, `the relay thread failed: ${m.message}`);
          break;
        case 'log':
          relog(logger, m.line);
          break;
        case 'status':
          live.set(m.sink, m.live);
          break;
        case 'metric':
          if (m.k === 'publish') metrics.publishSeconds.observe({ sink: m.sink }, m.v);
          else metrics[m.k].inc({ sink: m.sink }, m.v);
          break;
        case 'closed':
          break;
      }
    });
    w.on('error', (err) => {
      if (!ready) reject(err);
      else logger.error({ err: err.message }, `the relay thread failed: ${err.message}`);
    });
    w.on('exit', (code) => {
      if (!ready) {
        reject(new Error(`the relay thread exited (code ${code}) before it started`));
        return;
      }
      if (closing !== undefined || w !== worker) return;
      restarts += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));
      logger.error({ code, restarts }, `the relay thread exited unexpectedly (code ${code}); starting it again in ${delay} ms`);
      setTimeout(() => {
        if (closing === undefined) spawn().catch((err: unknown) => logger.error({ err: String(err) }, `the relay thread did not start again: ${String(err)}`));
      }, delay).unref();
    });
  });

  await spawn();

  const closeAll = (): Promise<void> => {
    closing ??= (async () => {
      const w = worker;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ t: 'close' } satisfies ToRelayThread);
      const timer = setTimeout(() => void w.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return closing;
  };

  return data.sinks.map((s) => ({
    name: s.name,
    start: () => undefined, // the thread started them
    notify: () => {
      // One message per tick however many requests stored events in it.
      if (notifyQueued || closing !== undefined) return;
      notifyQueued = true;
      setImmediate(() => {
        notifyQueued = false;
        if (closing === undefined) worker.postMessage({ t: 'notify' } satisfies ToRelayThread);
      });
    },
    liveStatus: () => live.get(s.name) ?? { connected: false, failing: false },
    close: closeAll,
  }));
}
