/**
 * `herald emit`: publishes one event to Kafka (or NATS/AMQP), or posts it to a running
 * `herald serve` with `--server URL`. The event goes through createEvent, the one validation;
 * problems are reported by flag name (exit 2). An unreachable broker fails within --timeout
 * (exit 1). Prints the event id, and where Kafka stored it, on stdout.
 */
import { readFileSync } from 'node:fs';
import type { SinkConfig } from '../config/schema.js';
import { HeraldError, UsageError, ValidationError, type FieldProblem } from '../errors.js';
import { createEvent } from '../events/event.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import { createLogger } from '../log.js';
import { PROFILE_EMIT_FLAGS, eventInputFromFlags, type EmitFlags } from '../profiles/emit-input.js';
import { getProfile } from '../profiles/index.js';
import type { ProfileName } from '../profiles/types.js';
import { encodeForSink } from '../publisher/encode.js';
import { createSink } from '../sinks/index.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import { oneOf, parseDuration, parseFlags, type OptionSpec } from './args.js';
import { cliBrokers } from './topics.js';
import { checkTransportUrls } from './source-flags.js';

const COMMON_OPTIONS: OptionSpec = {
  brokers: { type: 'string' },
  nats: { type: 'string' },
  jetstream: { type: 'boolean' },
  amqp: { type: 'string' },
  exchange: { type: 'string' },
  server: { type: 'string' },
  topic: { type: 'string' },
  type: { type: 'string' },
  source: { type: 'string' },
  subject: { type: 'string' },
  id: { type: 'string' },
  time: { type: 'string' },
  severity: { type: 'string' },
  entity: { type: 'string' },
  key: { type: 'string' },
  message: { type: 'string' },
  'content-type': { type: 'string' },
  dataschema: { type: 'string' },
  data: { type: 'string' },
  profile: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  'producer-properties': { type: 'string' },
};

/** Profile-specific flags of every profile (besides the common ones), accepted as strings. */
const PROFILE_FLAGS: string[] = [...new Set(Object.values(PROFILE_EMIT_FLAGS).flat())].filter((f) => !(f in COMMON_OPTIONS));

const OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...Object.fromEntries(PROFILE_FLAGS.map((f) => [f, { type: 'string' as const }])),
};

const USAGE = `usage: herald emit --type TYPE [--source SOURCE] [--subject S] [--entity KIND:ID] [--data JSON|@FILE]
       [--severity debug|info|warning|error|critical] [--id ID] [--time RFC3339] [--key KEY] [--message TEXT]
       [--content-type TYPE] [--dataschema URI]
       [--brokers HOST:PORT[,...] | --nats URL [--jetstream] | --amqp URL [--exchange NAME] | --server URL]
       [--topic T] [--profile cloudevents|aliecs|choria|cloudstack|assisted] [--mode binary|structured]
       [--timeout 10s] [--producer-properties FILE]`;

/** Event field → the flag that sets it, for error messages. */
const FIELD_FLAGS: Record<string, string> = {
  type: '--type', source: '--source', subject: '--subject', id: '--id', time: '--time', severity: '--severity',
  entity: '--entity', 'entity.kind': '--entity', 'entity.id': '--entity', partitionkey: '--key', message: '--message',
  data: '--data', datacontenttype: '--content-type', dataschema: '--dataschema',
};

/** Rewrites a ValidationError's paths to flag names: `--type is required`. */
export function problemsAsFlags(err: ValidationError): UsageError {
  const details: FieldProblem[] = err.details.map((d) => {
    const flag = FIELD_FLAGS[d.path] ?? (d.path.startsWith('data') ? '--data' : d.path);
    return { path: flag, message: d.path.startsWith('data.') ? `${d.path}: ${d.message}` : d.message };
  });
  const text = details.map((d) => `${d.path} ${d.message}`).join('; ');
  return new UsageError(`invalid event: ${text}`, details);
}

/** `--data JSON` or `--data @FILE` (a file holding JSON). */
export function parseData(value: string): unknown {
  let text = value;
  let where = '--data';
  if (value.startsWith('@')) {
    const file = value.slice(1);
    where = `--data @${file}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--data: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, [{ path: '--data', message: 'file cannot be read' }]);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not valid JSON: ${(err as Error).message}`, [{ path: '--data', message: 'must be JSON (or @FILE holding JSON)' }]);
  }
}

