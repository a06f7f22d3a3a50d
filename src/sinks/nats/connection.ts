/**
 * NATS connection options (servers, auth, TLS, reconnect policy) and the mapping of NATS
 * client errors to Herald's error codes, shared by the NATS sink and the NATS source.
 */
import {
  connect,
  credsAuthenticator,
  ErrorCode,
  NatsError,
  type ConnectionOptions,
  type NatsConnection,
} from 'nats';
import { HeraldError } from '../../errors.js';
import { certificateProblem, describeCertificateProblem } from '../../tls-errors.js';
import {
  checkTlsFiles,
  errorMessage,
  natsAuthFromEnv,
  parseNatsUrl,
  readTlsFile,
  redactUrl,
  type TransportAuthConfig,
} from '../../transport-url.js';

/** What a NATS sink or source needs to connect. */
export interface NatsConnectSettings extends TransportAuthConfig {
  /** `nats://[user:pass@|token@]host:port[,nats://host2:port]` or `tls://...`. */
  url: string;
  /** Client name shown by `nats server report connections`. */
  name?: string;
  /** Connection timeout per attempt in ms (default 10 s). */
  timeoutMs?: number;
  /** The config key (or flag) the URL came from, for error messages. */
  key?: string;
  /** Environment for NATS_* auth variables (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Connection options plus the secrets that must never appear in a message. */
export interface BuiltNatsOptions {
  options: ConnectionOptions;
  /** Redacted form of the URL, for messages. */
  display: string;
  secrets: string[];
  /** Where the TLS files came from, for hints: `tls` (the sink's settings) or the NATS_* variables. */
  tlsFrom?: 'tls' | 'env';
}

/**
 * Builds the client options. Precedence for credentials: explicit settings (config keys), then
 * the URL, then the environment (NATS_CREDS, NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_CA/CERT/KEY).
 * Reconnects are unbounded once connected (maxReconnectAttempts -1): an outage must never end
 * a long-running relay or viewer; the first connection is not retried by the client (see
 * connectNats) so that a caller's timeout and close() always win.
 */
export function buildNatsOptions(s: NatsConnectSettings): BuiltNatsOptions {
  const key = s.key ?? 'url';
  const parsed = parseNatsUrl(s.url, key);
  const env = natsAuthFromEnv(s.env);
  const options: ConnectionOptions = {
    servers: parsed.servers,
    name: s.name ?? 'herald',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    timeout: s.timeoutMs ?? 10_000,
    waitOnFirstConnect: false,
    // Pings detect a silently dead TCP connection within ~2 intervals.
    pingInterval: 10_000,
    maxPingOut: 2,
  };
  const secrets: string[] = [];
  const token = s.token ?? parsed.token ?? (parsed.user === undefined ? env.token : undefined);
  const user = parsed.user ?? (token === undefined ? env.user : undefined);
  const pass = parsed.pass ?? (token === undefined ? env.password : undefined);
  const creds = s.creds ?? env.creds;
  if (creds !== undefined) {
    const credsKey = s.creds !== undefined ? 'creds' : 'NATS_CREDS';
    options.authenticator = credsAuthenticator(new Uint8Array(readTlsFile(creds, credsKey)));
  } else if (token !== undefined) {
    options.token = token;
    secrets.push(token);
  } else if (user !== undefined) {
    options.user = user;
    options.pass = pass ?? '';
    if (pass) secrets.push(pass);
  }
  const tlsKey = s.tls !== undefined ? 'tls' : 'NATS_CA/NATS_CERT/NATS_KEY';
  const tls = s.tls ?? env.tls;
  checkTlsFiles(tls, tlsKey);
  if (tls !== undefined || parsed.tls) {
    const t: NonNullable<ConnectionOptions['tls']> = {};
    // Read here (not by the client later) so a wrong path is a config error naming the key.
    if (tls?.ca !== undefined) t.ca = readTlsFile(tls.ca, `${tlsKey}.ca`).toString();
    if (tls?.cert !== undefined) t.cert = readTlsFile(tls.cert, `${tlsKey}.cert`).toString();
    if (tls?.key !== undefined) t.key = readTlsFile(tls.key, `${tlsKey}.key`).toString();
    options.tls = t;
  }
  return { options, display: redactUrl(s.url), secrets, ...(options.tls !== undefined && { tlsFrom: s.tls !== undefined ? 'tls' as const : 'env' as const }) };
}

/**
 * Connects once (no retry before the first success), bounded by `timeoutMs` and `signal`.
 * A connection that completes after the caller gave up is closed, so nothing leaks.
 */
export async function connectNats(built: BuiltNatsOptions, timeoutMs: number, signal?: AbortSignal): Promise<NatsConnection> {
  if (signal?.aborted) throw new HeraldError('BROKER_UNAVAILABLE', `connecting to NATS at ${built.display} was aborted`);
  const pending = connect(built.options);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HeraldError('BROKER_UNAVAILABLE', `could not connect to NATS at ${built.display} within ${timeoutMs} ms${clientCertHint(built)}`)), timeoutMs);
    onAbort = () => reject(new HeraldError('BROKER_UNAVAILABLE', `connecting to NATS at ${built.display} was aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([pending, guard]);
  } catch (err) {
    pending.then((nc) => nc.close().catch(() => undefined), () => undefined);
    if (err instanceof HeraldError) throw err;
    throw natsConnectError(err, built);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A server that requires client certificates (nats-server --tlsverify) drops a client without
 * one after the TLS 1.3 handshake, and the NATS client reports nothing but its own timeout: say
 * what usually causes it, as a guess, when TLS is on without a client certificate.
 */
function clientCertHint(built: BuiltNatsOptions): string {
  if (built.options.tls === undefined || built.options.tls === null || built.options.tls.cert !== undefined) return '';
  const keys = built.tlsFrom === 'env' ? 'NATS_CERT and NATS_KEY' : 'tls.cert and tls.key';
  return `; if the server requires client certificates (tls verify), set ${keys}`;
}

/** Maps a failure of the first connection to BROKER_AUTH or BROKER_UNAVAILABLE. */
export function natsConnectError(err: unknown, built: BuiltNatsOptions): HeraldError {
  const msg = errorMessage(err, built.secrets);
  if (err instanceof NatsError && (err.isAuthError() || err.code === ErrorCode.AuthenticationTimeout || err.code === ErrorCode.BadCreds)) {
    return new HeraldError('BROKER_AUTH', `NATS at ${built.display} refused the credentials: ${msg}`);
  }
  const cert = certificateProblem(err);
  if (cert !== undefined) {
    return new HeraldError('BROKER_AUTH', `TLS with NATS at ${built.display} failed: ${describeCertificateProblem(cert, built.tlsFrom === 'env' ? 'NATS_CA' : 'tls.ca')}`);
  }
  if (err instanceof NatsError && err.code === ErrorCode.Tls) {
    return new HeraldError('BROKER_AUTH', `TLS with NATS at ${built.display} failed: ${msg}`);
  }
  return new HeraldError('BROKER_UNAVAILABLE', `could not connect to NATS at ${built.display}: ${msg}`);
}

/** How a failed publish of one message is reported. */
export interface NatsFailure {
  /** The whole batch should be rejected (the connection is gone, not this message). */
  batch: boolean;
  permanent: boolean;
  error: HeraldError;
}

const CONNECTION_CODES = new Set<string>([
  ErrorCode.Disconnect, ErrorCode.ConnectionClosed, ErrorCode.ConnectionDraining,
  ErrorCode.ConnectionRefused, ErrorCode.ConnectionTimeout,
]);
const PERMANENT_CODES = new Set<string>([
  ErrorCode.MaxPayloadExceeded, ErrorCode.BadSubject, ErrorCode.BadHeader,
  ErrorCode.BadPayload, ErrorCode.InvalidPayload,
]);

/**
 * Classifies a publish error. Decisions:
 * - no responders (no stream captures the subject, or JetStream is off): transient, because an
 *   operator can create the stream and the outbox then delivers without losing anything;
 * - too large, bad subject or header, or a JetStream API error in the 4xx range (e.g. the
 *   stream's max_msg_size): permanent, retrying cannot succeed;
 * - timeouts and JetStream 5xx (stream full with discard=new, no leader): transient;
 * - a lost connection: the batch is rejected as a whole.
 */
export function classifyNatsError(err: unknown, subject: string, secrets: readonly string[] = []): NatsFailure {
  const msg = errorMessage(err, secrets);
  const code = err instanceof NatsError ? err.code : undefined;
  const api = err instanceof NatsError ? err.api_error : undefined;
  if (api !== undefined) {
    const permanent = api.code >= 400 && api.code < 500;
    return {
      batch: false,
      permanent,
      error: new HeraldError(permanent ? 'BROKER_REJECTED' : 'BROKER_UNAVAILABLE', `JetStream rejected the message on ${subject}: ${api.description} (${api.code}${api.err_code !== undefined ? `/${api.err_code}` : ''})`),
    };
  }
  if (code === ErrorCode.NoResponders) {
    return {
      batch: false,
      permanent: false,
      error: new HeraldError('BROKER_UNAVAILABLE', `no JetStream stream captures subject ${subject} (or JetStream is not enabled): create a stream for it, or set createStream: true`),
    };
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    return { batch: false, permanent: true, error: new HeraldError('BROKER_REJECTED', `NATS rejected the message on ${subject}: ${msg}`) };
  }
  if (code === ErrorCode.PermissionsViolation || code === ErrorCode.AuthorizationViolation) {
    return { batch: false, permanent: true, error: new HeraldError('BROKER_AUTH', `not allowed to publish to ${subject}: ${msg}`) };
  }
  if (code === ErrorCode.Timeout) {
    return { batch: false, permanent: false, error: new HeraldError('TIMEOUT', `no JetStream acknowledgement for ${subject} in time: ${msg}`) };
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return { batch: true, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', `NATS connection lost while publishing: ${msg}`) };
  }
  return { batch: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', `publishing to ${subject} failed: ${msg}`) };
}
