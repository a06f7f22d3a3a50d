/** Mapping NATS client errors of a publish onto Herald's error codes. */
import { ErrorCode, NatsError } from 'nats';
import { HeraldError } from '../../errors.js';
import { errorMessage } from '../shared/url.js';

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
