/**
 * A webhook sink's keys and their resolution: the endpoint URL checked, the Standard Webhooks
 * signing secrets decoded, extra headers checked and the TLS files read here (no HTTP client
 * loaded), so a wrong value is a configuration error naming the key before anything is sent.
 * No message of this module ever repeats a secret, a header value or a URL's credentials.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { Type } from 'typebox';
import { ConfigError, type FieldProblem } from '../../errors.js';
import { REDACTED } from '../../shared/redact.js';
import { checkTlsFiles, readTlsFile, type TlsFiles } from '../shared/url.js';
import type { KeyNamer } from '../types.js';

/** Bound of one HTTP request when the sink names no `timeoutMs` (connect, headers and body). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Requests in flight at once to one endpoint (and pooled keep-alive connections). */
export const DEFAULT_CONCURRENCY = 16;
/** The variable a sink without `secret`/`secrets` reads its signing secret(s) from (comma or space separated). */
export const SECRET_ENV = 'HERALD_WEBHOOK_SECRET';
/** The prefix of a Standard Webhooks symmetric secret. */
export const SECRET_PREFIX = 'whsec_';

/** Headers Herald sets itself; `headers` may not name them. */
const RESERVED_HEADERS = new Set([
  'content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer',
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);
/** An HTTP field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value Herald can send: visible ASCII, spaces and tabs (no CR, LF or other controls). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const WEBHOOK_SINK_OPTIONS = {
  url: Type.String({ minLength: 1, description: 'the endpoint: https://host/path (or http:// on a trusted network)' }),
  secret: Type.Optional(Type.String({ minLength: 1, description: 'Standard Webhooks signing secret: whsec_ + base64 of 24 to 64 random bytes' })),
  secrets: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 10, description: 'several signing secrets at once (rotation): every request carries one signature per secret' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'extra request headers (e.g. Authorization); never logged' })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: `requests in flight at once, and pooled connections (default ${DEFAULT_CONCURRENCY}); one key's events are always sent one after another` })),
  batch: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'CloudEvents batched mode: up to this many events per request as application/cloudevents-batch+json (needs mode: structured)' })),
  tls: Type.Optional(Type.Object({
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String({ minLength: 1 })),
  }, { additionalProperties: false })),
};

/** The sink keys as the config gives them (plus the common ones the checks read). */
export interface WebhookOptions {
  url: string;
  secret?: string;
  secrets?: string[];
  headers?: Record<string, string>;
  concurrency?: number;
  batch?: number;
  tls?: TlsFiles;
  timeoutMs?: number;
  /** Common keys, read by check(). */
  profile?: string;
  mode?: 'binary' | 'structured';
}

/** A checked endpoint. */
export interface WebhookEndpoint {
  /** `https://host:port` */
  origin: string;
  /** Path and query, as sent. */
  path: string;
  tls: boolean;
  hostname: string;
  port: number;
  /** The URL for messages and GET /v2/sinks: no credentials, no query, token-like path segments masked. */
  display: string;
}

/** A resolved webhook sink: what the sink needs, files read, secrets decoded. */
export interface WebhookResolved {
  endpoint: WebhookEndpoint;
  /** HMAC keys (the decoded base64 part of each whsec_ secret), in the configured order. */
  keys: Buffer[];
  /** Where the keys came from, for the start-up line (never the keys). */
  keysFrom: 'config' | 'env' | 'none';
  /** Extra headers (config `headers`, and Basic auth from the URL's user info), lower-case names. */
  headers: Record<string, string>;
  concurrency: number;
  /** Batched mode: events per request; undefined = one request per event. */
  batch?: number;
  timeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Every secret string (secrets, header values, URL password) that must never appear in a message. */
  secrets: string[];
}

/** A path segment that looks like a token (Slack-style hook URLs carry secrets in the path). */
const TOKEN_LIKE = /^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$/;

/** The URL as messages show it: credentials and query dropped, token-like path segments masked. */
export function displayUrl(u: URL): string {
  const path = u.pathname.split('/').map((s) => (TOKEN_LIKE.test(s) ? REDACTED : s)).join('/');
  return `${u.protocol}//${u.host}${path}${u.search !== '' ? `?${REDACTED}` : ''}`;
}

/** Parses and checks the endpoint URL; `key` names it in errors. */
export function parseEndpoint(raw: string, key: string): { endpoint: WebhookEndpoint; user: string; pass: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${key}: not a valid URL (expected https://host/path)`, [{ path: key, message: 'not a valid URL' }]);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(`${key}: scheme ${u.protocol} is not supported for webhooks (use https:// or http://)`, [{ path: key, message: 'must be an http:// or https:// URL' }]);
  }
  if (u.hostname === '') throw new ConfigError(`${key}: names no host`, [{ path: key, message: 'names no host' }]);
  if (u.hash !== '') throw new ConfigError(`${key}: a webhook URL has no #fragment`, [{ path: key, message: 'must not have a #fragment' }]);
  const tls = u.protocol === 'https:';
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return {
    endpoint: { origin: `${u.protocol}//${u.host}`, path: `${u.pathname}${u.search}`, tls, hostname, port, display: displayUrl(u) },
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
  };
}

/**
 * The HMAC key of a `whsec_` secret: the base64 after the prefix, 24 to 64 bytes as the
 * specification asks. Throws a ConfigError naming `key`, never showing the secret.
 */
export function secretKey(secret: string, key: string): Buffer {
  const problem = (message: string) => new ConfigError(`${key}: ${message}`, [{ path: key, message }]);
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (b64 === undefined) throw problem(`must be a Standard Webhooks secret: ${SECRET_PREFIX} followed by base64`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw problem(`must be ${SECRET_PREFIX} followed by standard base64 (A-Z a-z 0-9 + /, = padding)`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < 24 || bytes.length > 64) throw problem(`must hold 24 to 64 bytes after ${SECRET_PREFIX} (this one holds ${bytes.length})`);
  return bytes;
}

/** Problems of the `headers` key, each naming the header (never its value). */
export function headerProblems(headers: Record<string, string> | undefined, at: KeyNamer): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    const path = `${at('headers')}.${name}`;
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) out.push({ path, message: 'is not a valid HTTP header name' });
    else if (RESERVED_HEADERS.has(lower) || lower.startsWith('ce-')) out.push({ path, message: 'is set by Herald (content type, Standard Webhooks and CloudEvents headers) and cannot be configured' });
    else if (!FIELD_VALUE.test(value)) out.push({ path, message: 'has a value with line breaks or control characters' });
  }
  return out;
}

