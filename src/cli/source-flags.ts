/**
 * Source flags shared by the consuming commands (`tally`, `bridge`): which transport, which
 * topics/subjects/bindings, from where, and consumer group or broadcast.
 */
import { UsageError } from '../errors.js';
import type { SubscribeOptions } from '../consumer/subscribe.js';
import { TRANSPORTS, type TransportName } from '../transports/registry.js';
import type { ReadDefaults } from '../transports/types.js';
import { checkTransportUrls, chosenTransport, withBrokers } from './transport-flags.js';

type SourceTransport = Exclude<TransportName, 'stdout'>;

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
  /** What to read per transport when no --topic/--pattern/--binding is given. */
  read?: Partial<Record<string, ReadDefaults>>;
}

/** Builds the transport part of subscribe() options from the flags. */
export function sourceFromFlags(values: Record<string, unknown>, defaults: SourceDefaults): Pick<SubscribeOptions, SourceTransport | 'consumer' | 'from'> {
  if (values.group !== undefined && values['no-group'] === true) {
    throw new UsageError('--group and --no-group exclude each other', [{ path: '--no-group', message: 'conflicts with --group' }]);
  }
  checkTransportUrls(values);
  const type = chosenTransport(values);
  return {
    consumer: values['no-group'] === true
      ? 'broadcast'
      : typeof values.group === 'string' ? { group: values.group } : defaults.group !== undefined ? { group: defaults.group } : 'broadcast',
    from: values['from-beginning'] === true ? 'beginning' : 'latest',
    [type]: TRANSPORTS[type].cli!.source(withBrokers(values), defaults.read?.[type] ?? {}),
  };
}
