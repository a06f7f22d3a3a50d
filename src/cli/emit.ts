/**
 * `herald emit`: publishes one event to Kafka (or NATS/AMQP), or posts it to a running
 * `herald serve` with `--server URL`. The event goes through createEvent, the one validation;
 * problems are reported by flag name (exit 2). An unreachable broker fails within --timeout
 * (exit 1). Prints the event id, and where Kafka stored it, on stdout.
 */
import { readFileSync } from 'node:fs';
import { createBindings, type SinkBinding } from '../delivery/binding.js';
import { DirectDelivery } from '../delivery/direct.js';
import { HeraldError, UsageError, ValidationError, type FieldProblem } from '../errors.js';
import { createLogger } from '../log.js';
import { DirectHandover } from '../pipeline/direct-handover.js';
import { Ingest } from '../pipeline/ingest.js';
import { getProfile, PROFILE_NAMES, PROFILES, type ProfileName } from '../profiles/registry.js';
import type { EmitFlags } from '../profiles/types.js';
import { oneOf, parseDuration, parseFlags, type OptionSpec } from './args.js';
import { flagNamer, sinkFromFlags } from './transport-flags.js';
import { publishInput, summaryLine } from './emit-input.js';
import { readConfigFile, validateConfigInput } from '../config/load.js';
import type { SinkConfig } from '../config/sinks.js';
import { configFromFlags, namedSink } from './config-flags.js';

const COMMON_OPTIONS: OptionSpec = {
  brokers: { type: 'string' },
  nats: { type: 'string' },
  jetstream: { type: 'boolean' },
  amqp: { type: 'string' },
  exchange: { type: 'string' },
  webhook: { type: 'string' },
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
  input: { type: 'string' },
  header: { type: 'string', multiple: true },
  profile: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  'producer-properties': { type: 'string' },
  sink: { type: 'string' },
};

/** Each profile's own `herald emit` flags (from the profile registry). */
const PROFILE_EMIT_FLAGS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.values(PROFILES).map((p) => [p.name, Object.keys(p.emit?.flags ?? {})]),
);

/** Profile-specific flags of every profile (besides the common ones), accepted as strings. */
const PROFILE_FLAGS: string[] = [...new Set(Object.values(PROFILE_EMIT_FLAGS).flat())].filter((f) => !(f in COMMON_OPTIONS));

const OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...Object.fromEntries(PROFILE_FLAGS.map((f) => [f, { type: 'string' as const }])),
};

const USAGE = `usage: herald emit --type TYPE [--source SOURCE] [--subject S] [--entity KIND:ID] [--data JSON|@FILE|@-]
       [--severity debug|info|warning|error|critical] [--id ID] [--time RFC3339] [--key KEY] [--message TEXT]
       [--content-type TYPE] [--dataschema URI]
       [--brokers HOST:PORT[,...] | --nats URL [--jetstream] | --amqp URL [--exchange NAME] | --webhook URL | --server URL]
       [--config FILE [--sink NAME]] [--topic T] [--profile ${PROFILE_NAMES.join('|')}] [--mode binary|structured]
       [--timeout 10s] [--producer-properties FILE] [--header K=V ...]
       herald emit --input FILE|- [--type TYPE --source SOURCE ...] [transport flags]
  --input reads NDJSON, one event per line: an event object as POST /v2/events takes it, or,
  with --type or --source, each line is the data of an event those flags describe. Events are
  published in batches; one summary line goes to stderr; exit 1 names the lines that failed.
  --config FILE without a transport flag publishes to a sink of the file (--sink NAME, else its
  first): its broker, security settings, topic, profile and mode; --topic, --profile and --mode
  override them. Its filter is not applied: emit sends the event it is given.
  --header K=V (repeatable) adds a Kafka/NATS header or AMQP message header to every message.
  --webhook signs with HERALD_WEBHOOK_SECRET (whsec_...) when it is set.`;

/** Every profile's own `herald emit` flags, with their help texts, for `--help`. */
export function profileFlagsHelp(): string {
  const out: string[] = [];
  for (const p of Object.values(PROFILES)) {
    const flags = Object.entries(p.emit?.flags ?? {});
    if (flags.length === 0) continue;
    const width = Math.max(...flags.map(([f]) => f.length)) + 2;
    out.push('', `flags of --profile ${p.name}:`, ...flags.map(([f, help]) => `  --${f.padEnd(width)}${help}`));
  }
  return out.join('\n');
}

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
    where = file === '-' ? '--data @- (stdin)' : `--data @${file}`;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
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

