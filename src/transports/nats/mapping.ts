/**
 * How an OutgoingMessage becomes a NATS message: subject, headers and the JetStream
 * de-duplication id. Pure functions, so the mapping is tested without a server.
 */
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { stableMessageIds } from '../shared/message-ids.js';
import type { IncomingMessage, OutgoingMessage } from '../types.js';

/** The JetStream header that de-duplicates retried publishes within the duplicate window. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * One `Nats-Msg-Id` per message of a batch (shared/message-ids.ts: the event id, `<eventId>:<n>`
 * for an event's further messages, the same id for an identical copy, so JetStream drops
 * retried and repeated publishes). A header `Nats-Msg-Id` set by the profile wins.
 */
export function natsMessageIds(messages: readonly OutgoingMessage[]): string[] {
  return stableMessageIds(messages, { explicit: (m) => m.headers?.[MSG_ID_HEADER] });
}

/**
 * The headers of one message as plain pairs: `content-type`, the message's own headers, and —
 * only if a profile produced binary-mode CloudEvents attributes despite NATS having no binary
 * mode in the released binding — each attribute as `ce-<name>` (the draft NATS binding), so no
 * attribute is lost. `msgId` is added as `Nats-Msg-Id` (JetStream only). A message whose
 * upstream sends bare messages (`metadata: 'none'`) gets no `content-type` header (NATS has no
 * content-type property); it keeps `Nats-Msg-Id`, which JetStream's de-duplication of retried
 * publishes needs.
 */
export function natsHeaderPairs(m: OutgoingMessage, msgId?: string): [string, string][] {
  const out: [string, string][] = [];
  if (m.contentType !== undefined && m.metadata !== 'none') out.push(['content-type', m.contentType]);
  for (const [k, v] of Object.entries(m.ceAttributes ?? {})) out.push([`${CE_PREFIX}${k}`, v]);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (k === MSG_ID_HEADER) continue;
    out.push([k, v]);
  }
  if (msgId !== undefined) out.push([MSG_ID_HEADER, msgId]);
  return out;
}

/** The pairs as a NATS header object, or undefined when there are none (smaller messages). */
export function toNatsHeaders(pairs: readonly [string, string][]): MsgHdrs | undefined {
  if (pairs.length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of pairs) h.append(k, v);
  return h;
}

/** Duplicate window of a stream Herald creates: retries within it are de-duplicated. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

/**
 * The subjects of the stream a sink creates when `subjects` is not configured: what the
 * sink's binding publishes to. choria: `choria.>` (lifecycle events and machine transitions);
 * every other profile: the binding's topic and everything below it.
 */
export function defaultStreamSubjects(profile: string, topic: string): string[] {
  if (profile === 'choria') return ['choria.>'];
  return [topic, `${topic}.>`];
}

/** The header prefix of CloudEvents attributes (the NATS binding's binary mode). */
export const CE_PREFIX = 'ce-';

/** NATS headers as strings (repeated headers joined with `,` as in HTTP), and CloudEvents attributes. */
export function fromNatsHeaders(h: MsgHdrs | undefined): Pick<IncomingMessage, 'headers' | 'ceAttributes'> {
  const headers: Record<string, string> = {};
  if (h === undefined) return { headers };
  let ce: Record<string, string> | undefined;
  for (const k of h.keys()) {
    const v = h.values(k).join(',');
    headers[k] = v;
    const lower = k.toLowerCase();
    if (lower.startsWith(CE_PREFIX)) (ce ??= {})[lower.slice(CE_PREFIX.length)] = v;
  }
  if (ce !== undefined && headers['content-type'] !== undefined) ce.datacontenttype = headers['content-type'];
  return ce === undefined ? { headers } : { headers, ceAttributes: ce };
}
