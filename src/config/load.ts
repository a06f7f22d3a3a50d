/**
 * Loading configuration: defaults < file (YAML or JSON) < environment variables < flags.
 * Validated once; a bad value throws ConfigError naming the key or variable and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';
import { ajvProblems, createAjv } from '../events/validate.js';
import type { ValidateFunction } from 'ajv';
import { PROFILE_NAMES } from '../profiles/registry.js';
import { isBrokerAddress } from '../transports/kafka/address.js';
import { HeraldConfigSchema, LOG_LEVELS, type HeraldConfig, type HeraldConfigInput, type SinkConfig } from './schema.js';
import { resolveSinks, sinkProblems, type SinkKeyNamer } from './sinks.js';

export { isBrokerAddress };

export const DEFAULTS = {
  server: { host: '127.0.0.1', port: 8080, bodyLimit: 5 * 1024 * 1024, streamStallMs: 30_000 },
  store: { url: 'sqlite:./data/herald.db' },
  streaming: true,
  auth: { apiTokens: [], readTokens: [], requireTokens: false },
  redact: { keys: [] },
  retention: { days: 30 },
  entities: { watchedStates: ['RUNNING'] },
  logLevel: 'info',
  sinks: [],
} as const satisfies HeraldConfig;

// Compiled on first use: `herald emit` imports this module but validates a whole config only
// when given --config.
let validateConfig: ValidateFunction | undefined;
const configValidator = (): ValidateFunction => (validateConfig ??= createAjv().compile(HeraldConfigSchema));

export interface LoadOptions {
  /** Path of a YAML or JSON config file. */
  file?: string;
  /** Environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, applied last. */
  overrides?: HeraldConfigInput;
}

