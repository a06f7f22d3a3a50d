/**
 * Redaction of events and entity states: secrets never leave Herald. The ingest pipeline
 * applies it to every event of every entry point before anything is stored, streamed, logged
 * or published, so the store, the outbox and every sink only ever see the redacted event.
 *
 * Covered: every string field of an event (id, source, type, subject, message, partitionkey,
 * dataschema, datacontenttype, entity id and kind) and every string and key of `data`, at any
 * depth, including JSON documents embedded in strings. The rules (secret keys, URL
 * credentials, `key=value` pairs, bearer tokens, known token formats) are shared/redact.ts.
 *
 * Decisions: public SSH keys (`ssh_public_key`, `*_pub_key`) are not secret and are kept; a
 * value under a secret key is replaced whole (objects too), unless it is null or empty. A URL
 * keeps its user name and loses the password: `amqp://guest:[REDACTED]@host`.
 */
import { REDACTED, redactSecretsInText, redactUrlCredentials, secretKeyTest } from '../shared/redact.js';
import type { HeraldEvent } from './schema.js';

export { BUILT_IN_SECRET_WORDS, REDACTED } from '../shared/redact.js';

/** Removes the password of every `scheme://user:pass@host` in a string. */
export const redactUrls = redactUrlCredentials;

/** A function that redacts any JSON value (returns a copy; the input is not changed). */
export type ValueRedactor = (value: unknown) => unknown;

/**
 * Past this depth a value is replaced whole: validation refuses data nested deeper than 64
 * levels, so this only fails closed for callers that skip it (profiles redacting snapshots).
 */
const MAX_WALK_DEPTH = 96;
/** Strings longer than this are scanned as text but not parsed as embedded JSON. */
const MAX_EMBEDDED_JSON = 1_000_000;

/** Builds a value redactor with the built-in rules plus `extraKeys` (config redact.keys / HERALD_REDACT_KEYS). */
export function createValueRedactor(extraKeys: readonly string[] = []): ValueRedactor {
  const isSecret = secretKeyTest(extraKeys);
  const text = (s: string): string => redactSecretsInText(s, isSecret);
  const str = (s: string, depth: number): string => {
    const t = s.trimStart();
    // A JSON document inside the string (an object, an array, or a string: JSON encoded twice).
    if ((t.startsWith('{') || t.startsWith('[') || t.startsWith('"')) && s.length <= MAX_EMBEDDED_JSON) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        return text(s);
      }
      const redacted = walk(parsed, depth + 1);
      return JSON.stringify(redacted) === JSON.stringify(parsed) ? s : JSON.stringify(redacted);
    }
    return text(s);
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return str(value, depth);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_WALK_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecret(k) && v !== null && v !== '' ? REDACTED : walk(v, depth + 1);
    }
    return out;
  };
  return (value) => walk(value, 0);
}

/** The string fields of an event besides `data`, all redacted as text. */
const TEXT_FIELDS = ['id', 'source', 'type', 'subject', 'message', 'partitionkey', 'dataschema', 'datacontenttype'] as const;

/** Builds an event redactor: every string field and `data` (nested) lose their secrets. */
export function createRedactor(extraKeys: readonly string[] = []): (event: HeraldEvent) => HeraldEvent {
  const redactValue = createValueRedactor(extraKeys);
  const isSecret = secretKeyTest(extraKeys);
  const text = (s: string) => redactSecretsInText(s, isSecret);
  return (event) => {
    const out: Record<string, unknown> = { ...event };
    for (const f of TEXT_FIELDS) {
      const v = event[f];
      if (typeof v === 'string') out[f] = text(v);
    }
    if (event.entity !== undefined) out.entity = { kind: text(event.entity.kind), id: text(event.entity.id) };
    if (event.data !== undefined) out.data = redactValue(event.data);
    return Object.freeze(out) as unknown as HeraldEvent;
  };
}

/** Builds the text redactor of single strings (entity-state kind, id, state, source). */
export function createTextRedactor(extraKeys: readonly string[] = []): (text: string) => string {
  const isSecret = secretKeyTest(extraKeys);
  return (s) => redactSecretsInText(s, isSecret);
}
