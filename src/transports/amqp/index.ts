/**
 * The AMQP 0-9-1 (RabbitMQ) transport's definition: persistent, mandatory publishes with
 * publisher confirms to a durable topic exchange. amqplib is loaded only by load().
 */
import { UsageError } from '../../errors.js';
import { flag, flagList } from '../shared/flags.js';
import type { TransportDefinition } from '../types.js';
import { AMQP_SINK_OPTIONS, buildAmqpOptions, DEFAULT_EXCHANGE, DEFAULT_MAX_MESSAGE_BYTES, type AmqpOptions, type AmqpResolved, type AmqpSourceSpec } from './options.js';

export { DEFAULT_EXCHANGE, type AmqpOptions, type AmqpResolved, type AmqpSourceSpec } from './options.js';

export const amqpTransport: TransportDefinition<AmqpOptions, AmqpResolved, AmqpSourceSpec> = {
  name: 'amqp',
  summary: 'RabbitMQ (AMQP 0-9-1): a durable topic exchange, persistent messages, publisher confirms',
  sinkOptions: AMQP_SINK_OPTIONS,
  check: (o, at) => (/^amqps?:\/\//.test(o.url) ? [] : [{ path: at('url'), message: 'must be an amqp:// or amqps:// URL' }]),
  resolve(o, at) {
    return {
      built: buildAmqpOptions({ url: o.url, connectionName: 'herald-sink', key: at('url'), tlsKey: at('tls'), ...(o.tls !== undefined && { tls: o.tls }) }),
      exchange: o.exchange ?? DEFAULT_EXCHANGE,
      timeoutMs: o.timeoutMs ?? 10_000,
    };
  },
  maxMessageBytes: () => DEFAULT_MAX_MESSAGE_BYTES,
  cli: {
    flag: '--amqp',
    keys: { url: '--amqp', exchange: '--exchange' },
    sink: (values) => ({ url: flag(values, 'amqp'), ...(flag(values, 'exchange') !== undefined && { exchange: flag(values, 'exchange') }) }),
    source(values, defaults) {
      if (values.topic !== undefined || values.pattern !== undefined) {
        throw new UsageError('--topic/--pattern do not apply to --amqp; use --binding PATTERN (default #)', [{ path: '--topic', message: 'use --binding with --amqp' }]);
      }
      const given = flagList(values, 'binding');
      const exchange = flag(values, 'exchange');
      return { url: flag(values, 'amqp')!, binding: given.length > 0 ? given : [...(defaults.topics ?? ['#'])], ...(exchange !== undefined && { exchange }) };
    },
  },
  loadSink: () => import('./sink.js').then((m) => m.sinkFactory),
  loadSource: () => import('./source.js').then((m) => m.sourceFactory),
};