/** Every check of the sink keys that the schema cannot express. */
export function webhookProblems(o: WebhookOptions, at: KeyNamer): FieldProblem[] {
  const out: FieldProblem[] = [];
  try {
    parseEndpoint(o.url, at('url'));
  } catch (err) {
    if (err instanceof ConfigError) out.push(...err.details);
  }
  if (o.secret !== undefined && o.secrets !== undefined) out.push({ path: at('secrets'), message: 'give secret or secrets, not both' });
  const all = o.secret !== undefined ? [[at('secret'), o.secret] as const] : (o.secrets ?? []).map((s, i) => [`${at('secrets')}[${i}]`, s] as const);
  for (const [path, s] of all) {
    try {
      secretKey(s, path);
    } catch (err) {
      if (err instanceof ConfigError) out.push(...err.details);
    }
  }
  out.push(...headerProblems(o.headers, at));
  if (o.batch !== undefined) {
    if ((o.profile ?? 'cloudevents') !== 'cloudevents') out.push({ path: at('batch'), message: 'batched mode carries CloudEvents: it needs profile cloudevents' });
    else if (o.mode !== 'structured') out.push({ path: at('batch'), message: 'batched mode sends structured CloudEvents: set mode: structured' });
  }
  if (o.tls !== undefined && /^http:/i.test(o.url)) out.push({ path: at('tls'), message: 'applies to https:// URLs only' });
  return out;
}

/**
 * Loads the PEM files into a TLS context once, so a file that is not a certificate (or a key
 * that does not match it) is a configuration error naming the key, not a failure of every
 * request later.
 */
