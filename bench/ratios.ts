/**
 * The ratios of a run: every Herald throughput figure against the best reference of the same
 * run (whichever client, whatever batch.size, went fastest on this broker), and the ratios
 * the targets of docs/benchmarks.md are stated in: durable ÷ direct, serve ingest ÷ library
 * durable, and each e2e p99 against kcat's.
 */
import { round, type ScenarioResult } from './support.js';

/** Throughput rows measured against the best reference. */
const COMPARED = /^(reference: |herald (direct|durable|serve))/;

/** A derived row: `value` in the ratio column, the figures it came from in the note. */
function ratioRow(name: string, value: number, note: string): ScenarioResult {
  return { name, events: 0, seconds: 0, events_per_s: Number.NaN, ratio_to_reference: value, reference: '', note };
}

/** Sets ratio_to_reference on the throughput rows and returns the derived ratio rows (to append to the results). */
export function deriveRatios(results: ScenarioResult[]): ScenarioResult[] {
  const refs = results.filter((r) => r.name.startsWith('reference: ') && !r.name.startsWith('reference: e2e') && Number.isFinite(r.events_per_s));
  const best = refs.reduce<ScenarioResult | undefined>((b, r) => (b === undefined || r.events_per_s > b.events_per_s ? r : b), undefined);
  if (best !== undefined) {
    const label = best.name.replace(/^reference: /, '');
    for (const r of results) {
      if (COMPARED.test(r.name) && r !== best) {
        r.ratio_to_reference = r.events_per_s / best.events_per_s;
        r.reference = label;
      }
    }
  }
  const by = (name: string) => results.find((r) => r.name === name);
  const out: ScenarioResult[] = [];
  const pair = (name: string, a: ScenarioResult | undefined, b: ScenarioResult | undefined, av: (r: ScenarioResult) => number | undefined, target: string) => {
    const x = a === undefined ? undefined : av(a);
    if (a === undefined || b === undefined || x === undefined) return;
    out.push(ratioRow(name, x / b.events_per_s, `${Math.round(x)}/s ÷ ${Math.round(b.events_per_s)}/s (${a.name} ÷ ${b.name}); ${target}`));
  };
  pair('ratio: durable ÷ direct', by('herald durable: SQLite outbox'), by('herald direct: emitMany'), (r) => r.events_per_s, 'target ≥ 0.8');
  pair('ratio: durable ÷ direct, structured', by('herald durable: SQLite outbox, structured'), by('herald direct: emitMany, structured'), (r) => r.events_per_s, 'target ≥ 0.8');
  // Serve ingest (until the last 202: stored) against the library's durable stored rate.
  const lib = by('herald durable: SQLite outbox');
  const libStored = lib?.stored_per_s !== undefined ? { ...lib, events_per_s: lib.stored_per_s, name: `${lib.name} (stored)` } : undefined;
  pair('ratio: serve ingest ÷ library durable (SQLite)', by('herald serve ingest: SQLite'), libStored, (r) => r.events_per_s, 'both until the callers were answered (stored); target ≥ 0.8');
  pair('ratio: serve delivered ÷ library durable (SQLite)', by('herald serve delivered: SQLite'), lib, (r) => r.events_per_s, 'both until the outbox drained');
  pair('ratio: serve ingest ÷ library durable (PostgreSQL serve)', by('herald serve ingest: PostgreSQL'), libStored, (r) => r.events_per_s, 'PostgreSQL serve against the SQLite library (no PostgreSQL library scenario)');
  const kcat = by('e2e latency: reference kcat -P');
  for (const r of results) {
    if (r.name.startsWith('e2e latency: herald') && r.p99_ms !== undefined && kcat?.p99_ms !== undefined) {
      r.note = `${r.note ?? ''}; p99 ${round(r.p99_ms / kcat.p99_ms)} × kcat's`;
    }
  }
  return out;
}
