/**
 * How an OutgoingMessage becomes an AMQP 0-9-1 publish (RabbitMQ): routing key, properties
 * and headers. Pure functions, so the mapping is tested without a broker.
 */
import type { Options } from 'amqplib';
import type { OutgoingMessage } from '../../profiles/types.js';

/** The exchange a sink publishes to and a source binds to when none is configured. */
export const DEFAULT_EXCHANGE = 'herald.events';

/** Prefix of CloudEvents attributes in RabbitMQ's headers table (the AMQP binding's `cloudEvents_`). */
export const CE_HEADER_PREFIX = 'cloudEvents_';

/**
 * Publish options of one message: persistent (delivery mode 2), mandatory (so an unroutable
 * message comes back instead of vanishing), `messageId` = the event id, `timestamp` in seconds
 * (AMQP's unit), `contentType`, and headers = the message's headers plus every binary-mode
 * CloudEvents attribute as `cloudEvents_<name>`. `datacontenttype` is carried by the
 * content-type property, as the binding says, not by a header.
 */
export function amqpPublishOptions(m: OutgoingMessage, nowMs: number = Date.now()): Options.Publish {
  const headers: Record<string, string> = { ...m.headers };
  let contentType = m.contentType;
  for (const [k, v] of Object.entries(m.ceAttributes ?? {})) {
    if (k === 'datacontenttype') {
      contentType ??= v;
      continue;
    }
    headers[`${CE_HEADER_PREFIX}${k}`] = v;
  }
  const opts: Options.Publish = {
    persistent: true,
    mandatory: true,
    messageId: m.eventId,
    timestamp: Math.floor(nowMs / 1000),
    headers,
  };
  if (contentType !== undefined) opts.contentType = contentType;
  return opts;
}

/**
 * Renders an AMQP header value as a string for IncomingMessage.headers: Buffers as UTF-8,
 * numbers and booleans as text, tables and arrays as JSON, null/undefined as ''.
 */
export function headerValueToString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  // amqplib decodes some typed values as {'!': type, value}.
  if (typeof v === 'object' && v !== null && '!' in v && 'value' in v) return headerValueToString((v as { value: unknown }).value);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
