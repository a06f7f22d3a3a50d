/**
 * `herald view`: tails events from Kafka topics, NATS subjects or an AMQP exchange, decoding every supported format. One line per event; undecodable messages are counted
 * and reported on stderr, never fatal. Exits 0 after --max events or --timeout without one,
 * and on Ctrl-C; a summary line goes to stderr on exit.
 */
import { HeraldError } from '../errors.js';
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

const USAGE = `usage: herald view (--brokers HOST:PORT[,...] | --nats URL | --amqp URL [--exchange NAME] [--binding PATTERN])
       (--topic T [--topic T2 ...] | --pattern REGEX) [--from-beginning] [--group NAME]
       [--format pretty|json|raw] [--max N] [--timeout DURATION] [--profile NAME]
       [--type TYPE ...] [--severity S ...] [--entity KIND[:ID] ...]`;

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

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

/** Runs `herald view`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('view', argv, {
    ...SOURCE_FLAGS,
    format: { type: 'string' },
    max: { type: 'string' },
    timeout: { type: 'string' },
    profile: { type: 'string' },
    type: { type: 'string', multiple: true },
    severity: { type: 'string', multiple: true },
    entity: { type: 'string', multiple: true },
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const format = oneOf(typeof values.format === 'string' ? values.format : 'pretty', ['pretty', 'json', 'raw'] as const, '--format');
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
  const source: Source = await openSource({
    ...sourceFromFlags(values, { read: { nats: { topics: ['>'] } } }),
    signal: abort.signal,
  });

  let seen = 0;
  let shown = 0;
  let undecodable = 0;
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const out = (line: string) => process.stdout.write(line + '\n');
  try {
    await source.start?.();
    const it = source.messages()[Symbol.asyncIterator]();
    const aborted = new Promise<'abort'>((resolve) => abort.signal.addEventListener('abort', () => resolve('abort'), { once: true }));
    for (;;) {
      if (max !== undefined && shown >= max) break;
      let timer: NodeJS.Timeout | undefined;
      const idle = idleMs === undefined ? undefined : new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), idleMs)));
      const next = it.next();
      const r = await Promise.race([next, aborted, ...(idle ? [idle] : [])]);
      clearTimeout(timer);
      if (r === 'idle' || r === 'abort') {
        next.catch(() => undefined);
        break;
      }
      if (r.done) break;
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
      else if (format === 'json') out(JSON.stringify(decoded!.event));
      else out(prettyLine(decoded!));
      shown++;
      await m.ack();
    }
  } catch (err) {
    if (!(err instanceof HeraldError)) throw new HeraldError('INTERNAL', `reading failed: ${(err as Error).message}`, { cause: err });
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await source.close();
    process.stderr.write(`herald view: ${seen} message${seen === 1 ? '' : 's'} read, ${shown} shown, ${undecodable} undecodable\n`);
  }
  return 0;
}
