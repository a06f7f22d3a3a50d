/**
 * How messages map onto Kafka records, both ways: `content-type`, CloudEvents attributes as
 * `ce_<name>` headers (the CloudEvents Kafka protocol binding, binary mode) and plain headers;
 * record keys as UTF-8 (an empty key stays a zero-length key, not a null one). Pure
 * functions, so the mapping is tested without a broker.
 */
import type { Message, MessageToProduce } from '@platformatic/kafka';
import type { IncomingMessage, OutgoingMessage } from '../types.js';

/** The header prefix of CloudEvents attributes in the Kafka binding. */
export const CE_PREFIX = 'ce_';

/**
 * Interned header buffers. Header names (`ce_id`, `content-type`, ...) and the values that
 * repeat from record to record (specversion, source, type, severity, entity kind, media type)
 * are encoded once and shared: the client only reads them, and a batch of 1000 records would
 * otherwise allocate some 20,000 small buffers. Bounded: cleared when it grows past its size.
 */
class BufferCache {
  readonly #map = new Map<string, Buffer>();
  /** `prefix` is prepended to every key when it is encoded (`ce_` for CloudEvents attributes). */
  constructor(readonly max: number, readonly prefix = '') {}
  get(key: string): Buffer {
    let b = this.#map.get(key);
    if (b === undefined) {
      if (this.#map.size >= this.max) this.#map.clear();
      b = Buffer.from(this.prefix + key, 'utf8');
      this.#map.set(key, b);
    }
    return b;
  }
}
const headerNames = new BufferCache(512);
const ceHeaderNames = new BufferCache(512, CE_PREFIX);
const headerValues = new BufferCache(4096);
/** CloudEvents attributes whose values repeat across records (ids, times and keys do not). */
const REPEATING = new Set(['specversion', 'source', 'type', 'severity', 'entitykind', 'dataschema']);

/**
 * Wire form of one outgoing message: `content-type`, `ce_<name>` and plain headers, as Buffers.
 * A message whose upstream sends bare records (`metadata: 'none'`) gets no `content-type`
 * header: Kafka has no content-type property, so the header would be Herald's addition.
 */
export function toKafkaRecord(msg: OutgoingMessage): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const headers = new Map<Buffer, Buffer>();
  if (msg.contentType !== undefined && msg.metadata !== 'none') headers.set(headerNames.get('content-type'), headerValues.get(msg.contentType));
  const ce = msg.ceAttributes;
  if (ce !== undefined) {
    for (const k in ce) {
      const v = ce[k]!;
      headers.set(ceHeaderNames.get(k), REPEATING.has(k) ? headerValues.get(v) : Buffer.from(v, 'utf8'));
    }
  }
  if (msg.headers !== undefined) for (const k in msg.headers) headers.set(headerNames.get(k), Buffer.from(msg.headers[k]!, 'utf8'));
  const record: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
    topic: msg.topic,
    // A null value is a real Kafka null (a tombstone on compacted topics), not an empty buffer.
    value: msg.value as Buffer,
    headers,
  };
  if (msg.key !== undefined) record.key = Buffer.from(msg.key, 'utf8');
  return record;
}

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** A record's headers as text, and its CloudEvents attributes (`ce_` removed; `content-type` as datacontenttype). */
export function fromKafkaHeaders(entries: Iterable<[Buffer | null | undefined, Buffer | null | undefined]> | undefined): Pick<IncomingMessage, 'headers' | 'ceAttributes'> {
  const headers: Record<string, string> = {};
  let ce: Record<string, string> | undefined;
  for (const [k, v] of entries ?? []) {
    if (k === null || k === undefined) continue;
    const name = Buffer.from(k).toString('utf8');
    const value = v === null || v === undefined ? '' : Buffer.from(v).toString('utf8');
    headers[name] = value;
    const lower = name.toLowerCase();
    if (lower.startsWith(CE_PREFIX)) (ce ??= {})[lower.slice(CE_PREFIX.length)] = value;
  }
  if (ce !== undefined) {
    const ct = headers['content-type'] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    if (ct !== undefined) ce.datacontenttype = ct;
  }
  return ce === undefined ? { headers } : { headers, ceAttributes: ce };
}

/** A consumed record as an IncomingMessage (without ack). */
export function fromKafkaRecord(m: BufferMessage): IncomingMessage {
  const ts = Number(m.timestamp);
  return {
    transport: 'kafka',
    topic: m.topic,
    key: m.key === undefined || m.key === null || m.key.length === 0 ? null : m.key.toString('utf8'),
    value: m.value === undefined || m.value === null ? null : Buffer.from(m.value),
    ...fromKafkaHeaders(m.headers as Iterable<[Buffer, Buffer]> | undefined),
    partition: m.partition,
    offset: m.offset.toString(),
    ...(Number.isFinite(ts) && ts > 0 && { timestamp: ts }),
  };
}
