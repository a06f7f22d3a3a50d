/** JSON helpers every layer shares: reading untyped values and message bytes. */

/** The value as a plain object, or undefined (null, arrays and scalars are not objects here). */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Text values as UTF-8 strings; other bytes as base64 with `encoding: 'base64'`; no value as null. */
export function valueForJson(value: Buffer | null): { value: string | null; encoding?: 'base64' } {
  if (value === null) return { value: null };
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? { value: text } : { value: value.toString('base64'), encoding: 'base64' };
}

/** The bytes parsed as a JSON object, or undefined (not JSON, or an array or scalar). */
export function jsonObject(value: Buffer): Record<string, unknown> | undefined {
  try {
    return asRecord(JSON.parse(value.toString('utf8')));
  } catch {
    return undefined;
  }
}
