/**
 * A NATS sink's keys and their resolution into connection settings: servers, credentials and
 * TLS files read and checked here (no client library), so a wrong path or URL is a
 * configuration error naming the key, before anything connects.
 */
import { Type } from 'typebox';
import {
  checkTlsFiles,
  natsAuthFromEnv,
  parseNatsUrl,
  readTlsFile,
  redactUrl,
  type TransportAuthConfig,
} from '../shared/url.js';

/** The JetStream stream a sink uses when `stream` is not configured. */
export const DEFAULT_STREAM = 'HERALD';

/** nats-server's default max_payload; the server may announce a smaller one. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The keys of a NATS sink besides the common ones. */
export const NATS_SINK_OPTIONS = {
  url: Type.String({ minLength: 1, description: 'nats://[user:pass@|token@]host:4222[,nats://host2:4222] or tls://...' }),
  jetstream: Type.Optional(Type.Boolean({ description: 'publish through JetStream with acknowledgements (default true)' })),
  createStream: Type.Optional(Type.Boolean({ description: 'create the stream when missing' })),
  stream: Type.Optional(Type.String({ minLength: 1, description: `the JetStream stream (default ${DEFAULT_STREAM})` })),
  subjects: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'subjects of a stream Herald creates' })),
  token: Type.Optional(Type.String({ minLength: 1, description: 'auth token (instead of nats://TOKEN@host)' })),
  creds: Type.Optional(Type.String({ minLength: 1, description: 'a JWT + nkey seed credentials file' })),
  tls: Type.Optional(Type.Object({
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String({ minLength: 1 })),
  }, { additionalProperties: false })),
};

export interface NatsOptions extends TransportAuthConfig {
  url: string;
  jetstream?: boolean;
  createStream?: boolean;
  stream?: string;
  subjects?: string[];
  timeoutMs?: number;
}

/** What connecting needs, with files already read; `secrets` must never appear in a message. */
export interface NatsSettings {
  servers: string[];
  name: string;
  timeoutMs: number;
  user?: string;
  pass?: string;
  token?: string;
  /** The bytes of a .creds file. */
  creds?: Uint8Array;
  tls?: { ca?: string; cert?: string; key?: string };
  /** The URL with credentials redacted, for messages. */
  display: string;
  secrets: string[];
  /** Where the TLS files came from, for hints: the sink's `tls` or the NATS_* variables. */
  tlsFrom?: 'tls' | 'env';
}

/** A resolved NATS sink. */
export interface NatsResolved {
  settings: NatsSettings;
  jetstream: boolean;
  createStream: boolean;
  stream: string;
  /** Subjects of a stream the sink creates (undefined: derived from its binding's topic and profile). */
  subjects?: string[];
  timeoutMs: number;
}

/** What a NATS source reads, besides the common source options. */
export interface NatsSourceSpec extends TransportAuthConfig {
  url: string;
  /** Subjects; wildcards (`*`, `>`) allowed (default `>`: every subject). */
  subjects?: string[];
  /** JetStream durable consumer name (default: the group, in JetStream mode). */
  durable?: string;
  /** JetStream stream to read; default: the stream that captures each subject. */
  stream?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Connection settings from a URL, explicit auth keys and the environment. Precedence for
 * credentials: explicit settings (config keys), then the URL, then the environment
 * (NATS_CREDS, NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_CA/CERT/KEY). `key` names the URL's
 * config key or flag in errors.
 */
export function resolveNatsSettings(s: TransportAuthConfig & { url: string; name: string; timeoutMs?: number; key?: string; env?: NodeJS.ProcessEnv }): NatsSettings {
  const key = s.key ?? 'url';
  const parsed = parseNatsUrl(s.url, key);
  const env = natsAuthFromEnv(s.env);
  const out: NatsSettings = { servers: parsed.servers, name: s.name, timeoutMs: s.timeoutMs ?? 10_000, display: redactUrl(s.url), secrets: [] };
  const token = s.token ?? parsed.token ?? (parsed.user === undefined ? env.token : undefined);
  const user = parsed.user ?? (token === undefined ? env.user : undefined);
  const pass = parsed.pass ?? (token === undefined ? env.password : undefined);
  const creds = s.creds ?? env.creds;
  if (creds !== undefined) {
    out.creds = new Uint8Array(readTlsFile(creds, s.creds !== undefined ? 'creds' : 'NATS_CREDS'));
  } else if (token !== undefined) {
    out.token = token;
    out.secrets.push(token);
  } else if (user !== undefined) {
    out.user = user;
    out.pass = pass ?? '';
    if (pass) out.secrets.push(pass);
  }
  const tlsKey = s.tls !== undefined ? 'tls' : 'NATS_CA/NATS_CERT/NATS_KEY';
  const tls = s.tls ?? env.tls;
  checkTlsFiles(tls, tlsKey);
  if (tls !== undefined || parsed.tls) {
    const t: NonNullable<NatsSettings['tls']> = {};
    // Read here (not by the client later) so a wrong path is a config error naming the key.
    if (tls?.ca !== undefined) t.ca = readTlsFile(tls.ca, `${tlsKey}.ca`).toString();
    if (tls?.cert !== undefined) t.cert = readTlsFile(tls.cert, `${tlsKey}.cert`).toString();
    if (tls?.key !== undefined) t.key = readTlsFile(tls.key, `${tlsKey}.key`).toString();
    out.tls = t;
    out.tlsFrom = s.tls !== undefined ? 'tls' : 'env';
  }
  return out;
}
