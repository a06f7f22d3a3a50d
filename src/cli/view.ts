/**
 * `herald view`: tails events from Kafka topics, NATS subjects or an AMQP exchange, decoding every supported format. One line per event; undecodable messages are counted
 * and reported on stderr, never fatal. Exits 0 after --max events or --timeout without one,
 * and on Ctrl-C; a summary line goes to stderr on exit.
 */
import { once } from 'node:events';
import { createCloser } from '../shared/closer.js';
import { HeraldError, UsageError } from '../errors.js';
import type { HeraldEvent, Severity } from '../events/schema.js';
import { SEVERITIES } from '../events/schema.js';
import { openSource } from '../consumer/subscribe.js';
import { decodeMessage, summarizeDecoded } from '../profiles/decode.js';
import { getProfile, type ProfileName } from '../profiles/registry.js';
import type { DecodedMessage, IncomingMessage } from '../profiles/types.js';
import { valueForJson } from '../shared/json.js';
import type { ReceivedMessage, Source } from '../transports/types.js';
import { oneOf, parseDuration, parseFlags, parseIntFlag } from './args.js';
import { parseEntity } from './emit.js';
import { SOURCE_FLAGS, sourceFromFlags } from './source-flags.js';
import { parseOffset, type OffsetSpec } from './kafka-seek.js';
import { chosenTransport } from './transport-flags.js';

const USAGE = `usage: herald view (--brokers HOST:PORT[,...] | --nats URL | --amqp URL [--exchange NAME] [--binding PATTERN])
       (--topic T [--topic T2 ...] | --pattern REGEX) [--from-beginning] [--group NAME]
       [--partition N] [--offset beginning|end|N|-N|@TIMESTAMP_MS]   (Kafka, like kcat -C -p -o)
       [--format pretty|json|event|raw] [--meta] [--max N] [--timeout DURATION] [--profile NAME]
       [--type TYPE ...] [--severity S ...] [--entity KIND[:ID] ...]
  --format json   one line per message: topic, partition, offset (NATS: subject, sequence;
                  AMQP: routingKey), key, headers, timestamp and the decoded event
  --format event  one line per message: the decoded event only
  --format raw    key, headers and value as received
  --meta          pretty lines end with partition@offset and the key (the default on a terminal)
  --group NAME    read as that consumer group and commit each message after it is shown`;

export interface ViewFilters {
  types?: string[];
  severities?: Severity[];
  entities?: { kind: string; id?: string }[];
}

