/**
 * `herald emit --input FILE|-`: NDJSON in bulk. Each line is one event — an event object as
 * POST /v2/events takes it, or, when --type/--source are given, that event's data — published
 * in batches through the same Ingest as a single `emit`. A line that is not JSON, or an event
 * the validation refuses, fails alone (the rest of its batch is still sent); a delivery
 * failure fails its batch and stops the run. One summary line goes to stderr; the caller
 * exits 1 when any line failed.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { HeraldError, UsageError, type FieldProblem } from '../errors.js';
import type { Ingest, PreparedIngest } from '../pipeline/ingest.js';

/** Events per ingest call: large enough for the producers' own batching, small enough to name failures. */
export const INPUT_BATCH = 1000;

export interface LineFailure {
  line: number;
  message: string;
}

export interface InputResult {
  read: number;
  published: number;
  failures: LineFailure[];
  /** Set when a delivery failure stopped the run before the end of the input. */
  stoppedAt?: number;
}

/** Lines of FILE or stdin (`-`), blank lines skipped, numbered from 1. */
async function* lines(source: string): AsyncGenerator<{ n: number; text: string }> {
  const stream = source === '-' ? process.stdin : createReadStream(source);
  const opened = new Promise<void>((resolve, reject) => {
    if (source === '-') return resolve();
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new UsageError(`--input: cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, [{ path: '--input', message: 'file cannot be read' }]);
  }
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() !== '') yield { n, text };
  }
}

/** `[3].type` → index 3; undefined when the path names no event of the batch. */
function indexOf(path: string): number | undefined {
  const m = /^\[(\d+)\]/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/**
 * Publishes the input's events. `toInput` turns a line's JSON into an event input (may
 * throw a UsageError for that line); `problemText` renders a refused event's problems.
 *
 * One batch is published while the next is read and prepared (validated, normalized, redacted
 * and encoded): the CPU work of batch n+1 overlaps the broker's acknowledgement of batch n.
 * Batches are handed over strictly in order, each only after the one before it succeeded, so a
 * delivery failure stops the run with nothing after it sent.
 */
export async function publishInput(
  source: string,
  ingest: Ingest,
  toInput: (value: unknown) => unknown,
  problemText: (problems: FieldProblem[]) => string,
): Promise<InputResult> {
  const result: InputResult = { read: 0, published: 0, failures: [] };
  let batch: { n: number; input: unknown }[] = [];
  /** The batch being published: resolves false when its delivery failed (the run stops). */
  let inflight: Promise<boolean> | undefined;

  /**
   * Prepares the batch, dropping (and naming) the lines the validation refuses; undefined when
   * none is left, 'stop' when preparing failed as a whole (every line of the batch failed).
   */
  const prepare = (): { prepared: PreparedIngest; lines: { n: number }[] } | undefined | 'stop' => {
    let pending = batch;
    batch = [];
    while (pending.length > 0) {
      try {
        return { prepared: ingest.prepare(pending.map((b) => b.input)), lines: pending };
      } catch (err) {
        const e = err as HeraldError;
        const indexed = e instanceof HeraldError && (e.code === 'INVALID_EVENT' || e.code === 'PAYLOAD_TOO_LARGE') && e.details.length > 0
          ? e.details.map((d) => indexOf(d.path))
          : [];
        if (indexed.length === 0 || !indexed.every((i) => i !== undefined && i < pending.length)) {
          for (const p of pending) result.failures.push({ line: p.n, message: e.message });
          result.stoppedAt = pending[pending.length - 1]!.n;
          return 'stop';
        }
        // Drop the refused events (naming their lines) and prepare the rest.
        const bad = new Map<number, FieldProblem[]>();
        e.details.forEach((d, k) => {
          const i = indexed[k]!;
          bad.set(i, [...(bad.get(i) ?? []), { path: d.path.replace(/^\[\d+\]\.?/, ''), message: d.message }]);
        });
        for (const [i, problems] of bad) result.failures.push({ line: pending[i]!.n, message: problemText(problems) });
        pending = pending.filter((_, i) => !bad.has(i));
      }
    }
    return undefined;
  };

  const deliver = async (p: { prepared: PreparedIngest; lines: { n: number }[] }): Promise<boolean> => {
    try {
      const r = await ingest.deliver(p.prepared);
      result.published += r.events.length;
      return true;
    } catch (err) {
      for (const l of p.lines) result.failures.push({ line: l.n, message: (err as Error).message });
      result.stoppedAt = p.lines[p.lines.length - 1]!.n;
      return false;
    }
  };

  /** Prepares the collected lines now, then hands them over once the batch before them succeeded. */
  const flush = async (): Promise<boolean> => {
    const next = prepare();
    if (inflight !== undefined && !(await inflight)) return false;
    if (next === 'stop') return false;
    inflight = next === undefined ? undefined : deliver(next);
    return true;
  };

  for await (const { n, text } of lines(source)) {
    result.read++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      result.failures.push({ line: n, message: `not JSON: ${(err as Error).message}` });
      continue;
    }
    try {
      batch.push({ n, input: toInput(value) });
    } catch (err) {
      result.failures.push({ line: n, message: (err as Error).message });
      continue;
    }
    if (batch.length >= INPUT_BATCH && !(await flush())) return result;
  }
  if (await flush()) await inflight;
  return result;
}

/** Line numbers as ranges: `3, 7-9, 12`. */
export function lineRanges(nums: readonly number[]): string {
  const sorted = [...new Set(nums)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(', ');
}

/** The one summary line on stderr. */
export function summaryLine(source: string, r: InputResult, ms: number): string {
  const from = source === '-' ? 'stdin' : source;
  const rate = ms > 0 ? Math.round((r.published * 1000) / ms) : r.published;
  const base = `herald emit: ${r.published} of ${r.read} event${r.read === 1 ? '' : 's'} from ${from} published in ${(ms / 1000).toFixed(1)} s (${rate}/s)`;
  if (r.failures.length === 0) return base;
  const first = [...r.failures].sort((a, b) => a.line - b.line).slice(0, 3).map((f) => `line ${f.line}: ${f.message}`).join('; ');
  const stopped = r.stoppedAt !== undefined ? `; stopped after line ${r.stoppedAt}` : '';
  return `${base}; ${r.failures.length} failed (line${r.failures.length === 1 ? '' : 's'} ${lineRanges(r.failures.map((f) => f.line))}): ${first}${stopped}`;
}
