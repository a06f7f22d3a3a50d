/**
 * Sink configuration: a union keyed on `type`, one schema per transport built from the
 * transport registry (the common keys plus the transport's own) and the profile registry (the
 * profile's own `profileOptions`). Validated in one place, whatever the sink came from — the
 * config file, HERALD_KAFKA_* variables, CLI flags or the library's createPublisher — with
 * problems named the caller's way (`sinks[0].brokers`, `--brokers`). Resolution (reading a
 * producer properties file, TLS files, the transports' environment variables) also happens
 * here, once, so a sink receives valid options and never raises a config error of its own.
 */
import { Type, type TObject } from 'typebox';
import type { ValidateFunction } from 'ajv';
import { ConfigError, type FieldProblem } from '../errors.js';
import { SEVERITIES } from '../events/schema.js';
import { ajvProblems, createAjv } from '../events/validate.js';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../profiles/registry.js';
import type { Profile } from '../profiles/types.js';
import { TRANSPORT_NAMES, TRANSPORTS, type TransportName } from '../transports/registry.js';
import type { KeyNamer, TransportDefinition } from '../transports/types.js';

/** The topic of a sink whose config, settings and profile name none. */
export const DEFAULT_TOPIC = 'herald.events';

export const SinkFilter = Type.Object(
  {
    types: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    severities: Type.Optional(Type.Array(Type.Enum(SEVERITIES))),
    entityKinds: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/** Keys every sink has, whatever its transport. */
const COMMON_KEYS = {
  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'unique sink name' }),
  enabled: Type.Optional(Type.Boolean()),
  profile: Type.Optional(Type.Enum(PROFILE_NAMES as [ProfileName, ...ProfileName[]], { description: 'the wire format (default cloudevents)' })),
  topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249, description: 'topic, subject or routing key; profiles with their own topic scheme ignore it' })),
  mode: Type.Optional(Type.Union([Type.Literal('binary'), Type.Literal('structured')], { description: 'cloudevents only: binary (default) or structured' })),
  filter: Type.Optional(SinkFilter),
  profileOptions: Type.Optional(Type.Object({}, { additionalProperties: true, description: "the profile's own settings" })),
  /** Relay tuning. */
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600000 })),
  maxMessageBytes: Type.Optional(Type.Integer({ minimum: 1024, description: "the largest message this sink's broker takes (default: the transport's)" })),
  oversized: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('park')], { description: 'an event larger than maxMessageBytes: refused at ingest with 413 (default), or accepted and parked' })),
};

/** The schema of one transport's sinks. */
export function sinkSchema(type: TransportName): TObject {
  return Type.Object({ ...COMMON_KEYS, type: Type.Literal(type), ...TRANSPORTS[type].sinkOptions }, { additionalProperties: false });
}

/** Every sink form, for documents (OpenAPI, AsyncAPI, docs); validation uses sinkSchema per type. */
export const SinkConfigSchema = Type.Union(TRANSPORT_NAMES.map(sinkSchema));

type Filter = { types?: string[]; severities?: (typeof SEVERITIES)[number][]; entityKinds?: string[] };

/** The keys every sink has. */
export interface CommonSinkConfig {
  name: string;
  enabled?: boolean;
  profile?: ProfileName;
  topic?: string;
  mode?: 'binary' | 'structured';
  filter?: Filter;
  profileOptions?: Record<string, unknown>;
  batchSize?: number;
  timeoutMs?: number;
  maxMessageBytes?: number;
  oversized?: 'reject' | 'park';
}

/** A transport's own sink keys: what its resolve() takes. */
type OptionsOf<D> = D extends { resolve(options: infer O, ...rest: never[]): unknown } ? O : never;

/** A sink of the config file's form: the common keys, `type`, and that transport's own keys. */
export type SinkConfig = { [T in TransportName]: CommonSinkConfig & { type: T } & OptionsOf<(typeof TRANSPORTS)[T]> }[TransportName];

const ajv = createAjv();
const validators = new Map<string, ValidateFunction>();
function validatorOf(key: string, schema: () => TObject): ValidateFunction {
  let v = validators.get(key);
  if (v === undefined) {
    v = ajv.compile(schema());
    validators.set(key, v);
  }
  return v;
}

/** How a caller names a sink's keys: `(i, key) => 'sinks[0].brokers'`, or a flag name. */
export type SinkKeyNamer = (index: number, key: string) => string;

export const configPath: SinkKeyNamer = (i, key) => (key === '' ? `sinks[${i}]` : `sinks[${i}].${key}`);

