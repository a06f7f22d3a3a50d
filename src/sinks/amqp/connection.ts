/**
 * AMQP connection set-up shared by the AMQP sink and source: URL checks, TLS files, a
 * connection name RabbitMQ shows (and `rabbitmqctl close_connection` can target), a bounded
 * connect, and error mapping with credentials redacted.
 */
import { connect, type ChannelModel, type SocketOptions } from 'amqplib';
import { HeraldError } from '../../errors.js';
import { certificateProblem, describeCertificateProblem } from '../../tls-errors.js';
import {
  checkTlsFiles,
  errorMessage,
  parseAmqpUrl,
  readTlsFile,
  type TlsFiles,
} from '../../transport-url.js';

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
  checkTlsFiles(s.tls, 'tls');
  if (s.tls !== undefined && !parsed.tls && (s.tls.ca ?? s.tls.cert) !== undefined) {
    throw new HeraldError('CONFIG', `tls: TLS files are set but ${key} ${parsed.display} is not amqps://`, { details: [{ path: key, message: 'use amqps:// with tls' }] });
  }
  const socket: SocketOptions = { clientProperties: { connection_name: s.connectionName } };
  if (s.tls?.ca !== undefined) socket.ca = [readTlsFile(s.tls.ca, 'tls.ca')];
  if (s.tls?.cert !== undefined) socket.cert = readTlsFile(s.tls.cert, 'tls.cert');
  if (s.tls?.key !== undefined) socket.key = readTlsFile(s.tls.key, 'tls.key');
  let pass: string | undefined;
  try {
    pass = decodeURIComponent(new URL(s.url).password) || undefined;
  } catch {
    pass = undefined;
  }
  return { url: s.url, socket, display: parsed.display, secrets: pass === undefined ? [] : [pass] };
}

/**
 * Opens a connection within `timeoutMs` (also the socket's connect timeout); honours `signal`.
 * A connection that completes after the caller gave up is closed again.
 */
export async function connectAmqp(built: BuiltAmqpOptions, timeoutMs: number, signal?: AbortSignal): Promise<ChannelModel> {
  if (signal?.aborted) throw new HeraldError('BROKER_UNAVAILABLE', `connecting to RabbitMQ at ${built.display} was aborted`);
  const pending = connect(built.url, { ...built.socket, timeout: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HeraldError('BROKER_UNAVAILABLE', `could not connect to RabbitMQ at ${built.display} within ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(new HeraldError('BROKER_UNAVAILABLE', `connecting to RabbitMQ at ${built.display} was aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([pending, guard]);
  } catch (err) {
    pending.then((c) => c.close().catch(() => undefined), () => undefined);
    if (err instanceof HeraldError) throw err;
    throw amqpConnectError(err, built);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Maps a connect failure to BROKER_AUTH (credentials, TLS trust) or BROKER_UNAVAILABLE. */
export function amqpConnectError(err: unknown, built: Pick<BuiltAmqpOptions, 'display' | 'secrets'>): HeraldError {
  const msg = errorMessage(err, built.secrets);
  const code = (err as { code?: unknown }).code;
  if (/ACCESS[_-]REFUSED|403|authenticat|PLAIN login refused/i.test(msg)) {
    return new HeraldError('BROKER_AUTH', `RabbitMQ at ${built.display} refused the credentials: ${msg}`);
  }
  const cert = certificateProblem(err);
  if (cert !== undefined) {
    return new HeraldError('BROKER_AUTH', `TLS with RabbitMQ at ${built.display} failed: ${describeCertificateProblem(cert, 'tls.ca')}`);
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    return new HeraldError('BROKER_AUTH', `TLS with RabbitMQ at ${built.display} failed: ${msg}`);
  }
  return new HeraldError('BROKER_UNAVAILABLE', `could not connect to RabbitMQ at ${built.display}: ${msg}`);
}
