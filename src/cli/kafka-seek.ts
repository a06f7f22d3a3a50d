/**
 * `herald view --partition N --offset beginning|end|N|-N|@<timestamp ms>` on Kafka, like
 * `kcat -C -p N -o …`: the flag's parsing. The Kafka source resolves the start offset of every
 * partition read (transports/kafka/offsets.ts) and reads from there; with --group the offsets
 * read are committed to that group after each message, as without --offset.
 */
import { UsageError } from '../errors.js';
import type { OffsetSpec } from '../transports/kafka/offsets.js';

export { startOffset, type OffsetSpec } from '../transports/kafka/offsets.js';

/** Parses `--offset`: beginning, end, N, -N or @<timestamp in ms>. */
export function parseOffset(value: string): OffsetSpec {
  const v = value.trim();
  if (v === 'beginning' || v === 'earliest') return { kind: 'beginning' };
  if (v === 'end' || v === 'latest') return { kind: 'end' };
  if (/^\d+$/.test(v)) return { kind: 'absolute', offset: BigInt(v) };
  if (/^-\d+$/.test(v)) return { kind: 'fromEnd', count: BigInt(v.slice(1)) };
  if (/^@\d+$/.test(v)) return { kind: 'timestamp', ms: BigInt(v.slice(1)) };
  throw new UsageError(`--offset must be beginning, end, N, -N or @<timestamp in ms>, got "${value}"`, [{ path: '--offset', message: 'must be beginning, end, N, -N or @<timestamp ms>' }]);
}