/** Every problem of a list of sink configs (shape, per-transport and per-profile keys, unique names, checks). */
export function sinkProblems(sinks: readonly unknown[], at: SinkKeyNamer = configPath): FieldProblem[] {
  const out: FieldProblem[] = [];
  const names = new Set<string>();
  sinks.forEach((raw, i) => {
    const name: KeyNamer = (key) => at(i, key);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      out.push({ path: at(i, ''), message: 'must be an object with at least name and type' });
      return;
    }
    const s = raw as Record<string, unknown>;
    const type = s.type;
    if (typeof type !== 'string' || !(TRANSPORT_NAMES as readonly string[]).includes(type)) {
      out.push({ path: name('type'), message: type === undefined ? `is required: one of ${TRANSPORT_NAMES.join(', ')}` : `must be one of ${TRANSPORT_NAMES.join(', ')}` });
      return;
    }
    const transport = TRANSPORTS[type as TransportName] as TransportDefinition<any, unknown, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const validate = validatorOf(`sink:${type}`, () => sinkSchema(type as TransportName));
    if (!validate(s)) {
      const allowed = Object.keys(sinkSchema(type as TransportName).properties);
      for (const p of ajvProblems(validate.errors, '', (path) => (path === '' ? allowed : undefined))) {
        out.push({ path: p.path === '' ? at(i, '') : renamePath(p.path, name), message: p.message });
      }
      return;
    }
    const sink = s as unknown as SinkConfig;
    if (names.has(sink.name)) out.push({ path: name('name'), message: `"${sink.name}" is used by another sink; names must be unique` });
    names.add(sink.name);
    const profile: Profile = PROFILES[sink.profile ?? 'cloudevents'];
    if (sink.mode !== undefined && profile.modes === undefined) out.push({ path: name('mode'), message: `applies to profiles with CloudEvents modes only (${PROFILE_NAMES.filter((p) => PROFILES[p].modes !== undefined).join(', ')})` });
    if (sink.profileOptions !== undefined) {
      const v = validatorOf(`profile:${profile.name}`, () => Type.Object(profile.options ?? {}, { additionalProperties: false }));
      if (!v(sink.profileOptions)) {
        const allowed = Object.keys(profile.options ?? {});
        for (const p of ajvProblems(v.errors, '', (path) => (path === '' ? (allowed.length > 0 ? allowed : ['(none)']) : undefined))) {
          out.push({ path: name(p.path === '' ? 'profileOptions' : `profileOptions.${p.path}`), message: p.message });
        }
      }
    }
    out.push(...(transport.check?.(sink, name) ?? []));
  });
  return out;
}

/** `brokers[0]` → at('brokers') + `[0]`; `tls.ca` → at('tls') + `.ca`. */
function renamePath(path: string, at: KeyNamer): string {
  const m = /^([^.[]+)(.*)$/.exec(path);
  return m === null ? at(path) : at(m[1]!) + m[2]!;
}

/** Validates a list of sinks; throws ConfigError listing every problem. */
export function validateSinks(sinks: readonly unknown[], origin = 'configuration', at: SinkKeyNamer = configPath): SinkConfig[] {
  const problems = sinkProblems(sinks, at);
  if (problems.length > 0) throw new ConfigError(`invalid ${origin}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  return sinks as SinkConfig[];
}

/** A sink with what its transport resolved (connection settings, files read). */
export interface ResolvedSink {
  readonly config: Readonly<SinkConfig>;
  readonly transport: TransportDefinition<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly profile: Profile;
  readonly resolved: unknown;
}

const cache = new WeakMap<readonly unknown[], readonly ResolvedSink[]>();

/**
 * Resolves valid sinks (reads producer properties and TLS files, the transports' variables).
 * The result is kept for the array it was computed from, so loading the config resolves once
 * and everything built from that config reuses it.
 */
export function resolveSinks(sinks: readonly Readonly<SinkConfig>[], options: { env?: NodeJS.ProcessEnv; at?: SinkKeyNamer } = {}): readonly ResolvedSink[] {
  const known = cache.get(sinks);
  if (known !== undefined) return known;
  const at = options.at ?? configPath;
  const env = options.env ?? process.env;
  const out = sinks.map((config, i): ResolvedSink => {
    const transport = TRANSPORTS[config.type] as TransportDefinition<any, unknown, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return Object.freeze({ config, transport, profile: PROFILES[config.profile ?? 'cloudevents'], resolved: transport.resolve(config, (key) => at(i, key), env) });
  });
  cache.set(sinks, out);
  return out;
}
