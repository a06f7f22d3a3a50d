/** Identifiers derived from content, for wire formats whose messages carry no id of their own. */
import { createHash } from 'node:crypto';

/**
 * A stable UUID (version 5 layout, SHA-1 of the namespace, topic and bytes) for a message that
 * has no id (AliECS, CloudStack, Assisted Installer messages): decoding the same bytes twice
 * gives one id, so a consumer de-duplicating by id sees a repeat as a repeat.
 */
export function stableMessageId(namespace: string, topic: string, value: Uint8Array | null): string {
  const h = createHash('sha1').update(namespace).update('\u0000').update(topic).update('\u0000').update(value ?? new Uint8Array()).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
