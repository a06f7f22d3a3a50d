/**
 * Transport flags shared by the commands (`--brokers`, `--nats`, `--amqp`, `--exchange`,
 * `--producer-properties`, ...): which transport a command talks to, and a sink config built
 * from them and validated like any configured sink, problems named by flag.
 */
import { loadConfig } from '../config/load.js';
import { validateSinks, type SinkConfig, type SinkKeyNamer } from '../config/sinks.js';
import { UsageError } from '../errors.js';
import { resolveKafkaConnection } from '../transports/kafka/connection.js';
import { SOURCE_TRANSPORTS, TRANSPORT_NAMES, TRANSPORTS, type TransportName } from '../transports/registry.js';
import { parseAmqpUrl, parseNatsUrl } from '../transports/shared/url.js';
import { parseBrokers } from '../transports/kafka/address.js';

export const TRANSPORT_FLAGS = {
  brokers: { type: 'string' },
  nats: { type: 'string' },
  amqp: { type: 'string' },
  exchange: { type: 'string' },
  'producer-properties': { type: 'string' },
} as const;

/** Keys of a sink that are flags of every command, besides each transport's own (TransportDefinition.cli). */
const COMMON_KEY_FLAGS: Record<string, string> = { topic: '--topic', profile: '--profile', mode: '--mode', timeoutMs: '--timeout', type: '--brokers, --nats, --amqp or --webhook' };

/** Names a sink key the way the command line spells it (any transport's flag for it). */
export const flagName: SinkKeyNamer = (_i, key) => {
  const own = Object.values(TRANSPORTS).map((t) => t.cli?.keys[key]).find((f) => f !== undefined);
  return own ?? COMMON_KEY_FLAGS[key] ?? `--${key}`;
};

/** Names a sink key by the flags of one transport first (`url` is --webhook for a webhook sink). */
export function flagNamer(type: TransportName): SinkKeyNamer {
  return (i, key) => TRANSPORTS[type].cli?.keys[key] ?? flagName(i, key);
}

/** Transports that have a command-line flag (--brokers, --nats, --amqp, --webhook): what `emit` can publish to. */
export const SINK_FLAG_TRANSPORTS = TRANSPORT_NAMES.filter((t) => TRANSPORTS[t].cli !== undefined);

/**
 * The transport the flags choose among `among` (the readable ones by default; `emit` passes
 * SINK_FLAG_TRANSPORTS): the one whose flag is given, else Kafka (--brokers,
 * --producer-properties or the configuration).
 */
export function chosenTransport<T extends TransportName = 'kafka' | 'nats' | 'amqp'>(values: Record<string, unknown>, among: readonly TransportName[] = SOURCE_TRANSPORTS): T {
  const given = among.filter((t) => TRANSPORTS[t].cli !== undefined && typeof values[TRANSPORTS[t].cli!.flag.slice(2)] === 'string');
  if (given.length > 1) {
    const flags = given.map((t) => TRANSPORTS[t].cli!.flag);
    throw new UsageError(`choose one transport: ${flags.join(' or ')}`, [{ path: flags[1]!, message: `conflicts with ${flags[0]}` }]);
  }
  return (given[0] ?? 'kafka') as T;
}

/**
 * The brokers a command talks to: `--brokers`, else bootstrap.servers of
 * `--producer-properties`, else HERALD_KAFKA_BROKERS or the first kafka sink of `--config`.
 * Returns undefined when none is known and `needed` is false.
 */
export function cliBrokers(values: Record<string, unknown>, needed = true): string[] | undefined {
  if (typeof values.brokers === 'string') return parseBrokers(values.brokers);
  if (typeof values['producer-properties'] === 'string') {
    return resolveKafkaConnection({ producerProperties: values['producer-properties'] as string }, 'herald-cli').brokers;
  }
  const cfg = loadConfig({ ...(typeof values.config === 'string' && { file: values.config }) });
  const sink = cfg.sinks.find((s) => s.type === 'kafka' && s.brokers !== undefined);
  if (sink?.type === 'kafka' && sink.brokers !== undefined) return [...sink.brokers];
  if (needed) {
    throw new UsageError('--brokers is required (HOST:PORT[,HOST:PORT...]), or set HERALD_KAFKA_BROKERS or a kafka sink in --config', [{ path: '--brokers', message: 'is required' }]);
  }
  return undefined;
}

/** Checks --nats / --amqp URLs up front, so a bad one is an error naming the flag, not `url`. */
export function checkTransportUrls(values: Record<string, unknown>): void {
  if (typeof values.nats === 'string') parseNatsUrl(values.nats, '--nats');
  if (typeof values.amqp === 'string') parseAmqpUrl(values.amqp, '--amqp');
}

/**
 * Flags with the Kafka fallback applied: without --brokers and --producer-properties, the
 * brokers of HERALD_KAFKA_BROKERS or the first kafka sink of --config.
 */
export function withBrokers(values: Record<string, unknown>): Record<string, unknown> {
  if (chosenTransport(values) !== 'kafka' || typeof values.brokers === 'string' || typeof values['producer-properties'] === 'string') return values;
  return { ...values, brokers: cliBrokers(values)!.join(',') };
}

/**
 * A one-sink config from the flags (`emit`), validated like a configured sink; a problem is a
 * UsageError naming the flag (exit 2). `common` holds the keys every transport shares.
 */
export function sinkFromFlags(values: Record<string, unknown>, common: Pick<SinkConfig, 'name' | 'profile' | 'topic' | 'mode' | 'timeoutMs'>): SinkConfig {
  checkTransportUrls(values);
  const type = chosenTransport<TransportName>(values, SINK_FLAG_TRANSPORTS);
  const raw = { ...common, type, ...TRANSPORTS[type].cli!.sink(type === 'kafka' ? withBrokers(values) : values) };
  try {
    return validateSinks([raw], 'flags', flagNamer(type))[0]!;
  } catch (err) {
    const e = err as UsageError;
    throw new UsageError(e.message.replace(/^invalid flags: /, ''), e.details);
  }
}
