/**
 * How an OutgoingMessage becomes an AMQP 0-9-1 publish (RabbitMQ): routing key, properties
 * and headers. Pure functions, so the mapping is tested without a broker.
 */
import type { Options } from 'amqplib';
import type { IncomingMessage, OutgoingMessage } from '../types.js';

/** Prefix of CloudEvents attributes in RabbitMQ's headers table (the AMQP binding's `cloudEvents_`). */
export const CE_HEADER_PREFIX = 'cloudEvents_';

/**
 * Publish options of one message: persistent (delivery mode 2), mandatory (so an unroutable
 * message comes back instead of vanishing), `messageId` = the event id, `timestamp` in seconds
 * (AMQP's unit), `contentType`, `priority` when the profile set one, and headers = the
 * message's headers plus every binary-mode CloudEvents attribute as `cloudEvents_<name>`.
 * `datacontenttype` is carried by the content-type property, as the binding says, not by a
 * header. With `metadata: 'none'` (an upstream that publishes bare messages, e.g. CloudStack's
 * `PERSISTENT_TEXT_PLAIN`: content type, delivery mode 2, priority 0, nothing else) there is
 * no message id, no timestamp and no headers table unless the message has headers.
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
  const bare = m.metadata === 'none';
  const opts: Options.Publish = bare
    ? { persistent: true, mandatory: true, ...(Object.keys(headers).length > 0 && { headers }) }
    : { persistent: true, mandatory: true, messageId: m.eventId, timestamp: Math.floor(nowMs / 1000), headers };
  if (contentType !== undefined) opts.contentType = contentType;
  if (m.priority !== undefined) opts.priority = m.priority;
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

/**
 * A delivered message's headers as text and its CloudEvents attributes: application
 * properties `cloudEvents_<name>` (the AMQP binding; `cloudEvents:<name>` is accepted too),
 * with the content-type property as `datacontenttype`. The content type and message id
 * properties are also shown as `content-type` and `message-id` headers.
 */
export function fromAmqpProperties(p: { headers?: Record<string, unknown> | undefined; contentType?: unknown; messageId?: unknown }): Pick<IncomingMessage, 'headers' | 'ceAttributes'> {
  const headers: Record<string, string> = {};
  let ce: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(p.headers ?? {})) {
    const value = headerValueToString(v);
    headers[k] = value;
    if (k.startsWith(CE_HEADER_PREFIX) || k.startsWith('cloudEvents:')) (ce ??= {})[k.slice(CE_HEADER_PREFIX.length)] = value;
  }
  if (p.contentType !== undefined) headers['content-type'] = String(p.contentType);
  if (p.messageId !== undefined) headers['message-id'] = String(p.messageId);
  if (ce !== undefined && p.contentType !== undefined) ce.datacontenttype = String(p.contentType);
  return ce === undefined ? { headers } : { headers, ceAttributes: ce };
}

/** The method fields and content properties of one basic.publish, as amqplib's channel sends them. */
export interface BasicPublishFrame {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  immediate: false;
  ticket: undefined;
  contentType: string | undefined;
  headers: Record<string, unknown> | undefined;
  deliveryMode: number | undefined;
  priority: number | undefined;
  messageId: string | undefined;
  timestamp: number | undefined;
}

/**
 * The basic.publish frame of publish options that carry no headers. amqplib's own publish()
 * always sends a headers table (empty when there are none), so a consumer would see
 * `headers: {}` where an upstream such as CloudStack (RabbitMQ Java's PERSISTENT_TEXT_PLAIN)
 * sends no headers property at all. The sink hands this frame to the channel directly.
 * Only the options Herald sets are mapped (the same names and meaning as amqplib 2.3.1's
 * argument mapping); the rest of the properties stay unset.
 */
export function basicPublishFrame(exchange: string, routingKey: string, o: Options.Publish): BasicPublishFrame {
  return {
    exchange,
    routingKey,
    mandatory: o.mandatory === true,
    immediate: false,
    ticket: undefined,
    contentType: o.contentType,
    headers: o.headers as Record<string, unknown> | undefined,
    deliveryMode: o.persistent === undefined ? undefined : o.persistent ? 2 : 1,
    priority: o.priority,
    messageId: o.messageId,
    timestamp: o.timestamp,
  };
}
