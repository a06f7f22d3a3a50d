/**
 * How an OutgoingMessage becomes an HTTP request of the CloudEvents HTTP binding, and back:
 * binary mode (`ce-<attribute>` headers, percent-encoded as the binding requires, the data as
 * the body with its content type), structured mode (the profile's JSON as the body) and
 * batched mode (`application/cloudevents-batch+json`, a JSON array of structured events).
 * Any profile's message travels the same way: its bytes as the body, its content type as
 * `Content-Type`. Pure functions, so the mapping is tested without a server.
 */
import { stableMessageIds } from '../shared/message-ids.js';
import type { IncomingMessage, OutgoingMessage } from '../types.js';
import { batchWebhookId, safeWebhookId, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from './signature.js';

/** The header prefix of CloudEvents attributes in the HTTP binding (binary mode). */
export const CE_PREFIX = 'ce-';
/** The media type of a JSON batch of CloudEvents. */
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json; charset=UTF-8';
/** The body's type when a message names none. */
const OCTETS = 'application/octet-stream';

/** Herald's part of a request, before the attempt adds `webhook-timestamp` and `webhook-signature`. */
export interface WebhookRequest {
  /** `webhook-id`: stable across retries of the same message. */
  id: string;
  /** Lower-case header names: content-type, ce-*, the message's own headers. */
  headers: Record<string, string>;
  body: Buffer | null;
}

/** A message that can never be sent as HTTP (a header name or value HTTP cannot carry). */
export class UnsendableMessage extends Error {}

/** Characters a header value of the binding carries unencoded: printable ASCII except space, `"` and `%`. */
const PLAIN = /^[\x21\x23\x24\x26-\x7e]*$/;

/**
 * Percent-encodes an attribute value for a `ce-` header (HTTP binding 3.1.3.2): space, `"`,
 * `%` and everything outside U+0021..U+007E as the `%XY` of each UTF-8 byte, upper case.
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x25) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Decodes a `ce-` header value (HTTP binding 3.1.3.2): a double-quoted string is unquoted
 * first (backslash escapes), then one round of percent-decoding; bytes that are not valid
 * UTF-8 are rejected.
 */
export function decodeHeaderValue(raw: string): string {
  let v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (!v.includes('%')) return v;
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    }
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
}

/**
 * One `webhook-id` per message of a batch (shared/message-ids.ts): the event id made
 * header-safe for an event's first message, `<id>:<n>` for its further, different messages,
 * the same id for an identical copy, so a receiver that de-duplicates by id drops retries and
 * copies.
 */
export function webhookIds(messages: readonly OutgoingMessage[]): string[] {
  return stableMessageIds(messages, { base: safeWebhookId });
}

/** Header names a message may not set: Herald's own. */
const OWN = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection', WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VISIBLE = /^[\t\x20-\x7e]*$/;

/**
 * The request of one message: its bytes as the body, `Content-Type` from the message (the
 * CloudEvents `datacontenttype` in binary mode; octet-stream for bytes of no named type),
 * each CloudEvents attribute as a percent-encoded `ce-` header, the message's own headers.
 * Throws UnsendableMessage for a header HTTP cannot carry.
 */
export function toWebhookRequest(m: OutgoingMessage, id: string): WebhookRequest {
  const headers: Record<string, string> = {};
  const ce = m.ceAttributes;
  const contentType = m.contentType ?? ce?.datacontenttype ?? (m.value !== null && m.value.length > 0 ? OCTETS : undefined);
  if (contentType !== undefined) {
    if (!VISIBLE.test(contentType)) throw new UnsendableMessage(`the content type ${JSON.stringify(contentType)} cannot be sent in an HTTP header`);
    headers['content-type'] = contentType;
  }
  if (ce !== undefined) {
    for (const k in ce) {
      // The binding: datacontenttype travels as Content-Type only, never as ce-datacontenttype.
      if (k === 'datacontenttype') continue;
      const name = `${CE_PREFIX}${k.toLowerCase()}`;
      if (!TOKEN.test(name)) throw new UnsendableMessage(`the CloudEvents attribute ${JSON.stringify(k)} cannot be an HTTP header name`);
      headers[name] = encodeHeaderValue(ce[k]!);
    }
  }
  if (m.headers !== undefined) {
    for (const [k, v] of Object.entries(m.headers)) {
      const name = k.toLowerCase();
      if (!TOKEN.test(k)) throw new UnsendableMessage(`the header name ${JSON.stringify(k)} is not valid in HTTP`);
      if (OWN.has(name)) continue;
      if (!VISIBLE.test(v)) throw new UnsendableMessage(`the value of header ${k} holds characters HTTP headers cannot carry (line breaks, controls or non-ASCII)`);
      headers[name] ??= v;
    }
  }
  return { id, headers, body: m.value };
}

/**
 * One request of batched mode: the structured events (each message's JSON) as one JSON
 * array, `application/cloudevents-batch+json`. Throws UnsendableMessage for a message that is
 * not a structured JSON event.
 */
export function toBatchRequest(messages: readonly OutgoingMessage[], ids: readonly string[]): WebhookRequest {
  const parts: Buffer[] = [Buffer.from('[')];
  messages.forEach((m, i) => {
    if (m.value === null || m.value[0] !== 0x7b /* { */) throw new UnsendableMessage(`event ${m.eventId} is not a structured JSON CloudEvent (batched mode needs mode: structured)`);
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(m.value);
  });
  parts.push(Buffer.from(']'));
  return { id: batchWebhookId(ids), headers: { 'content-type': BATCH_CONTENT_TYPE }, body: Buffer.concat(parts) };
}

/**
 * A received webhook request as an IncomingMessage, for the decode chain (a receiver written
 * with Herald's library, and the tests): `ce-` headers percent-decoded into `ceAttributes`,
 * `Content-Type` as their `datacontenttype`. `topic` names where it arrived (the path).
 */
export function fromWebhookRequest(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer, topic = ''): IncomingMessage {
  const out: Record<string, string> = {};
  let ce: Record<string, string> | undefined;
  for (const [k, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const v = Array.isArray(raw) ? raw.join(', ') : raw;
    const name = k.toLowerCase();
    out[name] = v;
    if (name.startsWith(CE_PREFIX)) (ce ??= {})[name.slice(CE_PREFIX.length)] = decodeHeaderValue(v);
  }
  if (ce !== undefined && out['content-type'] !== undefined) ce.datacontenttype = out['content-type'];
  return { transport: 'webhook', topic, value: body.length === 0 ? null : body, headers: out, ...(ce !== undefined && { ceAttributes: ce }) };
}
