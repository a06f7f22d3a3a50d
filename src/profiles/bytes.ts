/** Message values in JSON output (`view --format raw`, the stdout sink). */

/** Text values as UTF-8 strings; other bytes as base64 with `encoding: 'base64'`; no value as null. */
export function valueForJson(value: Buffer | null): { value: string | null; encoding?: 'base64' } {
  if (value === null) return { value: null };
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? { value: text } : { value: value.toString('base64'), encoding: 'base64' };
}

/** The value parsed as a JSON object, or undefined (not JSON, or an array or scalar). */
export function jsonObject(value: Buffer): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
}
