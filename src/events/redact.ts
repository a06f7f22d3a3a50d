/**
 * Redaction: secrets never leave Herald. Values under secret-looking keys are replaced,
 * anywhere in an event's data (nested objects and arrays), and credentials inside URLs
 * (`scheme://user:pass@host`) are removed from every string, including the message. The API
 * applies it before anything is stored or streamed, so the store, the outbox and every sink
 * only ever see the redacted event.
 *
 * Decisions: public SSH keys (`ssh_public_key`, `*_pub_key`) are not secret and are kept;
 * private keys, pull secrets and anything named like a password, token, secret, credential
 * or authorization header are redacted. A URL keeps its user name (useful to debug which
 * account was used) and loses the password: `amqp://guest:[REDACTED]@host`.
 */
import type { HeraldEvent } from './schema.js';

export const REDACTED = '[REDACTED]';

/** Words that make a key secret, compared after removing separators and case. */
export const BUILT_IN_SECRET_WORDS = [
  'password', 'passwd', 'pwd', 'secret', 'token', 'apikey', 'privatekey', 'pullsecret',
  'sshkey', 'sshprivatekey', 'credential', 'credentials', 'authorization', 'cookie',
  'clientsecret', 'accesskey', 'passphrase', 'bmcpassword',
] as const;

/** Keys that contain a secret word but are known to hold public data. */
const PUBLIC_KEYS = new Set(['sshpublickey', 'publickey', 'pubkey', 'sshpubkey', 'tokentype', 'tokenurl', 'tokenendpoint']);

const normalizeKey = (k: string) => k.toLowerCase().replace(/[\s_.\-]/g, '');

/** `scheme://user:password@` — the password part (anything up to the last @ before the host). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/gi;

/** Removes the password of every `scheme://user:pass@host` in a string. */
export function redactUrls(s: string): string {
  if (!s.includes('://')) return s;
  return s.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
}

/** A function that redacts any JSON value (returns a copy; the input is not changed). */
export type ValueRedactor = (value: unknown) => unknown;

/** Builds a value redactor with the built-in secret words plus `extraKeys` (config redact.keys / HERALD_REDACT_KEYS). */
export function createValueRedactor(extraKeys: readonly string[] = []): ValueRedactor {
  const words = [...BUILT_IN_SECRET_WORDS, ...extraKeys.map(normalizeKey).filter((k) => k.length > 0)];
  const isSecret = (key: string): boolean => {
    const k = normalizeKey(key);
    if (PUBLIC_KEYS.has(k) || k.endsWith('publickey')) return false;
    return words.some((w) => k.includes(w));
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactUrls(value);
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecret(k) && v !== null && v !== '' ? REDACTED : walk(v, depth + 1);
    }
    return out;
  };
  return (value) => walk(value, 0);
}

/** Builds an event redactor: data (nested), message, subject and source lose their secrets. */
export function createRedactor(extraKeys: readonly string[] = []): (event: HeraldEvent) => HeraldEvent {
  const redactValue = createValueRedactor(extraKeys);
  return (event) => {
    const out: Record<string, unknown> = { ...event };
    if (event.data !== undefined) out.data = redactValue(event.data);
    if (event.message !== undefined) out.message = redactUrls(event.message);
    if (event.subject !== undefined) out.subject = redactUrls(event.subject);
    out.source = redactUrls(event.source);
    return Object.freeze(out) as unknown as HeraldEvent;
  };
}