/** `--entity KIND:ID`. */
export function parseEntity(value: string, flag = '--entity'): { kind: string; id: string } {
  const i = value.indexOf(':');
  if (i <= 0 || i === value.length - 1) {
    throw new UsageError(`${flag} must be KIND:ID (e.g. cluster:c1), got "${value}"`, [{ path: flag, message: 'must be KIND:ID' }]);
  }
  return { kind: value.slice(0, i), id: value.slice(i + 1) };
}

/** Builds the event input from the common flags. */
function commonInput(values: Record<string, unknown>, entity: { kind: string; id: string } | undefined, data: unknown, hasData: boolean): Record<string, unknown> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return {
    ...(str('type') !== undefined && { type: str('type') }),
    source: str('source') ?? 'herald/cli',
    ...(str('subject') !== undefined && { subject: str('subject') }),
    ...(str('id') !== undefined && { id: str('id') }),
    ...(str('time') !== undefined && { time: str('time') }),
    ...(str('severity') !== undefined && { severity: str('severity') }),
    ...(entity !== undefined && { entity }),
    ...(str('key') !== undefined && { partitionkey: str('key') }),
    ...(str('message') !== undefined && { message: str('message') }),
    ...(str('content-type') !== undefined && { datacontenttype: str('content-type') }),
    ...(str('dataschema') !== undefined && { dataschema: str('dataschema') }),
    ...(hasData && { data }),
  };
}

function buildEvent(values: Record<string, unknown>, profile: ProfileName): HeraldEvent {
  const entity = typeof values.entity === 'string' ? parseEntity(values.entity) : undefined;
  const hasData = typeof values.data === 'string';
  const data = hasData ? parseData(values.data as string) : undefined;
  const specific = PROFILE_FLAGS.filter((f) => typeof values[f] === 'string');
  const allowed = PROFILE_EMIT_FLAGS[profile] ?? [];
  const stray = specific.find((f) => !allowed.includes(f));
  if (stray !== undefined) {
    const owners = Object.entries(PROFILE_EMIT_FLAGS).filter(([, fl]) => fl.includes(stray)).map(([p]) => p);
    throw new UsageError(`--${stray} applies to --profile ${owners.join(' or ')} only`, [{ path: `--${stray}`, message: `applies to --profile ${owners.join(' or ')}` }]);
  }
  let input: EventInput | Record<string, unknown> | undefined;
  if (profile !== 'cloudevents') {
    const flags: EmitFlags = {};
    for (const [k, v] of Object.entries(values)) if (typeof v === 'string') flags[k] = v;
    if (entity !== undefined) flags.entity = entity;
    if (hasData) flags.data = data;
    else delete flags.data;
    input = eventInputFromFlags(profile, flags);
  }
  input ??= commonInput(values, entity, data, hasData);
  try {
    return createEvent(input);
  } catch (err) {
    if (err instanceof ValidationError) throw problemsAsFlags(err);
    throw err;
  }
}

