/**
 * An AMQP sink's keys and their resolution: the URL checked and the TLS files read here (no
 * client library), with a connection name RabbitMQ shows (and `rabbitmqctl close_connection`
 * can target).
 */
import type { SocketOptions } from 'amqplib';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import { checkTlsFiles, parseAmqpUrl, readTlsFile, type TlsFiles } from '../shared/url.js';

/** The exchange a sink publishes to and a source binds to when none is configured. */
export const DEFAULT_EXCHANGE = 'herald.events';

/** RabbitMQ 4's default `max_message_size` (16 MiB; 3.x allowed 128 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export const AMQP_SINK_OPTIONS = {
  url: Type.String({ minLength: 1, description: 'amqp://user:pass@host:5672/vhost or amqps://...' }),
  exchange: Type.Optional(Type.String({ minLength: 1, description: `the durable topic exchange (default ${DEFAULT_EXCHANGE})` })),
  tls: Type.Optional(Type.Object({
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String({ minLength: 1 })),
  }, { additionalProperties: false })),
};

export interface AmqpOptions {
  url: string;
  exchange?: string;
  tls?: TlsFiles;
  timeoutMs?: number;
}

export interface AmqpResolved {
  built: BuiltAmqpOptions;
  exchange: string;
  timeoutMs: number;
}

/** What an AMQP source reads, besides the common source options. */
export interface AmqpSourceSpec {
  url: string;
  /** The durable topic exchange (default herald.events); declared if missing. */
  exchange?: string;
  /** Binding pattern(s), e.g. `*.ActionEvent.#` (default `#`: everything). */
  binding?: string | string[];
  /** A named durable queue (default: the group if given, else an exclusive server-named queue). */
  queue?: string;
  /** Unacknowledged messages the broker may send ahead (default 256). */
  prefetch?: number;
  tls?: TlsFiles;
  /** Connect timeout per attempt in ms (default 10 s). */
  timeoutMs?: number;
  /** Connection name shown by RabbitMQ (default herald-source). */
  connectionName?: string;
}

/** What an AMQP sink or source needs to connect. */
export interface AmqpConnectSettings {
  /** `amqp://user:pass@host:5672/vhost` or `amqps://...` (query options such as heartbeat allowed). */
  url: string;
  /** Shown as the connection's name in the RabbitMQ management UI and `rabbitmqctl`. */
  connectionName: string;
  /** TLS files (PEM); they apply to amqps:// URLs. */
  tls?: TlsFiles;
  /** The config key (or flag) the URL came from, for error messages. */
  key?: string;
  /** The config key of the TLS files, for error messages (default `tls`). */
  tlsKey?: string;
}

/** A checked AMQP target, ready for connectAmqp. */
export interface BuiltAmqpOptions {
  url: string;
  socket: SocketOptions;
  /** The URL with credentials redacted, for messages. */
  display: string;
  secrets: string[];
}

/** Checks the URL and reads TLS files; errors name the key. */
export function buildAmqpOptions(s: AmqpConnectSettings): BuiltAmqpOptions {
  const key = s.key ?? 'url';
  const parsed = parseAmqpUrl(s.url, key);
  const tlsKey = s.tlsKey ?? 'tls';
  checkTlsFiles(s.tls, tlsKey);
  if (s.tls !== undefined && !parsed.tls && (s.tls.ca ?? s.tls.cert) !== undefined) {
    throw new HeraldError('CONFIG', `${tlsKey}: TLS files are set but ${key} ${parsed.display} is not amqps://`, { details: [{ path: key, message: 'use amqps:// with tls' }] });
  }
  const socket: SocketOptions = { clientProperties: { connection_name: s.connectionName } };
  if (s.tls?.ca !== undefined) socket.ca = [readTlsFile(s.tls.ca, `${tlsKey}.ca`)];
  if (s.tls?.cert !== undefined) socket.cert = readTlsFile(s.tls.cert, `${tlsKey}.cert`);
  if (s.tls?.key !== undefined) socket.key = readTlsFile(s.tls.key, `${tlsKey}.key`);
  let pass: string | undefined;
  try {
    pass = decodeURIComponent(new URL(s.url).password) || undefined;
  } catch {
    pass = undefined;
  }
  return { url: s.url, socket, display: parsed.display, secrets: pass === undefined ? [] : [pass] };
}

