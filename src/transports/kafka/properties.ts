/**
 * Java-style Kafka producer properties files (`kafka.producer.properties`), as CloudStack's
 * event bus and the Kafka CLI tools use them. Parsing follows java.util.Properties (key=value
 * or key:value or key value, # and ! comments, backslash line continuations and escapes); the
 * known keys are mapped onto Herald's Kafka client settings. Unknown keys are warnings, not
 * errors, so a file written for the Java client keeps working; a bad value is a ConfigError
 * naming the key and the file. TLS and SASL keys (security.protocol, sasl.*, ssl.*) are
 * validated by the Kafka security module (src/transports/kafka/security/settings.ts), the one place that
 * knows them, and kept here as `security`.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { isBrokerAddress } from './address.js';
import { KAFKA_SECURITY_PROPERTY_KEYS, kafkaSecurityFromProperties, type KafkaSecurity } from './security/settings.js';

/** Compression codecs of Kafka's `compression.type`. */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
/** Client settings taken from a producer properties file; every field is optional. */
export interface KafkaClientSettings {
  brokers?: string[];
  /** -1 (all), 0 or 1. Herald's sink uses the idempotent producer only with -1. */
  acks?: -1 | 0 | 1;
  retries?: number;
  clientId?: string;
  compression?: KafkaCompression;
  lingerMs?: number;
  batchSize?: number;
  /** `max.request.size`: the most bytes of records one produce request carries (Java's default 1 MiB). */
  maxRequestBytes?: number;
  requestTimeoutMs?: number;
  idempotent?: boolean;
  /** TLS/SASL settings (validated; secrets wrapped so they never print). */
  security?: KafkaSecurity;
  /** The `topic` key of CloudStack's kafka.producer.properties. */
  topic?: string;
}

export interface ProducerPropertiesResult {
  settings: KafkaClientSettings;
  /** The parsed key/value pairs (for the security module to merge with the environment). */
  properties: Map<string, string>;
  /** Unknown or ignored keys, one sentence each. */
  warnings: string[];
}

/** Parses the text of a .properties file into ordered key/value pairs (java.util.Properties rules). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  // Join continuation lines first: a line ending in an odd number of backslashes continues.
  const rawLines = text.split(/\r\n|\r|\n/);
  const logical: string[] = [];
  let current: string | undefined;
  for (const raw of rawLines) {
    const line = current === undefined ? raw.replace(/^[ \t\f]+/, '') : raw.replace(/^[ \t\f]+/, '');
    if (current === undefined && (line === '' || line.startsWith('#') || line.startsWith('!'))) continue;
    const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
    const continues = trailing % 2 === 1;
    const body = continues ? line.slice(0, -1) : line;
    current = (current ?? '') + body;
    if (!continues) {
      logical.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) logical.push(current);

  for (const line of logical) {
    // The key ends at the first unescaped =, : or whitespace.
    let i = 0;
    let key = '';
    while (i < line.length) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) {
        key += c + line[i + 1];
        i += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      key += c;
      i++;
    }
    // Skip whitespace, one separator, whitespace.
    while (i < line.length && /[ \t\f]/.test(line[i]!)) i++;
    if (i < line.length && (line[i] === '=' || line[i] === ':')) i++;
    while (i < line.length && /[ \t\f]/.test(line[i]!)) i++;
    out.set(unescape(key), unescape(line.slice(i)));
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    switch (e) {
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      default: return e;
    }
  });
}

/** Keys the Java client accepts that Herald reads but does not need (no warning). */
const IGNORED_QUIETLY = new Set(['key.serializer', 'value.serializer', 'enable.idempotence', 'max.in.flight.requests.per.connection']);

/**
 * Maps parsed properties onto client settings. `origin` names the file in error messages.
 * Unknown keys give warnings; bad values throw ConfigError naming key and file.
 */
export function producerSettingsFromProperties(props: Map<string, string>, origin = 'producer properties', options: { validateSecurity?: boolean } = {}): ProducerPropertiesResult {
  const settings: KafkaClientSettings = {};
  const warnings: string[] = [];
  const bad = (key: string, allowed: string, value: string): never => {
    throw new ConfigError(`${origin}: ${key} must be ${allowed}, got "${value}"`, [{ path: key, message: `must be ${allowed}` }]);
  };
  const int = (key: string, value: string, min: number): number => {
    if (!/^-?\d+$/.test(value.trim()) || Number(value) < min) bad(key, `a whole number >= ${min}`, value);
    return Number(value);
  };
  const securityKeys = new Set(KAFKA_SECURITY_PROPERTY_KEYS);

  for (const [key, rawValue] of props) {
    const value = rawValue.trim();
    switch (key) {
      case 'bootstrap.servers': {
        const list = value.split(',').map((s) => s.trim()).filter(Boolean);
        const wrong = list.find((b) => !isBrokerAddress(b));
        if (list.length === 0 || wrong !== undefined) bad(key, 'a comma-separated list of HOST:PORT', value);
        settings.brokers = list;
        break;
      }
      case 'acks':
        if (value === 'all' || value === '-1') settings.acks = -1;
        else if (value === '0') settings.acks = 0;
        else if (value === '1') settings.acks = 1;
        else bad(key, 'all, -1, 0 or 1', value);
        break;
      case 'retries':
        settings.retries = int(key, value, 0);
        break;
      case 'client.id':
        if (!/^\S+$/.test(value)) bad(key, 'a non-empty name without spaces', value);
        settings.clientId = value;
        break;
      case 'compression.type':
        if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(value)) bad(key, 'one of none, gzip, snappy, lz4, zstd', value);
        settings.compression = value as KafkaCompression;
        break;
      case 'linger.ms':
        settings.lingerMs = int(key, value, 0);
        break;
      case 'batch.size':
        settings.batchSize = int(key, value, 0);
        break;
      case 'max.request.size':
        settings.maxRequestBytes = int(key, value, 1024);
        break;
      case 'request.timeout.ms':
        settings.requestTimeoutMs = int(key, value, 1);
        break;
      case 'enable.idempotence':
        if (value !== 'true' && value !== 'false') bad(key, 'true or false', value);
        settings.idempotent = value === 'true';
        break;
      case 'topic':
        if (value === '' || value.length > 249 || !/^[A-Za-z0-9._-]+$/.test(value)) bad(key, 'a Kafka topic name (letters, digits, . _ -; at most 249 characters)', value);
        settings.topic = value;
        break;
      default:
        if (IGNORED_QUIETLY.has(key) || securityKeys.has(key)) break;
        // Never echo the value: an unknown key might hold a secret.
        warnings.push(`${origin}: unknown key ${key} is ignored`);
    }
  }
  // Callers that merge HERALD_KAFKA_* variables afterwards validate the merged settings instead
  // (a file may leave the password to HERALD_KAFKA_SASL_PASSWORD).
  if (options.validateSecurity !== false && [...props.keys()].some((k) => securityKeys.has(k))) {
    settings.security = kafkaSecurityFromProperties(props, origin);
    warnings.push(...settings.security.warnings);
  }
  return { settings, properties: props, warnings };
}

/** Reads and maps a producer properties file; errors name the file. */
export function loadProducerProperties(file: string, options: { validateSecurity?: boolean } = {}): ProducerPropertiesResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read producer properties file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, [{ path: 'producerProperties', message: 'cannot be read' }]);
  }
  return producerSettingsFromProperties(parseProperties(text), file, options);
}
