/**
 * The `cloudevents` profile: canonical events as CloudEvents 1.0 over the Kafka protocol
 * binding (binary mode by default, structured on request and always on NATS). Herald's
 * extensions travel as the CloudEvents extension attributes severity, entitykind, entityid,
 * partitionkey and message (lower-case, at most 20 characters, as the spec requires).
 */
import type { EventInput, HeraldEvent } from '../events/schema.js';
import { normalize, partitionKey } from '../events/event.js';
import { eventProblems } from '../events/validate.js';
import type { DecodedMessage, EncodeContext, IncomingMessage, OutgoingMessage, Profile } from './types.js';
import { jsonObject } from '../shared/json.js';

/** The structured-mode media type, as the Kafka binding writes it. */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';
const JSON_CONTENT_TYPE = 'application/json';

/** Attributes that map 1:1 between the canonical event and CloudEvents (besides entity). */
const SIMPLE_ATTRIBUTES = ['id', 'source', 'specversion', 'type', 'time', 'subject', 'dataschema', 'severity', 'partitionkey', 'message'] as const;

/** True for JSON media types (application/json, text/json, application/foo+json, with parameters). */
export function isJsonContentType(ct: string | undefined): boolean {
  if (ct === undefined) return true; // CloudEvents: absent datacontenttype means JSON
  const base = ct.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' || base === 'text/json' || base.endsWith('+json');
}

/** The event's data as bytes, per its datacontenttype; undefined when it has no data. */
function dataBytes(event: HeraldEvent): Buffer | undefined {
  if (event.data === undefined) return undefined;
  if (typeof event.data === 'string' && !isJsonContentType(event.datacontenttype)) return Buffer.from(event.data, 'utf8');
  return Buffer.from(JSON.stringify(event.data), 'utf8');
}

/** CloudEvents attributes of an event (everything except data), all as strings. */
export function ceAttributes(event: HeraldEvent): Record<string, string> {
  // Written out rather than looped over SIMPLE_ATTRIBUTES: this runs once per published event,
  // and a fixed-shape object literal is several times cheaper for V8 than keyed assignment.
  const out: Record<string, string> = { id: event.id, source: event.source, specversion: event.specversion, type: event.type, time: event.time };
  if (event.subject !== undefined) out.subject = event.subject;
  if (event.dataschema !== undefined) out.dataschema = event.dataschema;
  if (event.severity !== undefined) out.severity = event.severity;
  if (event.partitionkey !== undefined) out.partitionkey = event.partitionkey;
  if (event.message !== undefined) out.message = event.message;
  if (event.entity !== undefined) {
    out.entitykind = event.entity.kind;
    out.entityid = event.entity.id;
  }
  return out;
}

/** The JSON event of structured mode. */
export function toStructured(event: HeraldEvent): Record<string, unknown> {
  const doc: Record<string, unknown> = ceAttributes(event);
  if (event.data !== undefined) {
    doc.datacontenttype = event.datacontenttype ?? JSON_CONTENT_TYPE;
    // Canonical data is always JSON-representable (text included), so `data` fits; decoding
    // also accepts `data_base64` from other producers.
    doc.data = event.data;
  } else if (event.datacontenttype !== undefined) {
    doc.datacontenttype = event.datacontenttype;
  }
  return doc;
}

function encode(event: HeraldEvent, ctx: EncodeContext): OutgoingMessage[] {
  const key = partitionKey(event);
  const structured = ctx.transport === 'nats' || ctx.mode === 'structured';
  const msg: OutgoingMessage = structured
    ? { eventId: event.id, topic: ctx.topic, value: Buffer.from(JSON.stringify(toStructured(event)), 'utf8'), contentType: STRUCTURED_CONTENT_TYPE }
    : { eventId: event.id, topic: ctx.topic, value: dataBytes(event) ?? null, ceAttributes: ceAttributes(event) };
  if (key !== undefined) msg.key = key;
  if (!structured) {
    const contentType = event.datacontenttype ?? (msg.value !== null ? JSON_CONTENT_TYPE : undefined);
    if (contentType !== undefined) msg.contentType = contentType;
  }
  return [msg];
}

const lower = (headers: Record<string, string>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
};

