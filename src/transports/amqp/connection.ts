/**
 * Connecting to RabbitMQ, shared by the AMQP sink and source: a bounded connect, and error
 * mapping with credentials redacted.
 */
import { connect, type ChannelModel } from 'amqplib';
import { HeraldError } from '../../errors.js';
import { certificateProblem, describeCertificateProblem } from '../shared/tls-errors.js';
import { connectWithin } from '../shared/deadline.js';
import { errorMessage } from '../shared/url.js';
import type { BuiltAmqpOptions } from './options.js';

/**
 * Opens a connection within `timeoutMs` (also the socket's connect timeout); honours `signal`.
 * A connection that completes after the caller gave up is closed again.
 */
export function connectAmqp(built: BuiltAmqpOptions, timeoutMs: number, signal?: AbortSignal): Promise<ChannelModel> {
  return connectWithin(() => connect(built.url, { ...built.socket, timeout: timeoutMs }), {
    timeoutMs,
    ...(signal !== undefined && { signal }),
    where: `RabbitMQ at ${built.display}`,
    mapError: (err) => amqpConnectError(err, built),
  });
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
