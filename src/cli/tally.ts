/**
 * `herald tally`: Choria's tally command (choria-io/tally) over Kafka, NATS or AMQP. It
 * observes lifecycle events of one component (`--component`, default `server`), machine
 * transitions and exec watcher states, and serves Prometheus metrics on /metrics with the
 * tally command's names (`--prefix`, default `choria_tally`), plus counters for the other
 * profiles' events. Kafka readers form a consumer group, so several instances share partitions.
 */
import { createServer, type Server } from 'node:http';
import { UsageError } from '../errors.js';
import { createLogger, rateLimitedWarn } from '../log.js';
import { subscribe, type SubscribeOptions } from '../consumer/subscribe.js';
import { EXEC_WATCHER_SUBJECT, MACHINE_SUBJECT } from '../profiles/choria/protocol.js';
import { Tally, isTallyComponent } from '../tally/tally.js';
import { parseDuration, parseFlags, parseIntFlag } from './args.js';
import { SOURCE_FLAGS, sourceFromFlags } from './source-flags.js';

const USAGE = `usage: herald tally (--brokers HOST:PORT[,...] | --nats URL | --amqp URL [--exchange NAME] [--binding PATTERN])
       [--topic T ... | --pattern REGEX] [--from-beginning] [--group NAME | --no-group]
       [--component server] [--port 8080] [--host 127.0.0.1] [--prefix choria_tally]
       [--expiry 80m] [--sweep-interval 1m]
--component: the component whose lifecycle events are counted (Choria's tally: default server);
  '*' every component, '' none (only transitions and exec watcher states).
--prefix: the metric name prefix; choria_tally is the Choria tally command's (its dashboards
  use it), lifecycle_tally the go-choria library's default.
defaults: the Choria subjects choria.lifecycle.event.*.<component>, choria.machine.transition
and choria.machine.watcher.exec.state (Kafka: topics of these names), consumer group
herald-tally (instances with the same group share partitions), from now on.`;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What tally reads by default: Choria's three subscriptions (upstream lifecycle/tally/tally.go Run). */
export function choriaReads(component: string): { pattern: RegExp; subjects: string[]; bindings: string[] } {
  const lifecycle = component === '' ? [] : [`choria.lifecycle.event.*.${component === '*' ? '*' : component}`];
  const subjects = [...lifecycle, MACHINE_SUBJECT, EXEC_WATCHER_SUBJECT];
  const comp = component === '*' ? '[^.]+' : escapeRegex(component);
  const pattern = new RegExp(`^choria\\.(${component === '' ? '' : `lifecycle\\.event\\.[^.]+\\.${comp}|`}machine\\.transition|machine\\.watcher\\.exec\\.state)$`);
  // NATS `*` and an AMQP topic binding's `*` both match exactly one token.
  return { pattern, subjects, bindings: subjects };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('tally', argv, {
    ...SOURCE_FLAGS,
    component: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    prefix: { type: 'string' },
    expiry: { type: 'string' },
    'sweep-interval': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const logger = createLogger({ level: (values['log-level'] as 'info' | undefined) ?? 'info', name: 'herald-tally' });
  const port = typeof values.port === 'string' ? parseIntFlag(values.port, '--port', 0, 65535) : 8080;
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const prefix = typeof values.prefix === 'string' ? values.prefix : 'choria_tally';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new UsageError(`--prefix must be a Prometheus metric name prefix (letters, digits, _ and :), got "${prefix}"`, [{ path: '--prefix', message: 'invalid metric prefix' }]);
  }
  const expiryMs = typeof values.expiry === 'string' ? parseDuration(values.expiry, '--expiry') : 80 * 60_000;
  const sweepMs = typeof values['sweep-interval'] === 'string' ? parseDuration(values['sweep-interval'], '--sweep-interval') : 60_000;
  const component = typeof values.component === 'string' ? values.component : 'server';
  if (!isTallyComponent(component)) {
    throw new UsageError(`--component must be one subject token (no dots, spaces, * or >), '*' for every component or '' for none, got "${component}"`, [{ path: '--component', message: 'invalid component' }]);
  }
  if (component === '') logger.warn('Component was not specified, disabling lifecycle tallies');
  const reads = choriaReads(component);
  const abort = new AbortController();
  const options: SubscribeOptions = {
    ...sourceFromFlags(values, { group: 'herald-tally', read: { kafka: { pattern: reads.pattern }, nats: { topics: reads.subjects }, amqp: { topics: reads.bindings } } }),
    signal: abort.signal,
    logger,
  };

  const warn = rateLimitedWarn((msg) => logger.warn(msg));
  const tally = new Tally({ prefix, expiryMs, component, onError: (topic, reason) => warn(`could not process a message on ${topic}: ${reason}`) });
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
      tally.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': tally.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found; metrics are at /metrics"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError(`--port ${port}: cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const listening = typeof addr === 'object' && addr !== null ? `${addr.address}:${addr.port}` : `${host}:${port}`;
  logger.info({ metrics: `http://${listening}/metrics`, prefix, component }, 'tally serving metrics');

  const sweep = setInterval(() => {
    const expired = tally.sweep();
    if (expired > 0) logger.info({ expired, nodes: tally.nodeCount }, 'expired nodes not seen recently');
  }, sweepMs);
  sweep.unref();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const item of subscribe(options)) {
      // Choria's inputs are read from the bytes by Choria's rules; the decode chain's result
      // counts only the other profiles' events.
      tally.observeMessage(item.message, item.ok ? item.decoded : undefined);
      await item.message.ack();
    }
  } finally {
    clearInterval(sweep);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return 0;
}
