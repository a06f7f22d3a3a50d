/**
 * The decode chain of `herald view`, `tally` and `bridge`: every profile gets a chance to
 * recognise a message (the preferred one first), then plain JSON, else a DECODE error. One
 * profile's decoder throwing never stops the chain: foreign bytes are expected here.
 */
import { HeraldError } from '../errors.js';
import { normalize } from '../events/event.js';
import type { EventInput, Severity } from '../events/schema.js';
import { SEVERITIES } from '../events/schema.js';
import { jsonObject } from '../shared/json.js';
import { DECODE_ORDER, PROFILES, type ProfileName } from './registry.js';
import type { DecodedMessage, IncomingMessage, Profile } from './types.js';

function tryProfile(profile: Profile | undefined, msg: IncomingMessage): DecodedMessage | undefined {
  if (profile?.decode === undefined) return undefined;
  try {
    return profile.decode(msg);
  } catch {
    return undefined;
  }
}

/**
 * Decodes one message. `preferred` is tried first (e.g. `--profile aliecs`); then the other
 * profiles; then any JSON object (profile `json`). Throws HeraldError DECODE otherwise.
 */
export function decodeMessage(msg: IncomingMessage, preferred?: ProfileName): DecodedMessage {
  // The registry orders the chain (decodeOrder): the most specific recognisers first. Choria
  // comes before cloudevents because its default form is a CloudEvent (source io.choria.*)
  // that should be shown and counted as a Choria lifecycle event.
  const first = preferred === undefined ? undefined : PROFILES[preferred];
  if (first !== undefined) {
    const decoded = tryProfile(first, msg);
    if (decoded !== undefined) return decoded;
  }
  for (const profile of DECODE_ORDER) {
    if (profile === first) continue;
    const decoded = tryProfile(profile, msg);
    if (decoded !== undefined) return decoded;
  }
  const json = decodePlainJson(msg);
  if (json !== undefined) return json;
  const size = msg.value === null ? 'no value' : `${msg.value.length} bytes`;
  throw new HeraldError('DECODE', `message at ${msg.topic}${msg.partition !== undefined ? `[${msg.partition}]` : ''}${msg.offset !== undefined ? `@${msg.offset}` : ''} (${size}) is not in any known format (${DECODE_ORDER.map((p) => p.name).join(', ')}, JSON)`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' && !/\s/.test(v) ? v : undefined);

/** Any JSON object, shown as an event with a best-effort type. */
export function decodePlainJson(msg: IncomingMessage): DecodedMessage | undefined {
  if (msg.value === null || msg.value.length === 0) return undefined;
  const d = jsonObject(msg.value);
  if (d === undefined) return undefined;
  const type = str(d.type) ?? str(d.event_type) ?? str(d.eventType) ?? str(d.name) ?? str(d.Name) ?? str(d.kind) ?? 'json';
  const rawTime = [d.time, d.timestamp, d.event_time, d.eventTime].find((t) => (typeof t === 'string' && !Number.isNaN(Date.parse(t))) || typeof t === 'number');
  const time = rawTime === undefined
    ? new Date(msg.timestamp ?? Date.now()).toISOString()
    : new Date(typeof rawTime === 'number' ? (rawTime < 1e12 ? rawTime * 1000 : rawTime) : (rawTime as string)).toISOString();
  const severity = typeof d.severity === 'string' && (SEVERITIES as readonly string[]).includes(d.severity.toLowerCase()) ? (d.severity.toLowerCase() as Severity) : undefined;
  const subject = typeof d.subject === 'string' && d.subject !== '' ? d.subject.slice(0, 1024) : undefined;
  const message = typeof d.message === 'string' ? d.message.slice(0, 4096) : undefined;
  const input: EventInput = {
    source: str(d.source) ?? `${msg.transport ?? 'kafka'}:${msg.topic}`,
    type: type.slice(0, 255),
    time: Number.isNaN(Date.parse(time)) ? new Date().toISOString() : time,
    ...(severity !== undefined && { severity }),
    ...(subject !== undefined && { subject }),
    ...(message !== undefined && { message }),
    ...(typeof d.id === 'string' && d.id !== '' && { id: d.id.slice(0, 255) }),
    data: d,
  };
  return { profile: 'json', format: 'json', event: normalize(input), document: d };
}

/** One readable line for a decoded message, from its profile's summary when it has one. */
export function summarizeDecoded(decoded: DecodedMessage): string {
  const profile = (PROFILES as Record<string, Profile | undefined>)[decoded.profile];
  if (profile?.summary !== undefined) {
    try {
      return profile.summary(decoded);
    } catch {
      // fall through to the generic form
    }
  }
  return PROFILES.cloudevents.summary!(decoded);
}
