/**
 * The command line beside kcat, in the same run on the same broker (issue 22):
 * - `--help`: wall time of `herald --help` against `kcat -V` (target ≤ 0.15 s);
 * - start-up: `herald emit` of one event, process start to its first byte on the wire (seen by
 *   a TCP relay in front of the broker), against `kcat -P` of one record (target ≤ 0.5 s); and
 *   the same runs' wall time to the acknowledgement and exit;
 * - bulk emit: N NDJSON lines from a file (`herald emit --input FILE`) against `kcat -P -l` of
 *   the same lines (target ≥ 0.5 × kcat);
 * - view: reading N records (`herald view --offset beginning --max N --format json`) against
 *   `kcat -C -e` of the same topic (target ≥ 0.5 × kcat);
 * - the bound of the two bulk rows: the bare @platformatic/kafka producer and consumer doing
 *   the same work with none of herald's, in the same run.
 * Times are medians of a few runs for the start-up rows. Each row's ratio is kcat ÷ herald for
 * times and herald ÷ kcat for rates: higher is better, 1 means as fast as kcat.
 *
 * Standalone: `npm run build && node --import tsx bench/cli.ts --brokers HOST:PORT [--count N]`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTopic } from './reference.js';
import { round, ROOT, type ScenarioResult } from './support.js';
import type { BenchContext } from './scenarios.js';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Runs a command to its end: stdout and wall time (a command that exits before reading its stdin, like `kcat -V`, is fine). */
function run(cmd: string, args: string[], options: { input?: string } = {}): Promise<{ stdout: string; seconds: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve({ stdout, seconds });
      else reject(new Error(`${cmd} ${args[0] ?? ''} exited ${code}: ${stderr.slice(-2000)}`));
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
const herald = (args: string[], input?: string) => run(process.execPath, [CLI, ...args], input !== undefined ? { input } : {});

/**
 * Start to first byte on the wire: `cmd` is given the address of a TCP relay in front of the
 * broker (`{{brokers}}` in `args`), which notes when the first byte of the first connection
 * arrives and forwards everything both ways. Also returns the wall time to exit.
 */
async function firstByte(brokers: string, cmd: string, args: string[], input?: string): Promise<{ firstByte: number; seconds: number }> {
  const [host, port] = brokers.split(',')[0]!.split(':') as [string, string];
  let first: number | undefined;
  let t0 = 0n;
  const relay = createServer((client) => {
    const upstream = connect(Number(port), host);
    client.once('data', () => (first ??= Number(process.hrtime.bigint() - t0) / 1e9));
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
  try {
    t0 = process.hrtime.bigint();
    const { seconds } = await run(cmd, args.map((a) => a.replace('{{brokers}}', address)), input !== undefined ? { input } : {});
    if (first === undefined) throw new Error(`${cmd} sent nothing to the broker`);
    return { firstByte: first, seconds };
  } finally {
    relay.close();
  }
}

/** The middle value. */
const mid = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function median(times: number, fn: () => Promise<number>): Promise<number> {
  const all: number[] = [];
  for (let i = 0; i < times; i++) all.push(await fn());
  return mid(all);
}

function timeRow(name: string, herald: number, kcat: number, kcatWhat: string, target: string): ScenarioResult {
  return { name, events: 1, seconds: herald, events_per_s: 1 / herald, ratio_to_reference: kcat / herald, reference: kcatWhat, note: `herald ${round(herald, 3)} s, ${kcatWhat} ${round(kcat, 3)} s; ${target}` };
}

/**
 * The Kafka client alone, what bounds `emit --input`: the same lines as binary CloudEvents
 * (the 7 headers herald writes, built here) sent by the bare @platformatic/kafka producer with
 * herald's settings (acks=all, idempotent) in requests as herald sizes them, each awaited.
 */
async function bareProduce(brokers: string, topic: string, file: string): Promise<number> {
  // Loaded here, after the start-up rows: nothing of the client runs in this process while they are timed.
  const { Producer, ProduceAcks } = await import('@platformatic/kafka');
  const { MAX_REQUEST_PIECES } = await import('../src/transports/kafka/sink.js');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const producer = new Producer({ clientId: 'bench-bare', bootstrapBrokers: brokers.split(','), idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: true });
  const names = ['content-type', 'ce_id', 'ce_source', 'ce_specversion', 'ce_type', 'ce_time', 'ce_severity'].map((k) => Buffer.from(k));
  const perRequest = Math.floor(MAX_REQUEST_PIECES / (8 + 4 * names.length));
  try {
    await producer.metadata({ topics: [topic] });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i += perRequest) {
      const messages = lines.slice(i, i + perRequest).map((line) => {
        const values = ['application/json', randomUUID(), 'bench', '1.0', 'bench.bulk', new Date().toISOString(), 'info'];
        return { topic, value: Buffer.from(line), headers: new Map(names.map((n, k) => [n, Buffer.from(values[k]!)])) };
      });
      await producer.send({ messages });
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await producer.close();
  }
}

/** The Kafka client alone, what bounds `view`: the bare consumer reading `count` records of `topic` from the beginning with 1 MiB fetches (as view asks). */
async function bareConsume(brokers: string, topic: string, count: number): Promise<number> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'bench-bare', groupId: `bench-bare-${randomUUID()}`, bootstrapBrokers: brokers.split(','), autocommit: false, maxWaitTime: 500, maxBytes: 1_048_576 });
  try {
    const t0 = process.hrtime.bigint();
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let n = 0;
    for await (const _ of stream) if (++n >= count) break;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await stream.close();
    return seconds;
  } finally {
    await consumer.close(true);
  }
}

