/**
 * Standard Webhooks signatures (symmetric scheme `v1`): HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>` keyed with the bytes of a `whsec_` secret, sent as
 * `v1,<base64>`; one signature per secret, space separated, so a receiver can rotate secrets
 * without downtime. The timestamp is the attempt's (seconds since the epoch), the id the
 * message's — stable across retries, so a receiver de-duplicates by it.
 */
import { createHash, createHmac } from 'node:crypto';

/** The three Standard Webhooks headers. */
export const WEBHOOK_ID = 'webhook-id';
export const WEBHOOK_TIMESTAMP = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE = 'webhook-signature';

/** The `webhook-signature` value for one attempt: `v1,<sig>` per key, space separated. */
export function signatureHeader(keys: readonly Buffer[], id: string, timestamp: number, body: Buffer | null): string {
  const prefix = Buffer.from(`${id}.${timestamp}.`, 'utf8');
  return keys.map((k) => {
    const h = createHmac('sha256', k);
    h.update(prefix);
    if (body !== null) h.update(body);
    return `v1,${h.digest('base64')}`;
  }).join(' ');
}

/**
 * Ids a receiver can rely on: letters, digits, `_`, `-` and `:` only. The specification asks
 * that an id never hold a `.` (the signed content is `id.timestamp.body`) and header values
 * must be plain ASCII; an event id outside that set (Herald takes any id up to 255
 * characters) is replaced by `evt_` and a digest of it, stable across retries.
 */
const SAFE_ID = /^[A-Za-z0-9_:-]{1,200}$/;

export function safeWebhookId(eventId: string): string {
  return SAFE_ID.test(eventId) ? eventId : `evt_${createHash('sha256').update(eventId, 'utf8').digest('base64url').slice(0, 27)}`;
}

/** The id of a batched request: a digest of the ids it carries (the same batch retried gets the same id). */
export function batchWebhookId(ids: readonly string[]): string {
  return `batch_${createHash('sha256').update(ids.join('\n'), 'utf8').digest('base64url').slice(0, 27)}`;
}