/** Builds a canonical event from CloudEvents attributes; undefined when they are not a valid event. */
function eventFromAttributes(attrs: Record<string, unknown>, data: unknown, hasData: boolean, fallbackTime?: number): HeraldEvent | undefined {
  const input: Record<string, unknown> = {};
  for (const name of [...SIMPLE_ATTRIBUTES, 'datacontenttype'] as const) {
    const v = attrs[name];
    // `message` may be empty; every other attribute must have a value to count.
    if (typeof v === 'string' && (v !== '' || name === 'message')) input[name] = v;
  }
  if (typeof attrs.entitykind === 'string' && typeof attrs.entityid === 'string') {
    input.entity = { kind: attrs.entitykind, id: attrs.entityid };
  }
  if (hasData) input.data = data;
  if (input.severity !== undefined && !['debug', 'info', 'warning', 'error', 'critical'].includes(input.severity as string)) {
    // A foreign producer's severity we do not know: keep the event, drop the attribute.
    delete input.severity;
  }
  if (input.time !== undefined && Number.isNaN(Date.parse(input.time as string))) delete input.time;
  // `time` is optional in CloudEvents; the broker's timestamp is the best stand-in.
  if (input.time === undefined && fallbackTime !== undefined) input.time = new Date(fallbackTime).toISOString();
  if (input.id === undefined || input.time === undefined) return undefined;
  if (eventProblems(input).length > 0) {
    // Keep what a viewer needs even when an optional attribute is off-spec (e.g. an odd entity kind).
    for (const k of ['entity', 'dataschema', 'partitionkey', 'subject', 'message']) {
      delete input[k];
      if (eventProblems(input).length === 0) break;
    }
    if (eventProblems(input).length > 0) return undefined;
  }
  return normalize(input as EventInput);
}

function decodeValueData(value: Buffer | null, contentType: string | undefined): { data: unknown; hasData: boolean } {
  if (value === null || value.length === 0) return { data: undefined, hasData: false };
  const text = value.toString('utf8');
  if (isJsonContentType(contentType)) {
    try {
      return { data: JSON.parse(text), hasData: true };
    } catch {
      return { data: text, hasData: true };
    }
  }
  return { data: text, hasData: true };
}

function decode(msg: IncomingMessage): DecodedMessage | undefined {
  const ce = msg.ceAttributes;
  if (ce?.specversion !== undefined) {
    const attrs: Record<string, string> = { ...ce };
    const { data, hasData } = decodeValueData(msg.value, attrs.datacontenttype);
    const event = eventFromAttributes(attrs, data, hasData, msg.timestamp);
    if (event === undefined) return undefined;
    return { profile: 'cloudevents', format: 'binary', event, document: { ...attrs, ...(hasData && { data }) } };
  }
  const headers = lower(msg.headers);
  if (msg.value === null) return undefined;
  const ct = headers['content-type']?.toLowerCase();
  const looksStructured = ct?.startsWith('application/cloudevents+json') ?? false;
  if (!looksStructured && msg.value[0] !== 0x7b /* { */) return undefined;
  const d = jsonObject(msg.value);
  if (d === undefined) return undefined;
  if (!looksStructured && d.specversion !== '1.0') return undefined;
  let data: unknown;
  let hasData = false;
  if (d.data !== undefined) {
    data = d.data;
    hasData = true;
  } else if (typeof d.data_base64 === 'string') {
    const bytes = Buffer.from(d.data_base64, 'base64');
    data = isJsonContentType(d.datacontenttype as string | undefined) ? tryJson(bytes) : bytes.toString('utf8');
    hasData = true;
  }
  const event = eventFromAttributes(d, data, hasData, msg.timestamp);
  if (event === undefined) return undefined;
  return { profile: 'cloudevents', format: 'structured', event, document: d };
}

function tryJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('utf8');
  }
}

/** A short, single-line rendering of data for summaries. */
export function shortData(data: unknown, max = 120): string {
  if (data === undefined) return '';
  const s = typeof data === 'string' ? data : JSON.stringify(data);
  const one = s.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** `[type] subject-or-entity: message-or-short-data` */
export function summarizeEvent(event: HeraldEvent): string {
  const who = event.subject ?? (event.entity ? `${event.entity.kind}:${event.entity.id}` : event.source);
  const what = event.message ?? shortData(event.data);
  return what === '' ? `[${event.type}] ${who}` : `[${event.type}] ${who}: ${what}`;
}

/** The cloudevents profile of the registry. */
export const cloudeventsProfile: Profile = {
  name: 'cloudevents',
  description: 'CloudEvents 1.0 (binary or structured mode) with Herald\'s extensions',
  modes: ['binary', 'structured'],
  decodeOrder: 30,
  roundTrip: ['id', 'type', 'source', 'subject', 'time', 'entity', 'data', 'message', 'severity'],
  encode,
  decode,
  summary: (decoded) => summarizeEvent(decoded.event),
};
