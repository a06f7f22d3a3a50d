/**
 * `herald bridge`: consume from one transport and publish to a configured sink through the
 * outbox, keeping event ids — e.g. Choria's lifecycle subjects on NATS into a replicated
 * Kafka topic. A message is acknowledged to its source only after it is stored with its
 * outbox entry, so a crash or a restart of either side loses nothing (at-least-once; the
 * store drops repeats by id).
 */
import { subscribe, type SubscribeOptions } from '../consumer/subscribe.js';
import { UsageError } from '../errors.js';
import { createRedactor } from '../events/redact.js';
import { createLogger, rateLimitedWarn } from '../log.js';
import { createOutbox } from '../outbox/index.js';
import { getProfile } from '../profiles/index.js';
import type { ProfileName } from '../profiles/types.js';
import { openStore } from '../store/index.js';
import { parseFlags } from './args.js';
import { CONFIG_FLAGS, configFromFlags, namedSink } from './config-flags.js';
import { SOURCE_FLAGS, sourceFromFlags } from './source-flags.js';

const HELP = `usage: herald bridge --sink NAME [--config FILE] [--db URL]
       (--brokers HOST:PORT | --nats URL [--stream NAME] | --amqp URL [--exchange NAME] [--binding PATTERN ...])
       [--topic T ... | --pattern REGEX] [--from-beginning] [--group NAME | --no-group] [--profile NAME]

Consumes from the source and delivers every decoded event, with its original id, to the
configured sink NAME through the durable outbox (default consumer group herald-bridge).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('bridge', argv, {
    ...SOURCE_FLAGS,
    ...CONFIG_FLAGS,
    sink: { type: 'string' },
    profile: { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const config = configFromFlags(values);
  const sink = namedSink(config, values.sink);
  // Otherwise every message would be stored and acknowledged to its source, but never published.
  if (!config.streaming) {
    throw new UsageError('streaming is switched off (HERALD_STREAMING=false / streaming: false): nothing would deliver what the bridge consumes', [{ path: 'HERALD_STREAMING', message: 'is false' }]);
  }
  if (sink.enabled === false) {
    const key = `sinks[${config.sinks.indexOf(sink)}].enabled`;
    throw new UsageError(`sink "${sink.name}" is disabled (${key}: false): nothing would deliver what the bridge consumes`, [{ path: key, message: 'is false' }]);
  }
  const preferred = typeof values.profile === 'string' ? (getProfile(values.profile).name as ProfileName) : undefined;
  const logger = createLogger({ level: config.logLevel, name: 'herald-bridge' });
  const abort = new AbortController();
  const options: SubscribeOptions = {
    ...sourceFromFlags(values, { group: 'herald-bridge' }),
    ...(preferred !== undefined && { profile: preferred }),
    signal: abort.signal,
    logger,
  };

  const store = await openStore(config.store.url, { logger });
  await store.migrate();
  const outbox = await createOutbox({ store, config: { streaming: config.streaming, sinks: [sink] }, logger });
  const redact = createRedactor(config.redact.keys);
  const warn = rateLimitedWarn((msg) => logger.warn(msg));
  let bridged = 0;
  let undecodable = 0;
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ sink: sink.name }, 'bridge started');
  try {
    for await (const item of subscribe(options)) {
      if (item.ok) {
        await store.append([redact(item.decoded.event)], { sinks: outbox.sinks.sinkNames });
        outbox.notify();
        bridged++;
      } else {
        undecodable++;
        warn(`skipping an undecodable message on ${item.message.topic}: ${item.error.message}`);
      }
      await item.message.ack();
    }
  } finally {
    logger.info({ bridged, undecodable }, 'bridge stopping; delivering what is queued');
    await outbox.drain(10_000).catch((err: unknown) => logger.warn({ err: String(err) }, 'not everything was delivered before stopping; it stays queued'));
    await outbox.close();
    await store.close();
  }
  return 0;
}
