/**
 * The NATS transport's definition: JetStream (default) or core NATS, its sink keys and their
 * resolution (URL, token, creds, TLS files, NATS_* variables). The client library is loaded
 * only by load().
 */
import type { FieldProblem } from '../../errors.js';
import { ConfigError, UsageError } from '../../errors.js';
import { flag, flagList } from '../shared/flags.js';
import type { KeyNamer, TransportDefinition } from '../types.js';
import { DEFAULT_MAX_PAYLOAD, DEFAULT_STREAM, NATS_SINK_OPTIONS, resolveNatsSettings, type NatsOptions, type NatsResolved, type NatsSourceSpec } from './options.js';

export { DEFAULT_STREAM, type NatsOptions, type NatsResolved, type NatsSourceSpec } from './options.js';

export const natsTransport: TransportDefinition<NatsOptions, NatsResolved, NatsSourceSpec> = {
  name: 'nats',
  summary: 'NATS JetStream (acknowledged by the stream, de-duplicated by Nats-Msg-Id) or core NATS',
  sinkOptions: NATS_SINK_OPTIONS,
  check(o, at) {
    const out: FieldProblem[] = [];
    if (!/^(nats|tls):\/\//.test(o.url) && /^[a-z][a-z0-9+.-]*:\/\//i.test(o.url)) out.push({ path: at('url'), message: 'must be a nats:// or tls:// URL' });
    return out;
  },
  resolve(o, at, env) {
    const timeoutMs = o.timeoutMs ?? 10_000;
    try {
      return {
        settings: resolveNatsSettings({ ...o, name: 'herald-sink', timeoutMs, key: at('url'), env }),
        jetstream: o.jetstream !== false,
        createStream: o.createStream === true,
        stream: o.stream ?? DEFAULT_STREAM,
        ...(o.subjects !== undefined && o.subjects.length > 0 && { subjects: [...o.subjects] }),
        timeoutMs,
      };
    } catch (err) {
      throw prefixed(err, at);
    }
  },
  maxMessageBytes: () => DEFAULT_MAX_PAYLOAD,
  cli: {
    flag: '--nats',
    keys: { url: '--nats', jetstream: '--jetstream' },
    // A one-off emit publishes with core NATS (subscribers such as `herald view --nats` get it)
    // unless --jetstream asks for a stream's acknowledgement.
    sink: (values) => ({ url: flag(values, 'nats'), jetstream: values.jetstream === true }),
    source(values, defaults) {
      const topics = flagList(values, 'topic');
      const subjects = topics.length > 0 ? topics : [...(defaults.topics ?? [])];
      if (subjects.length === 0) throw new UsageError('--topic SUBJECT is required with --nats (wildcards allowed)', [{ path: '--topic', message: 'is required' }]);
      const stream = flag(values, 'stream');
      return { url: flag(values, 'nats')!, subjects, ...(stream !== undefined && { stream }) };
    },
  },
  loadSink: () => import('./sink.js').then((m) => m.sinkFactory),
  loadSource: () => import('./source.js').then((m) => m.sourceFactory),
};

/** Errors about `tls`/`creds`/`token` name the sink's key the caller's way (`sinks[0].tls.ca`). */
function prefixed(err: unknown, at: KeyNamer): unknown {
  if (!(err instanceof ConfigError)) return err;
  const own = (p: string) => /^(tls|creds|token)(\.|$)/.test(p);
  const details = err.details.map((d) => (own(d.path) ? { ...d, path: at(d.path) } : d));
  const message = own(err.details[0]?.path ?? '') ? err.message.replace(/^(tls|creds|token)(\.\w+)?/, (k) => at(k)) : err.message;
  return new ConfigError(message, details);
}
