/**
 * Connection settings shared by Herald's Kafka producer, consumer and admin clients: brokers,
 * client id, timeouts, TLS and SASL, from a sink config, a Java-style producer properties file
 * and HERALD_KAFKA_* variables. Explicit settings (config, flags) win over the properties file.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ConfigError } from '../../errors.js';
import { loadProducerProperties, type KafkaClientSettings } from './properties.js';
import { toClientOptions, type KafkaSaslClientOptions } from './security/client.js';
import { resolveKafkaSecurity, type KafkaSecurity } from './security/settings.js';

/** Default bound for every broker operation (connect, produce, admin calls). */
export const DEFAULT_KAFKA_TIMEOUT_MS = 10_000;

/** Where a Kafka client connects, as given by config, flags or a properties file. */
export interface KafkaConnectionInput {
  brokers?: readonly string[];
  /** Path of a Java-style producer properties file. */
  producerProperties?: string;
  clientId?: string;
  timeoutMs?: number;
  /** Environment for HERALD_KAFKA_* security variables (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Resolved settings; `settings` keeps what the properties file said (acks, compression, topic). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  timeoutMs: number;
  settings: KafkaClientSettings;
  warnings: string[];
  /** TLS/SASL from the properties file and HERALD_KAFKA_* variables (variables win), if any. */
  security?: KafkaSecurity;
  tls?: TlsOptions;
  sasl?: KafkaSaslClientOptions;
}

/** Merges config, properties file and environment into client connection settings. */
export function resolveKafkaConnection(input: KafkaConnectionInput, defaultClientId = 'herald'): KafkaConnection {
  const fromFile = input.producerProperties !== undefined ? loadProducerProperties(input.producerProperties, { validateSecurity: false }) : undefined;
  const settings = fromFile?.settings ?? {};
  const brokers = input.brokers !== undefined && input.brokers.length > 0 ? [...input.brokers] : settings.brokers;
  if (brokers === undefined || brokers.length === 0) {
    throw new ConfigError('no Kafka brokers: give --brokers (or brokers in the sink config) or bootstrap.servers in the producer properties', [{ path: 'brokers', message: 'is required' }]);
  }
  const security = resolveKafkaSecurity({
    ...(fromFile !== undefined && { properties: fromFile.properties, origin: input.producerProperties }),
    env: input.env ?? process.env,
  });
  const warnings = [...(fromFile?.warnings ?? [])];
  for (const w of security?.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
  const conn: KafkaConnection = {
    brokers,
    clientId: input.clientId ?? settings.clientId ?? defaultClientId,
    timeoutMs: input.timeoutMs ?? settings.requestTimeoutMs ?? DEFAULT_KAFKA_TIMEOUT_MS,
    settings,
    warnings,
  };
  if (security !== undefined) {
    conn.security = security;
    // Reads the PEM files now: a missing file is a ConfigError at start, not a broker error.
    const client = toClientOptions(security);
    if (client.tls !== undefined) conn.tls = client.tls;
    if (client.sasl !== undefined) conn.sasl = client.sasl;
  }
  return conn;
}

/** Base options for any @platformatic/kafka client built from a resolved connection. */
export function baseClientOptions(conn: KafkaConnection): {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  requestTimeout: number;
  retries: number;
  retryDelay: number;
  tls?: TlsOptions;
  sasl?: KafkaSaslClientOptions;
} {
  return {
    clientId: conn.clientId,
    bootstrapBrokers: conn.brokers,
    // Each attempt is bounded; the caller's overall timer bounds the whole operation.
    connectTimeout: Math.min(conn.timeoutMs, 5000),
    timeout: conn.timeoutMs,
    requestTimeout: conn.timeoutMs,
    retries: 3,
    retryDelay: 250,
    ...(conn.tls !== undefined && { tls: conn.tls }),
    ...(conn.sasl !== undefined && { sasl: conn.sasl }),
  };
}