/** The event input the flags describe, in the profile's vocabulary; validated by the ingest. */
function eventInput(values: Record<string, unknown>, profile: ProfileName, line?: { data: unknown }): Record<string, unknown> {
  const entity = typeof values.entity === 'string' ? parseEntity(values.entity) : undefined;
  const hasData = line !== undefined || typeof values.data === 'string';
  const data = line !== undefined ? line.data : hasData ? parseData(values.data as string) : undefined;
  const specific = PROFILE_FLAGS.filter((f) => typeof values[f] === 'string');
  const allowed = PROFILE_EMIT_FLAGS[profile] ?? [];
  const stray = specific.find((f) => !allowed.includes(f));
  if (stray !== undefined) {
    const owners = Object.entries(PROFILE_EMIT_FLAGS).filter(([, fl]) => fl.includes(stray)).map(([p]) => p);
    throw new UsageError(`--${stray} applies to --profile ${owners.join(' or ')} only`, [{ path: `--${stray}`, message: `applies to --profile ${owners.join(' or ')}` }]);
  }
  const emit = PROFILES[profile].emit;
  if (emit === undefined) return commonInput(values, entity, data, hasData);
  const flags: EmitFlags = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string') flags[k] = v;
  if (entity !== undefined) flags.entity = entity;
  if (hasData) flags.data = data;
  else delete flags.data;
  return emit.input(flags) as unknown as Record<string, unknown>;
}

/**
 * The event input of one `--input` line that is an event's data (with --type/--source). For a
 * profile without emit flags of its own the flags' part is built once and each line adds its
 * data; the same object for every line (one hidden class) also keeps the validator and
 * normalize on their fast path.
 */
function lineInput(values: Record<string, unknown>, profile: ProfileName): (data: unknown) => unknown {
  if (PROFILES[profile].emit !== undefined) return (data) => eventInput(values, profile, { data });
  const { data: _data, ...base } = eventInput(values, profile, { data: undefined });
  return (data) => ({ ...base, data });
}

/** Ingest's validation problems, named by flag. */
function asFlags(err: unknown): unknown {
  return err instanceof ValidationError ? problemsAsFlags(err) : err;
}

async function postToServer(url: string, event: Record<string, unknown>, timeoutMs: number): Promise<string> {
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
  return body.ids?.[0] ?? String(event.id ?? '');
}

/** Runs `herald emit`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('emit', argv, OPTIONS);
  if (values.help === true) {
    process.stdout.write(USAGE + '\n' + profileFlagsHelp() + '\n');
    return 0;
  }
  const configured = configuredSink(values);
  const profileName = (typeof values.profile === 'string' ? getProfile(values.profile).name : configured?.profile ?? 'cloudevents') as ProfileName;
  const mode = typeof values.mode === 'string' ? oneOf(values.mode, ['binary', 'structured'] as const, '--mode') : undefined;
  if (mode !== undefined && profileName !== 'cloudevents') {
    throw new UsageError('--mode applies to --profile cloudevents only', [{ path: '--mode', message: 'applies to the cloudevents profile only' }]);
  }
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : 10_000;
  if (timeoutMs <= 0) throw new UsageError('--timeout must be more than 0', [{ path: '--timeout', message: 'must be more than 0' }]);
  const transports = ['brokers', 'nats', 'amqp', 'webhook', 'server'].filter((k) => typeof values[k] === 'string');
  if (transports.length > 1) {
    throw new UsageError(`give one of ${transports.map((t) => `--${t}`).join(', ')}, not several`, [{ path: `--${transports[1]}`, message: 'conflicts with --' + transports[0] }]);
  }
  const bulk = typeof values.input === 'string' ? values.input : undefined;
  if (bulk !== undefined) {
    for (const f of ['data', 'id'] as const) {
      if (typeof values[f] === 'string') throw new UsageError(`--${f} and --input exclude each other (each --input line is one event${f === 'data' ? ', or its data' : ''})`, [{ path: `--${f}`, message: 'conflicts with --input' }]);
    }
    if (typeof values.server === 'string') throw new UsageError('--input publishes to a broker or webhook; to post events to herald serve, send them to POST /v2/events', [{ path: '--input', message: 'conflicts with --server' }]);
  }
  const headers = parseHeaders(values.header);
  if (headers !== undefined && typeof values.server === 'string') {
    throw new UsageError('--header sets broker headers; herald serve takes them from its sinks', [{ path: '--header', message: 'conflicts with --server' }]);
  }
  if (typeof values.server === 'string') {
    const id = await postToServer(values.server, eventInput(values, profileName), timeoutMs);
    process.stdout.write(`${id}\n`);
    return 0;
  }
  // Flags that do not depend on the event first, so their errors name them.
  const common = {
    profile: profileName,
    ...(typeof values.topic === 'string' && { topic: values.topic }),
    ...(mode !== undefined && { mode }),
    timeoutMs: Math.max(100, timeoutMs),
  };
  const config = configured !== undefined ? overConfigured(configured, common) : sinkFromFlags(values, { name: 'emit', ...common });
  const input = bulk === undefined ? eventInput(values, profileName) : undefined;
  const logLevel = typeof values['log-level'] === 'string' ? values['log-level'] : 'warn';
  const logger = createLogger({ level: logLevel as 'warn', name: 'herald-emit' });
  const [binding] = createBindings([config], configured !== undefined ? {} : { at: flagNamer(config.type) });
  const delivery = new DirectDelivery({ logger });
  if (headers !== undefined) withHeaders(binding!, headers);
  const ingest = new Ingest({ handover: new DirectHandover([binding!], delivery), redactKeys: redactKeys(values) });
  try {
    if (bulk !== undefined) {
      // With --type or --source each line is an event's data; else each line is an event.
      const lineIsData = typeof values.type === 'string' || typeof values.source === 'string';
      const toInput = lineIsData ? lineInput(values, profileName) : (event: unknown) => event;
      const started = performance.now();
      const r = await publishInput(bulk, ingest, toInput, (problems) => problems.map((p) => `${p.path === '' ? '(event)' : p.path} ${p.message}`).join('; '));
      process.stderr.write(summaryLine(bulk, r, performance.now() - started) + '\n');
      return r.failures.length > 0 ? 1 : 0;
    }
    let result;
    try {
      result = await ingest.events(input);
    } catch (err) {
      throw asFlags(err);
    }
    const event = result.events[0]!;
    if (result.messages === 0) {
      throw new UsageError(`--profile ${profileName} does not carry events of type ${event.type}`, [{ path: '--type', message: `not carried by the ${profileName} profile` }]);
    }
    const sink = await delivery.sinkOf(binding!);
    const landed = sink.lastDeliveries ?? [];
    const where = landed.length > 0
      ? landed.map((d) => ` topic=${d.topic}${d.partition !== undefined ? ` partition=${d.partition}` : ''}${d.offset !== undefined ? ` offset=${d.offset}` : ''}`).join('')
      : ` topic=${binding!.encode(event)[0]?.topic ?? binding!.topic}`;
    process.stdout.write(`${event.id}${where}\n`);
    return 0;
  } finally {
    await delivery.close();
  }
}

/** The transport flags; any of them means the sink comes from the flags, not from --config. */
const TRANSPORT_FLAGS = ['brokers', 'producer-properties', 'nats', 'amqp', 'webhook', 'server'] as const;

