/**
 * `herald bridge`: consume from one transport and publish to a configured sink through the
 * outbox, keeping event ids — e.g. Choria's lifecycle subjects on NATS into a replicated
 * Kafka topic. A message is acknowledged to its source only after it is stored with its
 * outbox entry, so a crash or a restart of either side loses nothing (at-least-once; the
 * store drops repeats by id).
 */
import { subscribe, type SubscribeOptions } from '../consumer/subscribe.js';
import { isHeraldError, UsageError } from '../errors.js';
import { createLogger, rateLimitedWarn } from '../log.js';
import { openDurablePipeline } from '../pipeline/durable.js';
import { getProfile, type ProfileName } from '../profiles/registry.js';
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

  const pipeline = await openDurablePipeline({
    storeUrl: config.store.url,
    sinks: [sink],
    streaming: config.streaming,
    logger,
    redactKeys: config.redact.keys,
  });
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
        // The decoded event keeps its id and time; ingest validates, redacts and stores it with
        // its outbox entry before the source hears it was taken.
        try {
          await pipeline.ingest.events(item.decoded.event);
          bridged++;
        } catch (err) {
          // An event Herald would refuse at its API (invalid, too large for the sink) is skipped
          // like an undecodable message; a store failure is not (the message stays unacknowledged).
          if (!isHeraldError(err) || (err.code !== 'INVALID_EVENT' && err.code !== 'PAYLOAD_TOO_LARGE')) throw err;
          undecodable++;
          warn(`skipping a message on ${item.message.topic} that Herald cannot accept: ${err.message}`);
        }
      } else {
        undecodable++;
        warn(`skipping an undecodable message on ${item.message.topic}: ${item.error.message}`);
      }
      await item.message.ack();
    }
  } finally {
    logger.info({ bridged, undecodable }, 'bridge stopping; delivering what is queued');
    await pipeline.outbox.drain(10_000).catch((err: unknown) => logger.warn({ err: String(err) }, 'not everything was delivered before stopping; it stays queued'));
    await pipeline.close();
  }
  return 0;
}