/** The rows of the CLI benchmark; `count` records for the bulk rows. */
export async function cliBench(ctx: BenchContext, count: number): Promise<ScenarioResult[]> {
  const rows: ScenarioResult[] = [];
  const reps = ctx.quick ? 3 : 5;

  const helpH = await median(reps, async () => (await herald(['--help'])).seconds);
  const helpK = await median(reps, async () => (await run('kcat', ['-V'])).seconds);
  rows.push(timeRow('cli: herald --help', helpH, helpK, 'kcat -V', `target ≤ 0.15 s (${helpH <= 0.15 ? 'met' : 'missed'})`));

  const one = await ctx.topic('cli-one');
  await herald(['emit', '--brokers', ctx.brokers, '--topic', one, '--type', 'bench.warm']);
  // Start to first byte: through a relay in front of the broker (see firstByte). Start to
  // acked: the wall time of the same run, to the broker's acknowledgement and exit.
  const heraldOne = ['emit', '--brokers', '{{brokers}}', '--topic', one, '--type', 'bench.one', '--data', '{"n":1}'];
  const kcatOne = ['-P', '-b', '{{brokers}}', '-t', one, '-X', 'acks=all'];
  const hRuns: { firstByte: number; seconds: number }[] = [];
  const kRuns: { firstByte: number; seconds: number }[] = [];
  for (let i = 0; i < reps; i++) {
    hRuns.push(await firstByte(ctx.brokers, process.execPath, [CLI, ...heraldOne]));
    kRuns.push(await firstByte(ctx.brokers, 'kcat', kcatOne, '{"n":1}\n'));
  }
  const firstH = mid(hRuns.map((r) => r.firstByte));
  const firstK = mid(kRuns.map((r) => r.firstByte));
  rows.push(timeRow('cli: herald emit one event, start to first byte on the wire', firstH, firstK, 'kcat -P one record', `target ≤ 0.5 s (${firstH <= 0.5 ? 'met' : 'missed'})`));
  const startH = mid(hRuns.map((r) => r.seconds));
  const startK = mid(kRuns.map((r) => r.seconds));
  rows.push(timeRow('cli: herald emit one event, start to acked and exited', startH, startK, 'kcat -P one record', 'for reference: the whole run, to the acknowledgement and exit'));

  // The same NDJSON lines for both: herald reads each as an event's data (--type given).
  const pad = 'x'.repeat(Math.max(0, ctx.recordSize - 40));
  const file = join(ctx.tmp, `cli-${count}.ndjson`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify({ i, pad })).join('\n') + '\n');
  const hTopic = await ctx.topic('cli-bulk-herald');
  const kTopic = await ctx.topic('cli-bulk-kcat');
  const emitH = await herald(['emit', '--brokers', ctx.brokers, '--topic', hTopic, '--type', 'bench.bulk', '--source', 'bench', '--input', file]);
  const emitK = await run('kcat', ['-P', '-b', ctx.brokers, '-t', kTopic, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-l', file]);
  rows.push({
    name: `cli: herald emit --input (${count} NDJSON lines)`, events: count, seconds: emitH.seconds, events_per_s: count / emitH.seconds,
    ratio_to_reference: emitK.seconds / emitH.seconds, reference: 'kcat -P -l',
    note: `kcat -P ${Math.round(count / emitK.seconds)}/s; target ≥ 0.5 × kcat (${emitK.seconds / emitH.seconds >= 0.5 ? 'met' : 'missed'})`,
  });
  const bareP = await bareProduce(ctx.brokers, await ctx.topic('cli-bulk-bare'), file);
  rows.push({
    name: `cli: bare Kafka client producing the same ${count} lines (7 headers)`, events: count, seconds: bareP, events_per_s: count / bareP,
    ratio_to_reference: emitK.seconds / bareP, reference: 'kcat -P -l',
    note: `the bound of emit --input: herald ÷ bare client ${round(bareP / emitH.seconds, 2)}`,
  });

  // Reading: both read what herald wrote (CloudEvents, binary mode).
  const viewH = await herald(['view', '--brokers', ctx.brokers, '--topic', hTopic, '--offset', 'beginning', '--max', String(count), '--format', 'json', '--timeout', '30s']);
  const viewK = await run('kcat', ['-C', '-b', ctx.brokers, '-t', hTopic, '-o', 'beginning', '-e', '-q', '-c', String(count), '-f', '%t %p %o %k %h %s\n']);
  const shown = viewH.stdout.split('\n').filter(Boolean).length;
  const readK = viewK.stdout.split('\n').filter(Boolean).length;
  if (shown !== count || readK !== count) throw new Error(`view read ${shown} and kcat ${readK} of ${count} records`);
  rows.push({
    name: `cli: herald view --format json (${count} records)`, events: count, seconds: viewH.seconds, events_per_s: count / viewH.seconds,
    ratio_to_reference: viewK.seconds / viewH.seconds, reference: 'kcat -C -e',
    note: `kcat -C ${Math.round(count / viewK.seconds)}/s; target ≥ 0.5 × kcat (${viewK.seconds / viewH.seconds >= 0.5 ? 'met' : 'missed'})`,
  });
  const bareC = await bareConsume(ctx.brokers, hTopic, count);
  rows.push({
    name: `cli: bare Kafka client consuming the same ${count} records`, events: count, seconds: bareC, events_per_s: count / bareC,
    ratio_to_reference: viewK.seconds / bareC, reference: 'kcat -C -e',
    note: `the bound of view: herald ÷ bare client ${round(bareC / viewH.seconds, 2)}`,
  });
  return rows;
}

// Standalone run against a running broker.
if (process.argv[1]?.endsWith('cli.ts')) {
  const argv = process.argv.slice(2);
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const brokers = arg('--brokers');
  if (brokers === undefined) {
    console.error('usage: node --import tsx bench/cli.ts --brokers HOST:PORT [--count N (100000)] [--record-size BYTES (512)]');
    process.exit(2);
  }
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const tmp = mkdtempSync(join(tmpdir(), 'herald-bench-cli-'));
  let n = 0;
  const ctx: BenchContext = {
    brokers, tmp, recordSize: Number(arg('--record-size') ?? 512), partitions: 6, quick: true, log: (m) => console.error(m),
    async topic(label) {
      const name = `bench.${label}.${Date.now()}.${++n}`;
      await createTopic(brokers, name, 6);
      return name;
    },
  };
  try {
    for (const r of await cliBench(ctx, Number(arg('--count') ?? 100_000))) {
      console.log(`${r.name}: ${r.seconds.toFixed(3)} s, ${Math.round(r.events_per_s)}/s, ratio ${round(r.ratio_to_reference!, 3)} (${r.reference}); ${r.note}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
