/**
 * Classifies @platformatic/kafka errors into Herald's catalogue. Permanent rejections (the
 * broker will never take this record) become per-message outcomes; everything else (network,
 * timeouts, leader changes) is transient and rejects the whole publish so the caller retries.
 * Messages name what failed and where (topic, brokers), never credentials.
 */
import { HeraldError } from '../../errors.js';
import { raceDeadline } from '../shared/deadline.js';
import { classifyKafkaSecurityError } from './security/errors.js';
import type { KafkaSecurity } from './security/settings.js';

/** Kafka protocol errors after which retrying the same record is pointless. */
export const PERMANENT_KAFKA_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'POLICY_VIOLATION',
]);

const AUTH_ERRORS = new Set(['SASL_AUTHENTICATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

interface ErrorLike {
  message?: string;
  code?: string;
  apiId?: string;
  serverErrorMessage?: string | null;
  errors?: unknown[];
  cause?: unknown;
}

/** Every error in a chain (AggregateError members and causes), depth first. */
export function flattenErrors(err: unknown, out: ErrorLike[] = [], depth = 0): ErrorLike[] {
  if (err === null || err === undefined || typeof err !== 'object' || depth > 8) return out;
  const e = err as ErrorLike;
  out.push(e);
  if (Array.isArray(e.errors)) for (const x of e.errors) flattenErrors(x, out, depth + 1);
  if (e.cause !== undefined) flattenErrors(e.cause, out, depth + 1);
  return out;
}

/** The Kafka protocol error ids (e.g. MESSAGE_TOO_LARGE) in an error chain. */
export function kafkaErrorIds(err: unknown): string[] {
  return [...new Set(flattenErrors(err).map((e) => e.apiId).filter((x): x is string => typeof x === 'string'))];
}

/** True when the chain holds a permanent rejection. */
export function isPermanentKafkaError(err: unknown): boolean {
  return kafkaErrorIds(err).some((id) => PERMANENT_KAFKA_ERRORS.has(id));
}

/** The most useful low-level reason in a chain: a socket code or the innermost message. */
function reason(err: unknown): string {
  const all = flattenErrors(err);
  const sys = all.map((e) => e.code).find((c) => typeof c === 'string' && /^E[A-Z]+$/.test(c));
  const ids = kafkaErrorIds(err);
  if (ids.length > 0) return ids.join(', ');
  if (sys !== undefined) return sys === 'ECONNREFUSED' ? 'connection refused' : sys === 'ENOTFOUND' ? 'host not found' : sys;
  const leaf = [...all].reverse().find((e) => typeof e.message === 'string' && e.message !== '');
  return leaf?.message ?? String(err);
}

/**
 * Maps a client error to a HeraldError. `what` says the operation and where (`publishing to
 * topic x at 127.0.0.1:9092`); `conn` lets TLS/SASL failures name the setting to fix.
 */
export function toHeraldError(err: unknown, what: string, conn?: { security?: KafkaSecurity; brokers?: readonly string[] }): HeraldError {
  if (err instanceof HeraldError) return err;
  // TLS and SASL failures get their own, more helpful message (which setting to change).
  const security = conn !== undefined ? classifyKafkaSecurityError(err, conn.security, conn.brokers) : undefined;
  if (security !== undefined) return security;
  const all = flattenErrors(err);
  const ids = kafkaErrorIds(err);
  const why = reason(err);
  if (ids.some((id) => PERMANENT_KAFKA_ERRORS.has(id))) {
    return new HeraldError('BROKER_REJECTED', `broker rejected the message ${what}: ${why}`, { cause: err });
  }
  if (ids.some((id) => AUTH_ERRORS.has(id)) || all.some((e) => e.code === 'PLT_KFK_AUTHENTICATION')) {
    return new HeraldError('BROKER_AUTH', `authentication with the Kafka broker failed ${what}: ${why}`, { cause: err });
  }
  const unknownTopic = all.map((e) => /^Unknown topic (.+?)\.?$/.exec(e.message ?? '')?.[1]).find((t) => t !== undefined);
  if (unknownTopic !== undefined || ids.includes('UNKNOWN_TOPIC_OR_PARTITION')) {
    return new HeraldError('BROKER_UNAVAILABLE', `topic ${unknownTopic ?? ''} does not exist and the broker does not create topics automatically ${what}`.replace('topic  ', 'the topic '), { cause: err });
  }
  if (all.some((e) => e.code === 'PLT_KFK_TIMEOUT' || /timed? ?out/i.test(e.message ?? ''))) {
    return new HeraldError('TIMEOUT', `Kafka operation timed out ${what}: ${why}`, { cause: err });
  }
  return new HeraldError('BROKER_UNAVAILABLE', `Kafka broker unavailable ${what}: ${why}`, { cause: err });
}

/** Kafka's legal topic names: 1-249 of letters, digits, `.`, `_`, `-` (and not `.` or `..`). */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && topic.length <= 249 && /^[A-Za-z0-9._-]+$/.test(topic) && topic !== '.' && topic !== '..';
}

/** Runs `op`, rejecting with TIMEOUT after `ms` (the operation itself is left to the caller to cancel). */
export function withTimeout<T>(op: Promise<T>, ms: number, what: string, onTimeout?: () => void, signal?: AbortSignal): Promise<T> {
  return raceDeadline(op, ms, {
    timeoutMessage: `no answer from Kafka within ${ms} ms ${what}`,
    abortMessage: `aborted ${what}`,
    ...(onTimeout !== undefined && { onTimeout }),
    ...(signal !== undefined && { signal }),
  });
}
