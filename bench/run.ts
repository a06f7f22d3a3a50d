/**
 * `npm run bench [-- --quick] [-- --record-size N] [-- --only WORD[,WORD]]`
 *
 * Starts its own single-node KRaft broker in a temp dir, runs Kafka's own tools (reference)
 * and Herald side by side with the same record size, acks=all and a topic of 6 partitions,
 * prints a table and writes bench/results/latest.json. See docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
// @ts-expect-error plain ESM JavaScript without types
import { startCluster, freePort } from '../scripts/kafka/lib.mjs';
import { createTopic, kcatProduce, producerPerformance } from './reference.js';
import { printTable, round, ROOT, type ScenarioResult } from './support.js';
import { deriveRatios } from './ratios.js';
import {
  e2eHerald, e2eKcat, e2eServeIdle, heraldDirect, heraldDurableSqlite, heraldServeIngest, memoryBrokerDown, queryLatency, tallyThroughput,
  type BenchContext,
} from './scenarios.js';
import { webhookE2e, webhookThroughput } from './webhook.js';
import { streamStalledClients } from './stream.js';
import { cliBench } from './cli.js';

interface Options { quick: boolean; recordSize: number; partitions: number; only: string[] }

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, recordSize: 512, partitions: 6, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v!;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--record-size') o.recordSize = Number(value());
    else if (a === '--partitions') o.partitions = Number(value());
    else if (a === '--only') o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  if (!Number.isInteger(o.recordSize) || o.recordSize < 64) usage('--record-size must be an integer >= 64');
  if (!Number.isInteger(o.partitions) || o.partitions < 1) usage('--partitions must be an integer >= 1');
  return o;
}

function usage(error?: string): never {
  const text = 'usage: npm run bench -- [--quick] [--record-size BYTES (512)] [--partitions N (6)] [--only reference,direct,durable,serve,e2e,query,tally,memory,webhook,stream,cli]';
  if (error) {
    console.error(`bench: ${error}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

function machine(): Record<string, string | number> {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let javaVersion = 'unknown';
  try {
    javaVersion = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch { /* unknown */ }
  let kcatVersion = 'unknown';
  try {
    kcatVersion = /Version (\S+).*?(librdkafka \S+)/.exec(execFileSync('kcat', ['-V'], { encoding: 'utf8' }))?.slice(1).join(', ') ?? 'unknown';
  } catch { /* unknown */ }
  return { cpu, cores: cpus().length, memory_gib: round(totalmem() / 2 ** 30, 1), node: process.version, java: javaVersion, kcat: kcatVersion };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const wants = (key: string) => opts.only.length === 0 || opts.only.includes(key);
  const q = opts.quick;
  const sizes = {
    throughput: q ? 50_000 : 200_000,
    serve: q ? 20_000 : 100_000,
    e2eRate: 2000,
    e2eSeconds: q ? 3 : 10,
    query: q ? 100_000 : 10_000_000,
    queryReps: q ? 30 : 100,
    tally: q ? 100_000 : 500_000,
    memory: 100_000,
  };
  const tmp = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  let cluster: { bootstrap: string; nodes: Array<{ pid?: number }>; stop(): Promise<void> } | undefined;
  const started = Date.now();
  const cleanup = async () => {
    await cluster?.stop().catch(() => undefined);
    cluster = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  // The broker is a detached JVM: whatever way this process ends, it must not outlive it.
  process.once('exit', () => {
    for (const n of cluster?.nodes ?? []) {
      try { if (n.pid) process.kill(n.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(tmp, { recursive: true, force: true });
  });
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));
  // A stray rejection inside a scenario (e.g. a client error event) is reported, not fatal.
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  try {
    const needsBroker = ['reference', 'direct', 'durable', 'serve', 'e2e', 'cli'].some(wants);
    let n = 0;
    const ctx: BenchContext = {
      brokers: '',
      tmp,
      recordSize: opts.recordSize,
      partitions: opts.partitions,
      quick: q,
      log,
      async topic(label) {
        const name = `bench.${label}.${++n}`;
        await createTopic(ctx.brokers, name, opts.partitions);
        return name;
      },
    };
    if (needsBroker) {
      log('starting a local Kafka broker ...');
      cluster = (await startCluster({ dir: join(tmp, 'kafka'), size: 1 })) as NonNullable<typeof cluster>;
      ctx.brokers = cluster.bootstrap;
      log(`broker at ${ctx.brokers}`);
    }
    const step = async (key: string, label: string, fn: () => Promise<ScenarioResult | ScenarioResult[]>) => {
      if (!wants(key)) return;
      log(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${label} ...`);
      try {
        const r = await fn();
        for (const x of Array.isArray(r) ? r : [r]) {
          results.push(x);
          log(`  ${x.name}: ${Math.round(x.events_per_s)} events/s${x.p99_ms !== undefined ? `, p50 ${x.p50_ms!.toFixed(1)} ms, p99 ${x.p99_ms.toFixed(1)} ms` : ''}${x.peak_rss_mb !== undefined ? `, peak RSS ${x.peak_rss_mb.toFixed(0)} MB` : ''}`);
        }
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
        log(`  FAILED: ${(err as Error).stack ?? err}`);
      }
    };

    const N = sizes.throughput;
    await step('reference', 'reference: Kafka ProducerPerformance', async () => producerPerformance(ctx.brokers, await ctx.topic('perf'), N, opts.recordSize));
    await step('reference', 'reference: ProducerPerformance, batch.size 1 MiB', async () => producerPerformance(ctx.brokers, await ctx.topic('perf1m'), N, opts.recordSize, 1024 * 1024));
    await step('reference', 'reference: kcat -P', async () => kcatProduce(ctx.brokers, await ctx.topic('kcat'), N, opts.recordSize, tmp));
    await step('direct', 'herald direct', () => heraldDirect(ctx, N));
    await step('direct', 'herald direct, structured mode', () => heraldDirect(ctx, N, 'structured'));
    await step('durable', 'herald durable (SQLite outbox)', () => heraldDurableSqlite(ctx, N));
    await step('durable', 'herald durable (SQLite outbox), structured mode', () => heraldDurableSqlite(ctx, N, 'structured'));
    await step('serve', 'herald serve + HTTP ingest (SQLite)', async () => heraldServeIngest(ctx, 'sqlite', sizes.serve, await freePort()));
    await step('serve', 'herald serve + HTTP ingest (PostgreSQL)', async () => heraldServeIngest(ctx, 'postgres', sizes.serve, await freePort()));
    await step('e2e', 'e2e latency: kcat reference', () => e2eKcat(ctx, sizes.e2eRate, sizes.e2eSeconds));
    for (const rate of [sizes.e2eRate, 10_000]) {
      await step('e2e', `e2e latency: herald direct, ${rate}/s`, () => e2eHerald(ctx, 'direct', rate, sizes.e2eSeconds));
      await step('e2e', `e2e latency: herald durable, ${rate}/s`, () => e2eHerald(ctx, 'durable', rate, sizes.e2eSeconds));
    }
    await step('e2e', 'e2e latency: herald serve, idle', async () => e2eServeIdle(ctx, await freePort(), 50));
    await step('cli', 'cli beside kcat: --help, start-up, emit --input, view', () => cliBench(ctx, q ? 20_000 : 100_000));
    if (cluster) {
      await cluster.stop();
      cluster = undefined;
    }
    await step('tally', 'tally throughput', async () => tallyThroughput(sizes.tally));
    await step('webhook', 'webhook: delivered events/s to a local receiver', () => webhookThroughput(ctx, q ? 20_000 : 100_000));
    await step('webhook', 'webhook: e2e latency at 1,000 events/s', () => webhookE2e(ctx, 1000, q ? 3 : 10));
    await step('stream', 'herald serve, one reading SSE client (reference)', async () => streamStalledClients(ctx, 10_000, await freePort(), 0));
    await step('stream', 'herald serve with 100 stalled SSE clients', async () => streamStalledClients(ctx, 10_000, await freePort()));
    await step('memory', 'memory of herald serve with the broker down', async () => memoryBrokerDown(ctx, sizes.memory, await freePort(), await freePort()));
    await step('query', `query latency over ${sizes.query} events (SQLite)`, () => queryLatency(ctx, 'sqlite', sizes.query, sizes.queryReps));
    await step('query', `query latency over ${sizes.query} events (PostgreSQL)`, () => queryLatency(ctx, 'postgres', sizes.query, sizes.queryReps));
  } finally {
    await cleanup();
  }

  // Ratios: every throughput against the best reference of this run; durable ÷ direct; serve ÷ library; e2e p99 ÷ kcat's.
  results.push(...deriveRatios(results));
  for (const r of results) {
    for (const k of ['seconds', 'events_per_s', 'p50_ms', 'p99_ms', 'max_ms', 'peak_rss_mb', 'ratio_to_reference'] as const) {
      if (r[k] !== undefined) r[k] = round(r[k]!, k === 'ratio_to_reference' ? 3 : 2);
    }
  }

  console.log(`\nHerald benchmarks (${q ? 'quick' : 'full'}; record size ${opts.recordSize} B, ${opts.partitions} partitions, acks=all)\n`);
  printTable(results);
  for (const r of results) if (r.note) console.log(`  ${r.name}: ${r.note}`);
  const out = {
    generated_at: new Date().toISOString(),
    mode: q ? 'quick' : 'full',
    ...(opts.only.length > 0 && { only: opts.only }),
    record_size: opts.recordSize,
    partitions: opts.partitions,
    wall_seconds: round((Date.now() - started) / 1000, 1),
    machine: machine(),
    results,
    failures,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  // A partial run (--only) must not replace the figures of the last complete run.
  const file = opts.only.length > 0 ? 'partial.json' : 'latest.json';
  writeFileSync(join(ROOT, 'bench', 'results', file), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote bench/results/${file} (${out.wall_seconds} s)`);
  if (failures.length > 0) {
    console.error(`\n${failures.length} scenario(s) failed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
