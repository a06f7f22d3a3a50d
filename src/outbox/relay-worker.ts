/**
 * The relay thread: runs the sinks' relays on a connection of its own to the store, so
 * claiming, encoding and publishing never compete with the API (or a durable publisher's
 * emit) for the main thread. relay-thread.ts starts it and is the other end of the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import type { SinkConfig } from '../config/schema.js';
import { getProfile } from '../profiles/index.js';
import { createSink } from '../sinks/index.js';
import { openStore } from '../store/index.js';
import type { RelayMetrics } from './metrics.js';
import { SinkRelay, type RelayOptions } from './relay.js';
import type { OutboxDb } from './sql.js';
import type { FromRelayThread, RelayThreadData, ToRelayThread } from './relay-thread.js';

const port = parentPort!;
const data = workerData as RelayThreadData;
const post = (m: FromRelayThread): void => port.postMessage(m);

/** Log lines go to the main thread's logger (tests and embedders capture them there). */
function forwardingLogger(level: string): Logger {
  return pino({ level, base: null, timestamp: false }, { write: (line: string) => post({ t: 'log', line }) });
}

/** Counter increments and latency observations, applied to the main thread's registry. */
function forwardingMetrics(): RelayMetrics {
  const counter = (k: 'delivered' | 'failed' | 'retries' | 'parked') => ({
    inc: (labels: { sink: string }, value = 1) => post({ t: 'metric', k, sink: labels.sink, v: value }),
  });
  return {
    delivered: counter('delivered'),
    failed: counter('failed'),
    retries: counter('retries'),
    parked: counter('parked'),
    publishSeconds: { observe: (labels, value) => post({ t: 'metric', k: 'publish', sink: labels.sink, v: value }) },
  };
}

async function main(): Promise<void> {
  const logger = forwardingLogger(data.logLevel);
  const store = await openStore(data.store.url, { logger, ...(data.store.schema !== undefined && { schema: data.store.schema }) });
  const metrics = forwardingMetrics();
  // Live state (connected, failing, last error) for GET /v2/sinks, sent when it changes.
  const last = new Map<string, string>();
  const report = () => {
    for (const r of relays) {
      const live = r.liveStatus();
      const text = JSON.stringify(live);
      if (last.get(r.name) === text) continue;
      last.set(r.name, text);
      post({ t: 'status', sink: r.name, live });
    }
  };
  const relays: SinkRelay[] = data.sinks.map((config: SinkConfig) => new SinkRelay({
    db: store.db as unknown as OutboxDb,
    dialect: store.dialect,
    config,
    sink: createSink(config, { logger: logger.child({ sink: config.name }) }),
    profile: getProfile(config.profile ?? 'cloudevents'),
    logger,
    metrics,
    member: data.member,
    ...(data.relay as Partial<RelayOptions>),
    onStatus: () => report(),
  }));
  for (const r of relays) r.start();
  // Also on a timer: liveStatus() also depends on the sink's own connection state.
  const timer = setInterval(report, 100);

  let closing = false;
  port.on('message', (m: ToRelayThread) => {
    if (m.t === 'notify') {
      for (const r of relays) r.notify();
    } else if (m.t === 'close' && !closing) {
      closing = true;
      void (async () => {
        await Promise.all(relays.map((r) => r.close()));
        clearInterval(timer);
        report();
        await store.close().catch(() => undefined);
        post({ t: 'closed' });
        port.close();
      })();
    }
  });
  post({ t: 'ready' });
}

main().catch((err: unknown) => {
  post({ t: 'failed', message: (err as Error)?.message ?? String(err) });
  port.close();
});
