/**
 * URL handling shared by the NATS and AMQP transports: credential redaction for every message
 * that may reach a log or a user, parsing of NATS server lists with credentials in them, and
 * the auth/TLS settings both transports accept (config keys, URL, environment).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { redactKnownSecrets, redactUrlCredentials } from '../../shared/redact.js';

/** TLS material, as file paths (PEM). */
export interface TlsFiles {
  /** CA bundle used to verify the server (default: the system's trust store). */
  ca?: string;
  /** Client certificate, for mutual TLS. */
  cert?: string;
  /** The client certificate's private key. */
  key?: string;
}

/**
 * Auth and TLS settings of a NATS or AMQP sink/source beyond the URL. These are the keys the
 * lead is asked to add to `SinkConfig` (src/config/schema.ts); until then the sinks read them
 * from the config object when present.
 */
export interface TransportAuthConfig {
  /** nats: a token (instead of `nats://TOKEN@host`). */
  token?: string;
  /** nats: a `.creds` file (JWT + nkey seed), as written by `nsc` / `nats context`. */
  creds?: string;
  /** nats/amqp: TLS files; giving any of them switches TLS on. */
  tls?: TlsFiles;
}

/**
 * Replaces the credentials of every URL in `text` (Herald's one URL redactor, shared/redact.ts):
 * the password becomes `[REDACTED]`; a user without a password too, because
 * `nats://TOKEN@host` carries a token in that place. Accepts a single URL, a comma-separated
 * NATS server list or an error message.
 */
export const redactUrl = redactUrlCredentials;

/**
 * Redacts URL credentials, secret-looking pairs and the given secret strings (tokens,
 * passwords a client library may echo back in decoded form) from a message.
 */
export const redactText = redactKnownSecrets;

/** The message of any thrown value, redacted. */
export function errorMessage(err: unknown, secrets: readonly (string | undefined)[] = []): string {
  const msg = err instanceof Error ? err.message : String(err);
  return redactText(msg, secrets);
}

/** The result of splitting a NATS URL (or comma-separated list) into servers and credentials. */
export interface ParsedNatsUrl {
  /** `host:port` URLs without credentials, as the client takes them. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** True when a `tls://` scheme asks for TLS. */
  tls: boolean;
}

const NATS_SCHEMES = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

/**
 * Parses `nats://[user:pass@|token@]host[:port][,nats://host2...]`. A bare `host:port` is
 * accepted as `nats://host:port`. `key` names the config key or flag for error messages.
 */
export function parseNatsUrl(raw: string, key = 'url'): ParsedNatsUrl {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new ConfigError(`${key}: a NATS URL is required, e.g. nats://127.0.0.1:4222`, [{ path: key, message: 'required' }]);
  const out: ParsedNatsUrl = { servers: [], tls: false };
  for (const part of parts) {
    const schemed = /^[a-z][a-z0-9+.-]*:\/\//i.test(part);
    // A bare word is far more often a typo than a host: without a scheme, a port is required.
    if (!schemed && !/^(\[[0-9a-f:.]+\]|[^\s/:@]+):\d+$/i.test(part)) {
      throw new ConfigError(`${key}: ${redactUrl(part)} is not a NATS URL (expected nats://host:port, or host:port)`, [{ path: key, message: 'not a valid URL' }]);
    }
    const withScheme = schemed ? part : `nats://${part}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new ConfigError(`${key}: ${redactUrl(part)} is not a valid NATS URL (expected nats://host:port)`, [{ path: key, message: 'not a valid URL' }]);
    }
    if (!NATS_SCHEMES.has(u.protocol)) {
      throw new ConfigError(`${key}: scheme ${u.protocol} is not supported for NATS (use nats:// or tls://)`, [{ path: key, message: 'unsupported scheme' }]);
    }
    if (u.protocol === 'ws:' || u.protocol === 'wss:') {
      throw new ConfigError(`${key}: WebSocket URLs are not supported by the Node.js NATS client (use nats:// or tls://)`, [{ path: key, message: 'unsupported scheme' }]);
    }
    if (u.hostname === '') {
      throw new ConfigError(`${key}: ${redactUrl(part)} names no host (expected nats://host:port)`, [{ path: key, message: 'names no host' }]);
    }
    if (u.port !== '' && (Number(u.port) < 1 || Number(u.port) > 65535)) {
      throw new ConfigError(`${key}: port ${u.port} is out of range`, [{ path: key, message: 'port out of range' }]);
    }
    if (u.protocol === 'tls:') out.tls = true;
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    if (user !== '' && u.password === '' && !withScheme.includes(`${u.username}:@`)) out.token = user;
    else if (user !== '' || pass !== '') {
      out.user = user;
      out.pass = pass;
    }
    out.servers.push(`${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port === '' ? '4222' : u.port}`);
  }
  return out;
}

/** Parsed parts of an AMQP URL that matter for messages and TLS decisions. */
export interface ParsedAmqpUrl {
  tls: boolean;
  host: string;
  /** The URL with credentials redacted, for messages. */
  display: string;
}

/** Checks an `amqp://` / `amqps://` URL; `key` names the config key or flag in errors. */
export function parseAmqpUrl(raw: string, key = 'url'): ParsedAmqpUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${key}: ${redactUrl(raw)} is not a valid AMQP URL (expected amqp://user:pass@host:5672/vhost)`, [{ path: key, message: 'not a valid URL' }]);
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') {
    throw new ConfigError(`${key}: scheme ${u.protocol} is not supported for AMQP (use amqp:// or amqps://)`, [{ path: key, message: 'unsupported scheme' }]);
  }
  return { tls: u.protocol === 'amqps:', host: u.host, display: redactUrl(raw) };
}

/**
 * Reads a TLS file named by a config key; a missing or unreadable file is a ConfigError that
 * names the key (not the file's content).
 */
export function readTlsFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${key}: cannot read ${path} (${code})`, [{ path: key, message: `cannot read file (${code})` }]);
  }
}

/**
 * Auth/TLS settings from the environment, named the way the `nats` CLI names them:
 * NATS_CREDS, NATS_TOKEN, NATS_USER, NATS_PASSWORD, NATS_CA, NATS_CERT, NATS_KEY.
 */
export function natsAuthFromEnv(env: NodeJS.ProcessEnv = process.env): TransportAuthConfig & { user?: string; password?: string } {
  const out: TransportAuthConfig & { user?: string; password?: string } = {};
  if (env.NATS_CREDS) out.creds = env.NATS_CREDS;
  if (env.NATS_TOKEN) out.token = env.NATS_TOKEN;
  if (env.NATS_USER) out.user = env.NATS_USER;
  if (env.NATS_PASSWORD) out.password = env.NATS_PASSWORD;
  const tls: TlsFiles = {};
  if (env.NATS_CA) tls.ca = env.NATS_CA;
  if (env.NATS_CERT) tls.cert = env.NATS_CERT;
  if (env.NATS_KEY) tls.key = env.NATS_KEY;
  if (Object.keys(tls).length > 0) out.tls = tls;
  return out;
}

/** Rejects a TLS section with a certificate but no key (or the reverse), naming the key. */
export function checkTlsFiles(tls: TlsFiles | undefined, key: string): void {
  if (tls === undefined) return;
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'cert' : 'key';
    throw new ConfigError(`${key}.${missing}: a client certificate needs both cert and key`, [{ path: `${key}.${missing}`, message: 'required with ' + (missing === 'cert' ? 'key' : 'cert') }]);
  }
}
