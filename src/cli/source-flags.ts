/**
 * Source flags shared by the consuming commands (`tally`, `bridge`): which transport, which
 * topics/subjects/bindings, from where, and consumer group or broadcast.
 */
import { UsageError } from '../errors.js';
import type { SubscribeOptions } from '../consumer/subscribe.js';
import { parseAmqpUrl, parseNatsUrl } from '../transport-url.js';
import { cliBrokers, parsePattern } from './topics.js';

export const SOURCE_FLAGS = {
  brokers: { type: 'string' },
  nats: { type: 'string' },
  amqp: { type: 'string' },
  exchange: { type: 'string' },
  binding: { type: 'string', multiple: true },
  topic: { type: 'string', multiple: true },
  pattern: { type: 'string' },
  stream: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  group: { type: 'string' },
  'no-group': { type: 'boolean' },
  'producer-properties': { type: 'string' },
} as const;

export interface SourceDefaults {
  /** Consumer group used unless --group or --no-group is given; undefined = broadcast. */
  group?: string;
  kafkaPattern?: RegExp;
  natsSubjects?: string[];
  amqpBindings?: string[];
}

/** Checks --nats / --amqp URLs up front, so a bad one is an error naming the flag, not `url`. */
export function checkTransportUrls(values: Record<string, unknown>): void {
  if (typeof values.nats === 'string') parseNatsUrl(values.nats, '--nats');
  if (typeof values.amqp === 'string') parseAmqpUrl(values.amqp, '--amqp');
}

/** Builds the transport part of subscribe() options from the flags. */
export function sourceFromFlags(values: Record<string, unknown>, defaults: SourceDefaults): Pick<SubscribeOptions, 'kafka' | 'nats' | 'amqp' | 'consumer' | 'from'> {
  if (values.group !== undefined && values['no-group'] === true) {
    throw new UsageError('--group and --no-group exclude each other', [{ path: '--no-group', message: 'conflicts with --group' }]);
  }
  const given = ['brokers', 'nats', 'amqp'].filter((k) => typeof values[k] === 'string');
  if (given.length > 1) {
    throw new UsageError(`choose one source: --${given.join(' or --')}`, [{ path: `--${given[1]}`, message: `conflicts with --${given[0]}` }]);
  }
  checkTransportUrls(values);
  const topics = (values.topic as string[] | undefined) ?? [];
  const out: Pick<SubscribeOptions, 'kafka' | 'nats' | 'amqp' | 'consumer' | 'from'> = {
    consumer: values['no-group'] === true
      ? 'broadcast'
      : typeof values.group === 'string' ? { group: values.group } : defaults.group !== undefined ? { group: defaults.group } : 'broadcast',
    from: values['from-beginning'] === true ? 'beginning' : 'latest',
  };
  if (typeof values.nats === 'string') {
    const subjects = topics.length > 0 ? topics : defaults.natsSubjects;
    if (!subjects) throw new UsageError('--topic SUBJECT is required with --nats (wildcards allowed)', [{ path: '--topic', message: 'is required' }]);
    out.nats = { url: values.nats, subjects, ...(typeof values.stream === 'string' && { stream: values.stream }) };
  } else if (typeof values.amqp === 'string') {
    const bindings = (values.binding as string[] | undefined) ?? defaults.amqpBindings ?? ['#'];
    out.amqp = { url: values.amqp, binding: bindings, ...(typeof values.exchange === 'string' && { exchange: values.exchange }) };
  } else {
    const pattern = typeof values.pattern === 'string' ? parsePattern(values.pattern) : topics.length === 0 ? defaults.kafkaPattern : undefined;
    if (topics.length === 0 && pattern === undefined) {
      throw new UsageError('give --topic T (repeatable) or --pattern REGEX', [{ path: '--topic', message: 'is required (or --pattern)' }]);
    }
    out.kafka = {
      brokers: cliBrokers(values)!,
      ...(topics.length > 0 && { topics }),
      ...(pattern !== undefined && { pattern }),
      ...(typeof values['producer-properties'] === 'string' && { producerProperties: values['producer-properties'] }),
    };
  }
  return out;
}