/**
 * With --config (or --sink) and no transport flag: the configured sink emit publishes to,
 * --sink NAME or else the file's first, so its broker, security, topic, profile and mode apply
 * as `herald serve` would use them. Without --config the flags (or HERALD_KAFKA_BROKERS) say where.
 */
function configuredSink(values: Record<string, unknown>): SinkConfig | undefined {
  const given = TRANSPORT_FLAGS.find((f) => typeof values[f] === 'string');
  if (given !== undefined) {
    if (typeof values.sink === 'string') throw new UsageError(`--sink names a sink of --config; it conflicts with --${given}`, [{ path: '--sink', message: `conflicts with --${given}` }]);
    return undefined;
  }
  if (typeof values.config !== 'string' && typeof values.sink !== 'string') return undefined;
  const config = configFromFlags(values);
  if (typeof values.sink === 'string') return namedSink(config, values.sink);
  return config.sinks[0];
}

/** A configured sink with the flags over it; a --profile of another profile drops the sink's profile settings. */
function overConfigured(sink: SinkConfig, flags: Pick<SinkConfig, 'profile' | 'topic' | 'mode' | 'timeoutMs'>): SinkConfig {
  const { filter: _filter, enabled: _enabled, ...rest } = sink as SinkConfig & Record<string, unknown>;
  if ((sink.profile ?? 'cloudevents') !== flags.profile) {
    delete rest.profileOptions;
    delete rest.mode;
  }
  return { ...rest, ...flags } as SinkConfig;
}

/** `--header K=V` (repeatable): headers added to every message. */
export function parseHeaders(value: unknown): Record<string, string> | undefined {
  const list = Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf('=');
    if (i <= 0) throw new UsageError(`--header must be KEY=VALUE, got "${h}"`, [{ path: '--header', message: 'must be KEY=VALUE' }]);
    out[h.slice(0, i)] = h.slice(i + 1);
  }
  return out;
}

/** Makes a binding add `headers` to every message it encodes (Kafka/NATS headers, AMQP message headers). */
function withHeaders(binding: SinkBinding, headers: Record<string, string>): void {
  const encode = binding.encode.bind(binding);
  binding.encode = (event) => encode(event).map((m) => ({ ...m, headers: { ...m.headers, ...headers } }));
}

/** Extra secret key names: HERALD_REDACT_KEYS, and redact.keys of --config when given. */
function redactKeys(values: Record<string, unknown>): string[] {
  const fromEnv = (process.env.HERALD_REDACT_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (typeof values.config !== 'string') return fromEnv;
  const file = validateConfigInput(readConfigFile(values.config), `config file ${values.config}`);
  return [...fromEnv, ...(file.redact?.keys ?? [])];
}
