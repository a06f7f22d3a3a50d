/**
 * Where a Kafka reader starts when told an offset (`herald view --offset`, like `kcat -C -o`):
 * the beginning, the end, an absolute offset, N before the end, or the first offset at or after
 * a timestamp (ListOffsets), each kept within the partition's [earliest, latest].
 */
export type OffsetSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'absolute'; offset: bigint }
  | { kind: 'fromEnd'; count: bigint }
  | { kind: 'timestamp'; ms: bigint };

/** Start offset of one partition from its earliest/latest offsets and the spec. */
export function startOffset(spec: OffsetSpec, earliest: bigint, latest: bigint, atTimestamp?: bigint): bigint {
  switch (spec.kind) {
    case 'beginning': return earliest;
    case 'end': return latest;
    case 'absolute': return spec.offset < earliest ? earliest : spec.offset > latest ? latest : spec.offset;
    case 'fromEnd': return latest - spec.count < earliest ? earliest : latest - spec.count;
    // ListOffsets answers -1 when no message is that recent: start at the end.
    case 'timestamp': return atTimestamp === undefined || atTimestamp < 0n ? latest : atTimestamp;
  }
}