/** True when an event passes the filters (each given list must match; empty = any). */
export function passes(event: HeraldEvent, f: ViewFilters): boolean {
  if (f.types && f.types.length > 0 && !f.types.includes(event.type)) return false;
  if (f.severities && f.severities.length > 0 && !f.severities.includes(event.severity)) return false;
  if (f.entities && f.entities.length > 0) {
    const e = event.entity;
    if (e === undefined || !f.entities.some((x) => x.kind === e.kind && (x.id === undefined || x.id === e.id))) return false;
  }
  return true;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `HH:MM:SS [type] subject: summary`, the time being the event's (local time zone). */
export function prettyLine(decoded: DecodedMessage): string {
  const t = new Date(decoded.event.time);
  const hhmmss = Number.isNaN(t.getTime()) ? '--:--:--' : `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  return `${hhmmss} ${summarizeDecoded(decoded)}`;
}

/** Where a message was read, in its transport's terms (Kafka topic/partition/offset, NATS subject/sequence, AMQP routing key). */
export function placeOf(m: IncomingMessage): Record<string, unknown> {
  if (m.transport === 'nats') return { subject: m.topic, ...(m.offset !== undefined && { sequence: Number(m.offset) }) };
  if (m.transport === 'amqp') return { routingKey: m.topic };
  return { topic: m.topic, ...(m.partition !== undefined && { partition: m.partition }), ...(m.offset !== undefined && { offset: Number(m.offset) }) };
}

/** The `--format json` form: where the message was read, its key, headers, timestamp and the decoded event. */
export function jsonLine(m: IncomingMessage, decoded: DecodedMessage): string {
  return JSON.stringify({
    ...placeOf(m),
    key: m.key ?? null,
    headers: m.headers,
    timestamp: m.timestamp !== undefined ? new Date(m.timestamp).toISOString() : null,
    event: decoded.event,
  });
}

/** The `--meta` suffix of a pretty line: `  (p0@12 key=k)`, `  (seq 4)`. */
export function metaSuffix(m: IncomingMessage): string {
  const parts: string[] = [];
  if (m.transport === 'nats') {
    if (m.offset !== undefined) parts.push(`seq ${m.offset}`);
  } else if (m.transport === 'amqp') {
    parts.push(`rk ${m.topic}`);
  } else if (m.partition !== undefined || m.offset !== undefined) {
    parts.push(`p${m.partition ?? '?'}@${m.offset ?? '?'}`);
  }
  if (m.key !== undefined && m.key !== null && m.key !== '') parts.push(`key=${m.key}`);
  return parts.length > 0 ? `  (${parts.join(' ')})` : '';
}

/** The raw form: key, headers and value as received (text as UTF-8, other bytes as base64). */
export function rawLine(m: IncomingMessage): string {
  return JSON.stringify({
    topic: m.topic,
    ...(m.partition !== undefined && { partition: m.partition }),
    ...(m.offset !== undefined && { offset: m.offset }),
    ...(m.timestamp !== undefined && { timestamp: new Date(m.timestamp).toISOString() }),
    key: m.key ?? null,
    headers: m.headers,
    ...valueForJson(m.value),
  });
}

/** The Kafka source of `--partition`/`--offset`, from the same flags as the usual one. */
async function seekingSource(spec: ReturnType<typeof sourceFromFlags>, values: Record<string, unknown>, partition: number | undefined, offset: OffsetSpec, signal: AbortSignal): Promise<Source> {
  const k = spec.kafka as { brokers?: readonly string[]; topics?: readonly string[]; pattern?: RegExp; producerProperties?: string } | undefined;
  if (k === undefined || k.topics === undefined || k.topics.length === 0 || k.pattern !== undefined) {
    throw new UsageError('--partition and --offset need --topic (not --pattern)', [{ path: '--topic', message: 'is required with --offset/--partition' }]);
  }
  // Loaded here, like every transport, so a command only loads the client it uses.
  const { KafkaSource } = await import('../transports/kafka/source.js');
  const source = new KafkaSource({
    brokers: k.brokers ?? [],
    topics: k.topics,
    ...(k.producerProperties !== undefined && { producerProperties: k.producerProperties }),
    seek: { ...(partition !== undefined && { partition }), offset },
    ...(typeof values.group === 'string' && { group: values.group }),
    signal,
  });
  // A partition the topic does not have is the flag's fault: exit 2 naming it.
  const start = source.start.bind(source);
  source.start = () => start().catch((err: unknown) => {
    if (partition !== undefined && err instanceof HeraldError && err.code === 'NOT_FOUND') {
      throw new UsageError(`--partition ${partition}: no such partition in ${k.topics!.join(', ')}`, [{ path: '--partition', message: 'no such partition' }]);
    }
    throw err;
  });
  return source;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

/** Runs `herald view`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  // `--offset -2` (kcat's `-o -2`): a negative number is the value, not a flag.
  argv = argv.map((a, i) => (i > 0 && argv[i - 1] === '--offset' && /^-\d+$/.test(a) ? `=${a}` : a)).reduce<string[]>((acc, a) => {
    if (a.startsWith('=') && acc[acc.length - 1] === '--offset') acc[acc.length - 1] = `--offset${a}`;
    else acc.push(a);
    return acc;
  }, []);
  const { values } = parseFlags('view', argv, {
    ...SOURCE_FLAGS,
    format: { type: 'string' },
    max: { type: 'string' },
    timeout: { type: 'string' },
    profile: { type: 'string' },
    type: { type: 'string', multiple: true },
    severity: { type: 'string', multiple: true },
    entity: { type: 'string', multiple: true },
    partition: { type: 'string' },
    offset: { type: 'string' },
    meta: { type: 'boolean' },
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const format = oneOf(typeof values.format === 'string' ? values.format : 'pretty', ['pretty', 'json', 'event', 'raw'] as const, '--format');
  const meta = values.meta === true || (values.meta === undefined && process.stdout.isTTY === true);
  const partition = typeof values.partition === 'string' ? parseIntFlag(values.partition, '--partition', 0, 2 ** 31 - 1) : undefined;
  const offset = typeof values.offset === 'string' ? parseOffset(values.offset) : undefined;
  if ((partition !== undefined || offset !== undefined) && chosenTransport(values) !== 'kafka') {
    const flag = partition !== undefined ? '--partition' : '--offset';
    throw new UsageError(`${flag} applies to Kafka (--brokers) only`, [{ path: flag, message: 'applies to Kafka only' }]);
  }
  if (offset !== undefined && values['from-beginning'] === true) {
    throw new UsageError('--offset and --from-beginning exclude each other (--offset beginning is the same)', [{ path: '--from-beginning', message: 'conflicts with --offset' }]);
  }
  const max = typeof values.max === 'string' ? parseIntFlag(values.max, '--max', 1) : undefined;
  const idleMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : undefined;
  const preferred = typeof values.profile === 'string' ? (getProfile(values.profile).name as ProfileName) : undefined;
  const severities = list(values.severity).map((s) => oneOf(s, SEVERITIES, '--severity'));
  const filters: ViewFilters = {
    types: list(values.type),
    severities,
    entities: list(values.entity).map((e) => (e.includes(':') ? parseEntity(e) : { kind: e })),
  };
  const abort = new AbortController();
  // Without --group, view shows every message (broadcast: a Kafka group that never commits).
  const spec = sourceFromFlags(values, { read: { nats: { topics: ['>'] } } });
  const source: Source = partition !== undefined || offset !== undefined
    ? await seekingSource(spec, values, partition, offset ?? { kind: values['from-beginning'] === true ? 'beginning' : 'end' }, abort.signal)
    : await openSource({ ...spec, signal: abort.signal });
  // A closed stdout (`| head -1`) ends the reading quietly, exit 0, like kcat.
  let closedOut = false;
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      closedOut = true;
      abort.abort();
    } else throw err;
  };
  process.stdout.on('error', onPipeError);

  let seen = 0;
  let shown = 0;
  let undecodable = 0;
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Lines are written in batches (one write per chunk of messages), not one syscall each.
  let pending = '';
  let flushQueued = false;
  const flushOut = () => {
    if (pending !== '' && !closedOut) process.stdout.write(pending);
    pending = '';
  };
  const out = (line: string) => {
    pending += line + '\n';
    if (pending.length > 65_536) flushOut();
  };
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await source.start?.();
    const it = source.messages()[Symbol.asyncIterator]();
    // The idle timer or an abort ends the wait for the next message (shared/closer.ts: racing
    // one shared promise per message instead kept every message alive to the end, 1 GB for a
    // 100,000-record read).
    const stopped = createCloser();
    abort.signal.addEventListener('abort', () => stopped.close(), { once: true });
    if (idleMs !== undefined) idleTimer = setTimeout(() => stopped.close(), idleMs);
    for (;;) {
      if (max !== undefined && shown >= max) break;
      if (stopped.closed) break;
      // A reader slower than the topic (a pipe into a busy process): read on only once it has
      // taken what was written, so the lines wait in the topic, not in this process's memory.
      if (process.stdout.writableNeedDrain) {
        await once(process.stdout, 'drain', { signal: abort.signal }).catch(() => undefined);
        continue;
      }
      // Nothing more is buffered by the source: show what is pending before waiting.
      if (pending !== '' && !flushQueued) {
        flushQueued = true;
        setImmediate(() => {
          flushQueued = false;
          flushOut();
        });
      }
      idleTimer?.refresh();
      const r = await stopped.race(it.next());
      if (r === undefined || r.done) break;
      const m: ReceivedMessage = r.value;
      seen++;
      let decoded: DecodedMessage | undefined;
      try {
        decoded = decodeMessage(m, preferred);
      } catch (err) {
        undecodable++;
        if (format !== 'raw') {
          process.stderr.write(`herald view: ${(err as Error).message}\n`);
          await m.ack();
          continue;
        }
      }
      if (decoded !== undefined && !passes(decoded.event, filters)) {
        await m.ack();
        continue;
      }
      if (decoded === undefined && (filters.types!.length > 0 || filters.severities!.length > 0 || filters.entities!.length > 0)) {
        await m.ack();
        continue;
      }
      if (format === 'raw') out(rawLine(m));
      else if (format === 'json') out(jsonLine(m, decoded!));
      else if (format === 'event') out(JSON.stringify(decoded!.event));
      else out(meta ? prettyLine(decoded!) + metaSuffix(m) : prettyLine(decoded!));
      shown++;
      await m.ack();
    }
  } catch (err) {
    if (!(err instanceof HeraldError)) throw new HeraldError('INTERNAL', `reading failed: ${(err as Error).message}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(idleTimer);
    flushOut();
    process.stdout.removeListener('error', onPipeError);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await source.close();
    process.stderr.write(`herald view: ${seen} message${seen === 1 ? '' : 's'} read, ${shown} shown, ${undecodable} undecodable\n`);
  }
  return 0;
}
