/** Parses Prometheus text exposition with an independent parser and looks values up. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const parse = require('parse-prometheus-text-format') as (text: string) => PromFamily[];

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string; sum?: string; quantiles?: Record<string, string> }>;
}

export function parseMetrics(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The value of `name` with exactly these labels (undefined when absent). */
export function metricValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const fam = families.get(name);
  const want = JSON.stringify(Object.entries(labels).sort());
  const m = fam?.metrics.find((x) => JSON.stringify(Object.entries(x.labels ?? {}).sort()) === want);
  if (m === undefined) return undefined;
  return Number(m.value ?? m.count);
}
