/**
 * Connecting to NATS, shared by the NATS sink and source: client options (reconnect policy,
 * auth, TLS) from resolved settings, a bounded first connection, and its errors.
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
import { certificateProblem, describeCertificateProblem } from '../shared/tls-errors.js';
import { connectWithin } from '../shared/deadline.js';
import { errorMessage } from '../shared/url.js';
import type { NatsSettings } from './options.js';

/**
 * The client's options. Reconnects are unbounded once connected (maxReconnectAttempts -1):
 * an outage must never end a long-running relay or viewer; the first connection is not
 * retried by the client (see connectNats) so that a caller's timeout and close() always win.
 */
export function clientOptions(s: NatsSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: s.servers,
    name: s.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    timeout: s.timeoutMs,
    waitOnFirstConnect: false,
    // Pings detect a silently dead TCP connection within ~2 intervals.
    pingInterval: 10_000,
    maxPingOut: 2,
  };
  if (s.creds !== undefined) options.authenticator = credsAuthenticator(s.creds);
  else if (s.token !== undefined) options.token = s.token;
  else if (s.user !== undefined) {
    options.user = s.user;
    options.pass = s.pass ?? '';
  }
  if (s.tls !== undefined) options.tls = { ...s.tls };
  return options;
}

/**
 * Connects once (no retry before the first success), bounded by `timeoutMs` and `signal`.
 * A connection that completes after the caller gave up is closed, so nothing leaks.
 */
export function connectNats(built: NatsSettings, timeoutMs: number, signal?: AbortSignal): Promise<NatsConnection> {
  return connectWithin(() => connect(clientOptions(built)), {
    timeoutMs,
    ...(signal !== undefined && { signal }),
    where: `NATS at ${built.display}`,
    hint: clientCertHint(built),
    mapError: (err) => natsConnectError(err, built),
  });
}

/**
 * A server that requires client certificates (nats-server --tlsverify) drops a client without
 * one after the TLS 1.3 handshake, and the NATS client reports nothing but its own timeout: say
 * what usually causes it, as a guess, when TLS is on without a client certificate.
 */
function clientCertHint(built: NatsSettings): string {
  if (built.tls === undefined || built.tls.cert !== undefined) return '';
  const keys = built.tlsFrom === 'env' ? 'NATS_CERT and NATS_KEY' : 'tls.cert and tls.key';
  return `; if the server requires client certificates (tls verify), set ${keys}`;
}

/** Maps a failure of the first connection to BROKER_AUTH or BROKER_UNAVAILABLE. */
export function natsConnectError(err: unknown, built: NatsSettings): HeraldError {
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
