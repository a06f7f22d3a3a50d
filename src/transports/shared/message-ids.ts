/**
 * Stable per-message ids for receivers that de-duplicate by id (JetStream's `Nats-Msg-Id`,
 * Standard Webhooks' `webhook-id`): the event id for an event's first message and
 * `<id>:<n>` (n = 1, 2, ...) for its further, different messages, counted in batch order. An
 * event that maps to several messages (aliecs leave/enter/list) thus gets distinct ids, and a
 * retry of the same event — which re-encodes to the same messages in the same order — gets
 * the same ids, so the receiver drops the copies. A message identical to an earlier one of the
 * same event in the batch (same destination, bytes and headers: a second outbox entry of one
 * event, e.g. a replay queued while the original was still pending) gets that message's id,
 * so the copy is dropped too instead of being delivered under `<id>:<n>`.
 */
import { createHash } from 'node:crypto';
import type { OutgoingMessage } from '../types.js';

export interface MessageIdOptions {
  /** The id of an event's first message (default: the event id as it is). */
  base?: (eventId: string) => string;
  /** An id the message itself sets, which wins (e.g. a profile's own `Nats-Msg-Id` header). */
  explicit?: (m: OutgoingMessage) => string | undefined;
}

export function stableMessageIds(messages: readonly OutgoingMessage[], o: MessageIdOptions = {}): string[] {
  const byEvent = new Map<string, Map<string, string>>();
  return messages.map((m) => {
    const explicit = o.explicit?.(m);
    if (explicit !== undefined) return explicit;
    let ids = byEvent.get(m.eventId);
    if (ids === undefined) {
      ids = new Map();
      byEvent.set(m.eventId, ids);
    }
    const sig = messageSignature(m);
    const known = ids.get(sig);
    if (known !== undefined) return known;
    const base = o.base?.(m.eventId) ?? m.eventId;
    const id = ids.size === 0 ? base : `${base}:${ids.size}`;
    ids.set(sig, id);
    return id;
  });
}

/** A digest of what a receiver gets from one message: destination, content type, headers and bytes. */
function messageSignature(m: OutgoingMessage): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([m.topic, m.contentType ?? null, m.ceAttributes ?? null, m.headers ?? null, m.value === null ? null : m.value.length]));
  if (m.value !== null) h.update(m.value);
  return h.digest('base64');
}
