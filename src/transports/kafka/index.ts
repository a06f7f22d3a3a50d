/**
 * The Kafka transport's definition: its sink keys, their checks and resolution (producer
 * properties file, TLS/SASL, HERALD_KAFKA_* variables). The client library is loaded only by
 * load(), when a Kafka sink or source is really used.
 */
import { Type } from 'typebox';
import { ConfigError, UsageError, type FieldProblem } from '../../errors.js';
import { flag, flagList, parsePattern } from '../shared/flags.js';
import type { KeyNamer, TransportDefinition } from '../types.js';
import { isBrokerAddress, parseBrokers } from './address.js';
import { resolveKafkaConnection, type KafkaConnection } from './connection.js';
import { DEFAULT_MAX_REQUEST_BYTES, TopicSettings, type KafkaOptions, type KafkaResolved } from './options.js';
import type { KafkaSourceSpec } from './source.js';

export { DEFAULT_MAX_REQUEST_BYTES, type KafkaOptions, type KafkaResolved } from './options.js';
export type { KafkaSourceSpec } from './source.js';

/** The Kafka transport. */
export const kafkaTransport: TransportDefinition<KafkaOptions, KafkaResolved, KafkaSourceSpec> = {
  name: 'kafka',
  summary: 'Apache Kafka: records with acks=all through the idempotent producer',
  sinkOptions: {
    brokers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'bootstrap servers, HOST:PORT' })),
    producerProperties: Type.Optional(Type.String({ minLength: 1, description: 'a Java-style producer properties file (bootstrap.servers, acks, TLS/SASL, topic)' })),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
    topics: Type.Optional(TopicSettings),
  },
  check(o, at) {
    const out: FieldProblem[] = [];
    if (o.brokers === undefined && o.producerProperties === undefined) out.push({ path: at('brokers'), message: 'is required for a kafka sink (HOST:PORT list), or bootstrap.servers in producerProperties' });
    o.brokers?.forEach((b, j) => {
      if (!isBrokerAddress(b)) out.push({ path: `${at('brokers')}[${j}]`, message: `"${b}" is not HOST:PORT` });
    });
    return out;
  },
  resolve(o, at, env) {
    let conn: KafkaConnection;
    try {
      conn = resolveKafkaConnection({
        ...(o.brokers !== undefined && { brokers: o.brokers }),
        ...(o.producerProperties !== undefined && { producerProperties: o.producerProperties }),
        ...(o.clientId !== undefined && { clientId: o.clientId }),
        ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }),
        env,
      });
    } catch (err) {
      throw renamed(err, at);
    }
    return { conn, ...(o.topics !== undefined && { topics: o.topics }) };
  },
  settingsTopic: (r) => r.conn.settings.topic,
  maxMessageBytes: (r) => r.conn.settings.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
  cli: {
    flag: '--brokers',
    keys: { brokers: '--brokers', producerProperties: '--producer-properties', clientId: '--client-id' },
    sink: (values) => {
      const brokers = flag(values, 'brokers');
      const properties = flag(values, 'producer-properties');
      return { ...(brokers !== undefined && { brokers: parseBrokers(brokers) }), ...(properties !== undefined && { producerProperties: properties }) };
    },
    source(values, defaults) {
      const topics = flagList(values, 'topic');
      const given = flag(values, 'pattern');
      const pattern = given !== undefined ? parsePattern(given) : topics.length === 0 ? defaults.pattern : undefined;
      const all = topics.length > 0 ? topics : pattern === undefined ? [...(defaults.topics ?? [])] : [];
      if (all.length === 0 && pattern === undefined) throw new UsageError('give --topic T (repeatable) or --pattern REGEX', [{ path: '--topic', message: 'is required (or --pattern)' }]);
      const brokers = flag(values, 'brokers');
      const properties = flag(values, 'producer-properties');
      return {
        brokers: brokers !== undefined ? parseBrokers(brokers) : [],
        ...(all.length > 0 && { topics: all }),
        ...(pattern !== undefined && { pattern }),
        ...(properties !== undefined && { producerProperties: properties }),
      };
    },
  },
  loadSink: () => import('./sink.js').then((m) => m.sinkFactory),
  loadSource: () => import('./source.js').then((m) => m.sourceFactory),
};

/** A resolution error whose path is one of the sink's keys, renamed to the caller's name for it. */
function renamed(err: unknown, at: KeyNamer): unknown {
  if (!(err instanceof ConfigError)) return err;
  const keys = ['brokers', 'producerProperties', 'clientId'];
  const details = err.details.map((d) => (keys.includes(d.path) ? { ...d, path: at(d.path) } : d));
  const first = details[0];
  const message = first !== undefined && first.path !== err.details[0]?.path ? `${first.path}: ${err.message}` : err.message;
  return new ConfigError(message, details);
}