function checkTlsMaterial(tls: NonNullable<WebhookResolved['tls']>, tlsKey: string): void {
  const each: Array<['ca' | 'cert' | 'key', () => void]> = [
    // Node takes any bytes as a CA bundle (and then trusts nothing): parse the first certificate.
    ['ca', () => tls.ca !== undefined && new X509Certificate(tls.ca)],
    ['cert', () => tls.cert !== undefined && createSecureContext({ cert: tls.cert, key: tls.key })],
  ];
  for (const [what, load] of each) {
    try {
      load();
    } catch (err) {
      const reason = String((err as Error).message ?? err).replace(/^error:[0-9A-F]+:/i, '').slice(0, 120);
      const key = what === 'cert' && /key/i.test(reason) ? `${tlsKey}.key` : `${tlsKey}.${what}`;
      throw new ConfigError(`${key}: not usable as PEM ${what === 'ca' ? 'CA certificates' : 'certificate and key'} (${reason})`, [{ path: key, message: 'not a usable PEM file' }]);
    }
  }
}

/** Splits HERALD_WEBHOOK_SECRET (one secret, or several separated by commas or spaces). */
function envSecrets(env: NodeJS.ProcessEnv): string[] {
  return (env[SECRET_ENV] ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** Resolves valid options; throws ConfigError naming the key. */
export function resolveWebhook(o: WebhookOptions, at: KeyNamer, env: NodeJS.ProcessEnv): WebhookResolved {
  const { endpoint, user, pass } = parseEndpoint(o.url, at('url'));
  const secrets: string[] = [];
  let keys: Buffer[];
  let keysFrom: WebhookResolved['keysFrom'];
  if (o.secret !== undefined || o.secrets !== undefined) {
    const list = o.secret !== undefined ? [[at('secret'), o.secret] as const] : o.secrets!.map((s, i) => [`${at('secrets')}[${i}]`, s] as const);
    keys = list.map(([path, s]) => secretKey(s, path));
    secrets.push(...list.map(([, s]) => s));
    keysFrom = 'config';
  } else {
    const fromEnv = envSecrets(env);
    keys = fromEnv.map((s, i) => secretKey(s, fromEnv.length > 1 ? `${SECRET_ENV} (secret ${i + 1})` : SECRET_ENV));
    secrets.push(...fromEnv);
    keysFrom = keys.length > 0 ? 'env' : 'none';
  }
  const problems = headerProblems(o.headers, at);
  if (problems.length > 0) throw new ConfigError(`invalid ${problems[0]!.path}: ${problems[0]!.message}`, problems);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    headers[k.toLowerCase()] = v;
    // The value, and its credential alone (`Bearer abc` → `abc`), for redaction.
    secrets.push(v, ...v.split(/\s+/).filter((w) => w.length >= 8));
  }
  if (user !== '' || pass !== '') {
    // fetch() refuses URLs with credentials; HTTP clients send them as Basic auth.
    if (headers.authorization === undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    if (pass !== '') secrets.push(pass, encodeURIComponent(pass));
    secrets.push(headers.authorization);
  }
  const tlsKey = at('tls');
  let tls: WebhookResolved['tls'];
  if (o.tls !== undefined) {
    if (!endpoint.tls) throw new ConfigError(`${tlsKey}: applies to https:// URLs only`, [{ path: tlsKey, message: 'applies to https:// URLs only' }]);
    checkTlsFiles(o.tls, tlsKey);
    tls = {};
    if (o.tls.ca !== undefined) tls.ca = readTlsFile(o.tls.ca, `${tlsKey}.ca`);
    if (o.tls.cert !== undefined) tls.cert = readTlsFile(o.tls.cert, `${tlsKey}.cert`);
    if (o.tls.key !== undefined) tls.key = readTlsFile(o.tls.key, `${tlsKey}.key`);
    checkTlsMaterial(tls, tlsKey);
  }
  return {
    endpoint,
    keys,
    keysFrom,
    headers,
    concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
    ...(o.batch !== undefined && { batch: o.batch }),
    timeoutMs: o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...(tls !== undefined && { tls }),
    secrets: secrets.filter((s) => s.length >= 4),
  };
}