async function postToServer(url: string, event: HeraldEvent, timeoutMs: number): Promise<string> {
  let endpoint: URL;
  try {
    endpoint = new URL('/v2/events', url.endsWith('/') ? url : `${url}/`);
    if (!/^https?:$/.test(endpoint.protocol)) throw new Error('not http');
  } catch {
    throw new UsageError(`--server must be an http:// or https:// URL, got "${url}"`, [{ path: '--server', message: 'must be an http(s) URL' }]);
  }
  const token = process.env.HERALD_API_TOKEN;
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
    if (e.name === 'TimeoutError') throw new HeraldError('TIMEOUT', `herald serve at ${endpoint.origin} did not answer within ${timeoutMs} ms`);
    const why = e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message;
    throw new HeraldError('BROKER_UNAVAILABLE', `cannot reach herald serve at ${endpoint.origin}: ${why === 'ECONNREFUSED' ? 'connection refused' : why}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { ids?: string[]; error?: string; details?: FieldProblem[] };
  if (res.status === 400) {
    throw new ValidationError(`herald serve rejected the event: ${body.error ?? 'bad request'}`, body.details ?? [], 'INVALID_REQUEST');
  }
  if (res.status === 401 || res.status === 403) {
    throw new HeraldError(res.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `herald serve refused the event (${res.status}): set HERALD_API_TOKEN to a valid write token`);
  }
  if (!res.ok) throw new HeraldError('INTERNAL', `herald serve answered ${res.status}: ${body.error ?? res.statusText}`);
  return body.ids?.[0] ?? event.id;
}

/** Runs `herald emit`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('emit', argv, OPTIONS);
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const profileName = (typeof values.profile === 'string' ? getProfile(values.profile).name : 'cloudevents') as ProfileName;
  const mode = typeof values.mode === 'string' ? oneOf(values.mode, ['binary', 'structured'] as const, '--mode') : undefined;
  if (mode !== undefined && profileName !== 'cloudevents') {
    throw new UsageError('--mode applies to --profile cloudevents only', [{ path: '--mode', message: 'applies to the cloudevents profile only' }]);
  }
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : 10_000;
  if (timeoutMs <= 0) throw new UsageError('--timeout must be more than 0', [{ path: '--timeout', message: 'must be more than 0' }]);
  const transports = ['brokers', 'nats', 'amqp', 'server'].filter((k) => typeof values[k] === 'string');
  if (transports.length > 1) {
    throw new UsageError(`give one of ${transports.map((t) => `--${t}`).join(', ')}, not several`, [{ path: `--${transports[1]}`, message: 'conflicts with --' + transports[0] }]);
  }
  // Validate flags that do not depend on the event before building it, so errors name them.
  const brokers = typeof values.server === 'string' || typeof values.nats === 'string' || typeof values.amqp === 'string' ? undefined : cliBrokers(values);

  const event = buildEvent(values, profileName);

  if (typeof values.server === 'string') {
    const id = await postToServer(values.server, event, timeoutMs);
    process.stdout.write(`${id}\n`);
    return 0;
  }

  const logLevel = typeof values['log-level'] === 'string' ? values['log-level'] : 'warn';
  const logger = createLogger({ level: logLevel as 'warn', name: 'herald-emit' });
  const base = {
    name: 'emit',
    profile: profileName,
    ...(typeof values.topic === 'string' && { topic: values.topic }),
    ...(mode !== undefined && { mode }),
    timeoutMs: Math.max(100, timeoutMs),
  };
  checkTransportUrls(values);
  let config: SinkConfig;
  // A one-off emit publishes with core NATS (subscribers such as `herald view --nats` get it)
  // unless --jetstream asks for a stream's acknowledgement (then a stream must capture the subject).
  if (typeof values.nats === 'string') config = { ...base, type: 'nats', url: values.nats, jetstream: values.jetstream === true };
  else if (typeof values.amqp === 'string') config = { ...base, type: 'amqp', url: values.amqp, ...(typeof values.exchange === 'string' && { exchange: values.exchange }) };
  else {
    config = {
      ...base,
      type: 'kafka',
      brokers: brokers!,
      ...(typeof values['producer-properties'] === 'string' && { producerProperties: values['producer-properties'] }),
    };
  }
  const sink = createSink(config, { logger });
  try {
    const fallbackTopic = sink instanceof KafkaSink ? sink.propertiesTopic : undefined;
    const messages = encodeForSink(config, event, fallbackTopic);
    if (messages.length === 0) {
      throw new UsageError(`--profile ${profileName} does not carry events of type ${event.type}`, [{ path: '--type', message: `not carried by the ${profileName} profile` }]);
    }
    const outcomes = await sink.publish(messages);
    const failed = outcomes.find((o) => !o.ok);
    if (failed !== undefined && !failed.ok) throw failed.error;
    const where = sink instanceof KafkaSink ? sink.lastDeliveries.map((d) => ` topic=${d.topic} partition=${d.partition} offset=${d.offset}`).join('') : ` topic=${messages[0]!.topic}`;
    process.stdout.write(`${event.id}${where}\n`);
    return 0;
  } finally {
    await sink.close();
  }
}
