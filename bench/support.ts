/**
 * Benchmark plumbing: a scenario result shape, percentiles, timing of child processes, and
 * the table/JSON output. Scenarios live in bench/scenarios.ts; bench/run.ts orders them.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const LIBS = process.env.HERALD_KAFKA_LIBS ?? join(ROOT, '.herald', 'libs');

export interface ScenarioResult {
  name: string;
  events: number;
  seconds: number;
  events_per_s: number;
  p50_ms?: number;
  p99_ms?: number;
  max_ms?: number;
  peak_rss_mb?: number;
  /** Herald / reference, for throughput scenarios that have one (higher is better). */
  ratio_to_reference?: number;
  reference?: string;
  /** Durable scenarios: the rate at which the events were stored (callers resolved), before the relay drained. */
  stored_per_s?: number;
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs a command, returns its stdout, stderr and wall time; rejects on a non-zero exit. */
export function run(cmd: string, args: string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve({ stdout, stderr, seconds });
      else reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-2000)}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

export function printTable(results: ScenarioResult[]): void {
  const cols: Array<[string, (r: ScenarioResult) => string]> = [
    ['scenario', (r) => r.name],
    ['events', (r) => (Number.isFinite(r.events_per_s) ? String(r.events) : '')],
    ['seconds', (r) => (Number.isFinite(r.events_per_s) ? r.seconds.toFixed(2) : '')],
    ['events/s', (r) => (Number.isFinite(r.events_per_s) ? Math.round(r.events_per_s).toLocaleString('en-US') : '')],
    ['p50 ms', (r) => (r.p50_ms === undefined ? '' : r.p50_ms.toFixed(2))],
    ['p99 ms', (r) => (r.p99_ms === undefined ? '' : r.p99_ms.toFixed(2))],
    ['peak RSS MB', (r) => (r.peak_rss_mb === undefined ? '' : r.peak_rss_mb.toFixed(0))],
    ['ratio', (r) => (r.ratio_to_reference === undefined ? '' : r.reference ? `${r.ratio_to_reference.toFixed(2)} × ${r.reference}` : r.ratio_to_reference.toFixed(2))],
  ];
  const rows = results.map((r) => cols.map(([, f]) => f(r)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(cols.map(([h]) => h)));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
