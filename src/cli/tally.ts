/**
 * `herald tally`: observes lifecycle events (both Choria forms), machine transitions and the
 * other profiles' events from Kafka (a consumer group, so several instances share
 * partitions), NATS or AMQP, and serves Prometheus metrics on /metrics.
 */
import { createServer, type Server } from 'node:http';
import { UsageError } from '../errors.js';
import { createLogger, rateLimitedWarn } from '../log.js';
import { subscribe, type SubscribeOptions } from '../consumer/subscribe.js';
import { Tally } from '../tally/tally.js';
import { parseDuration, parseFlags, parseIntFlag } from './args.js';
import { SOURCE_FLAGS, sourceFromFlags } from './source-flags.js';

const USAGE = `usage: herald tally (--brokers HOST:PORT[,...] | --nats URL | --amqp URL [--exchange NAME] [--binding PATTERN])
       [--topic T ... | --pattern REGEX] [--from-beginning] [--group NAME | --no-group]
       [--component NAME] [--port 8080] [--host 127.0.0.1] [--prefix lifecycle_tally]
       [--expiry 80m] [--sweep-interval 1m]
defaults: Kafka topics matching the Choria lifecycle and machine-transition topics, consumer
group herald-tally (instances with the same group share partitions), from now on.`;

/** Kafka topics (and NATS subjects / AMQP bindings) Choria publishes lifecycle events on. */
export const CHORIA_TOPIC_PATTERN = /^choria\.(lifecycle\.event\..+|machine\.transition)$/;
export const CHORIA_SUBJECTS = ['choria.lifecycle.event.>', 'choria.machine.transition'];
export const CHORIA_BINDINGS = ['choria.lifecycle.event.#', 'choria.machine.transition'];

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
  const prefix = typeof values.prefix === 'string' ? values.prefix : 'lifecycle_tally';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new UsageError(`--prefix must be a Prometheus metric name prefix (letters, digits, _ and :), got "${prefix}"`, [{ path: '--prefix', message: 'invalid metric prefix' }]);
  }
  const expiryMs = typeof values.expiry === 'string' ? parseDuration(values.expiry, '--expiry') : 80 * 60_000;
  const sweepMs = typeof values['sweep-interval'] === 'string' ? parseDuration(values['sweep-interval'], '--sweep-interval') : 60_000;
  const component = typeof values.component === 'string' ? values.component : undefined;
  const abort = new AbortController();
  const options: SubscribeOptions = {
    ...sourceFromFlags(values, { group: 'herald-tally', read: { kafka: { pattern: CHORIA_TOPIC_PATTERN }, nats: { topics: CHORIA_SUBJECTS }, amqp: { topics: CHORIA_BINDINGS } } }),
    signal: abort.signal,
    logger,
  };

  const tally = new Tally({ prefix, expiryMs, ...(component !== undefined && { component }) });
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
  logger.info({ metrics: `http://${listening}/metrics`, prefix, component: component ?? 'all' }, 'tally serving metrics');

  const sweep = setInterval(() => {
    const expired = tally.sweep();
    if (expired > 0) logger.info({ expired, nodes: tally.nodeCount }, 'expired nodes not seen recently');
  }, sweepMs);
  sweep.unref();
  const warn = rateLimitedWarn((msg) => logger.warn(msg));
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const item of subscribe(options)) {
      if (item.ok) {
        tally.observe(item.decoded);
      } else {
        tally.error(component);
        warn(`cannot process a message on ${item.message.topic}: ${item.error.message}`);
      }
      await item.message.ack();
    }
  } finally {
    clearInterval(sweep);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return 0;
}