/**
 * The YAML parser, loaded on the first YAML file: commands run without --config (every
 * `herald emit` of a script) don't read its 300 KB.
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/** Reads and parses a config file; errors name the file. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // A file that says nothing is a mistake (a truncated copy, the wrong path): starting on
  // defaults would accept events that no sink ever receives.
  if (text.trim() === '') throw new ConfigError(`config file ${file} is empty; give at least one key (e.g. sinks), or leave out --config`, [{ path: file, message: 'is empty' }]);
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

const splitList = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

function envBoolean(name: string, v: string): boolean {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`, [{ path: name, message: 'must be true or false' }]);
}

function envPort(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`${name} must be a port number (0-65535), got "${v}"`, [{ path: name, message: 'must be a port number (0-65535)' }]);
  return n;
}

/** Maps HERALD_* environment variables (and, with the assisted profile, its aliases) to config. */
export function configFromEnv(env: NodeJS.ProcessEnv): HeraldConfigInput {
  const out: HeraldConfigInput = {};
  const get = (k: string) => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const host = get('HERALD_HOST');
  const port = get('HERALD_PORT');
  if (host !== undefined || port !== undefined) {
    out.server = { ...(host !== undefined && { host }), ...(port !== undefined && { port: envPort('HERALD_PORT', port) }) };
  }
  const db = get('HERALD_DB');
  if (db !== undefined) {
    if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(db)) {
      throw new ConfigError('HERALD_DB must be sqlite:PATH or postgres://user@host/db', [{ path: 'HERALD_DB', message: 'must be sqlite:PATH or postgres://user@host/db' }]);
    }
    out.store = { url: db };
  }
  const streaming = get('HERALD_STREAMING');
  if (streaming !== undefined) out.streaming = envBoolean('HERALD_STREAMING', streaming);
  const apiTokens = get('HERALD_API_TOKENS');
  const readTokens = get('HERALD_READ_TOKENS');
  const requireTokens = get('HERALD_REQUIRE_TOKENS');
  if (apiTokens !== undefined || readTokens !== undefined || requireTokens !== undefined) {
    out.auth = {
      ...(apiTokens !== undefined && { apiTokens: splitList(apiTokens) }),
      ...(readTokens !== undefined && { readTokens: splitList(readTokens) }),
      ...(requireTokens !== undefined && { requireTokens: envBoolean('HERALD_REQUIRE_TOKENS', requireTokens) }),
    };
  }
  const redact = get('HERALD_REDACT_KEYS');
  if (redact !== undefined) out.redact = { keys: splitList(redact) };
  const retention = get('HERALD_RETENTION_DAYS');
  if (retention !== undefined) {
    const days = Number(retention);
    if (!(days > 0)) throw new ConfigError(`HERALD_RETENTION_DAYS must be a positive number of days, got "${retention}"`, [{ path: 'HERALD_RETENTION_DAYS', message: 'must be a positive number' }]);
    out.retention = { days };
  }
  const logLevel = get('HERALD_LOG_LEVEL');
  if (logLevel !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
      throw new ConfigError(`HERALD_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`, [{ path: 'HERALD_LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}` }]);
    }
    out.logLevel = logLevel as HeraldConfig['logLevel'];
  }

  // One Kafka sink as a shortcut. With the assisted profile, its own variable names are aliases.
  const profile = get('HERALD_KAFKA_PROFILE');
  if (profile !== undefined && !(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new ConfigError(`HERALD_KAFKA_PROFILE must be one of ${PROFILE_NAMES.join(', ')}, got "${profile}"`, [{ path: 'HERALD_KAFKA_PROFILE', message: `must be one of ${PROFILE_NAMES.join(', ')}` }]);
  }
  const assisted = profile === 'assisted';
  const brokers = get('HERALD_KAFKA_BROKERS') ?? (assisted ? get('KAFKA_BOOTSTRAP_SERVER') : undefined);
  const topic = get('HERALD_KAFKA_TOPIC') ?? (assisted ? get('KAFKA_EVENT_STREAM_TOPIC') : undefined);
  if (assisted && out.streaming === undefined && get('ENABLE_EVENT_STREAMING') !== undefined) {
    out.streaming = envBoolean('ENABLE_EVENT_STREAMING', get('ENABLE_EVENT_STREAMING')!);
  }
  if (brokers !== undefined) {
    const list = splitList(brokers);
    const bad = list.find((b) => !isBrokerAddress(b));
    if (list.length === 0 || bad !== undefined) {
      throw new ConfigError(`HERALD_KAFKA_BROKERS must be a comma-separated list of HOST:PORT, got "${brokers}"`, [{ path: 'HERALD_KAFKA_BROKERS', message: 'must be HOST:PORT[,HOST:PORT...]' }]);
    }
    const sink: SinkConfig = {
      name: 'kafka',
      type: 'kafka',
      brokers: list,
      ...(profile !== undefined && { profile: profile as SinkConfig['profile'] }),
      ...(topic !== undefined && { topic }),
    };
    out.sinks = [sink];
  } else if (topic !== undefined || profile !== undefined) {
    throw new ConfigError('HERALD_KAFKA_TOPIC and HERALD_KAFKA_PROFILE need HERALD_KAFKA_BROKERS', [{ path: 'HERALD_KAFKA_BROKERS', message: 'is required with HERALD_KAFKA_TOPIC or HERALD_KAFKA_PROFILE' }]);
  }
  return out;
}

/** The sink of HERALD_KAFKA_* is named by its variables in problems. */
const ENV_SINK_KEYS: Record<string, string> = { brokers: 'HERALD_KAFKA_BROKERS', topic: 'HERALD_KAFKA_TOPIC', profile: 'HERALD_KAFKA_PROFILE' };
const envSinkKey: SinkKeyNamer = (i, key) => ENV_SINK_KEYS[key] ?? (key === '' ? `sinks[${i}]` : `sinks[${i}].${key}`);

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (Array.isArray(over) || over === null || typeof over !== 'object' || typeof base !== 'object' || base === null || Array.isArray(base)) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out as T;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validates one config object (file form); throws ConfigError naming every bad key. */
export function validateConfigInput(input: unknown, origin = 'configuration', sinkNames?: SinkKeyNamer): HeraldConfigInput {
  if (input === null || input === undefined) return {};
  const validate = configValidator();
  if (!validate(input)) {
    const problems = ajvProblems(validate.errors, '', (p) => keysAt(p));
    throw new ConfigError(`invalid ${origin}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }
  const problems = sinkProblems((input as HeraldConfigInput).sinks ?? [], sinkNames);
  if (problems.length > 0) {
    throw new ConfigError(`invalid ${origin}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }
  return input as HeraldConfigInput;
}

function keysAt(path: string): string[] | undefined {
  // Walks the schema to list the allowed keys at a path such as `sinks[0]` or `server`.
  let node: unknown = HeraldConfigSchema;
  for (const part of path.split(/\.|\[\d+\]/).filter(Boolean)) {
    const n = node as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
    node = n.properties?.[part];
    const m = node as { items?: unknown; anyOf?: unknown[] } | undefined;
    if (m?.items) node = m.items;
  }
  const props = (node as { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown> } } | undefined);
  const p = props?.properties ?? props?.items?.properties;
  return p ? Object.keys(p) : undefined;
}

/**
 * What serving the API needs beyond a valid configuration: with auth.requireTokens
 * (HERALD_REQUIRE_TOKENS) at least one API token, so a container bound to 0.0.0.0 refuses to
 * start rather than accept writes from anyone who can reach the port. Only the commands that
 * serve the API check it: the same image runs emit, replay or connect-health without tokens.
 */
export function checkServeConfig(config: Pick<HeraldConfig, 'auth'>): void {
  if (config.auth.requireTokens && config.auth.apiTokens.length === 0) {
    throw new ConfigError(
      'auth.requireTokens (HERALD_REQUIRE_TOKENS) is on but no API token is configured: set HERALD_API_TOKENS to comma-separated bearer tokens (8+ characters each) or auth.apiTokens in the config file, or set HERALD_REQUIRE_TOKENS=false to accept open writes',
      [{ path: 'HERALD_API_TOKENS', message: 'is required when auth.requireTokens / HERALD_REQUIRE_TOKENS is true' }],
    );
  }
}

/** Loads, merges and validates the configuration; the result is frozen. */
export function loadConfig(options: LoadOptions = {}): HeraldConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.HERALD_CONFIG || undefined);
  const fromFile = file !== undefined ? validateConfigInput(readConfigFile(file), `config file ${file}`) : {};
  const fromEnv = configFromEnv(env);
  let merged: HeraldConfigInput = merge(merge(fromFile, fromEnv), options.overrides ?? {});
  // Sinks from HERALD_KAFKA_* alone are named by their variables.
  const fromEnvOnly = fromFile.sinks === undefined && options.overrides?.sinks === undefined && fromEnv.sinks !== undefined;
  merged = validateConfigInput(merged, 'configuration', fromEnvOnly ? envSinkKey : undefined);
  const full = deepFreeze(merge(structuredClone(DEFAULTS) as unknown as HeraldConfig, merged));
  // Producer properties, TLS files: read and checked now, once (exit 2 naming the key).
  resolveSinks(full.sinks, { env, ...(fromEnvOnly && { at: envSinkKey }) });
  return full;
}
