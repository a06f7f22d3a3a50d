/**
 * The kcat-style command line against the real broker (issue 22): `emit --input` NDJSON from
 * stdin and a file (batches, one summary line, exit 1 naming failed lines), `--data @-`,
 * `--header K=V` on Kafka (read back with kcat), NATS and AMQP; `view --offset` by number,
 * from the end and by timestamp, `--partition`, `--format json` fields, `--group` commits,
 * a closed stdout (EPIPE) ending quietly with exit 0; `--version`, `help <command>`,
 * did-you-mean and the completion scripts. Needs the built CLI (npm test builds it).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { amqpUrl, CLI, kafkaBrokers, natsUrl, ROOT, runCli, startCli, stopStartedClis, uniqueName, type CliResult, type RunningCli } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-cli-kcat-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  stopStartedClis();
  rmSync(dir, { recursive: true, force: true });
});

/** kcat -C of a whole topic: offset, timestamp, key and headers of every record. */
async function kcat(topic: string): Promise<{ offset: number; ts: number; key: string; headers: Record<string, string>; value: string }[]> {
  const { stdout } = await promisify(execFile)('kcat', ['-C', '-b', kafkaBrokers(), '-t', topic, '-e', '-q', '-f', '%o\t%T\t%k\t%h\t%s\n'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean).map((l) => {
    const [o, ts, key, h, value] = l.split('\t');
    return { offset: Number(o), ts: Number(ts), key: key!, value: value!, headers: Object.fromEntries(h!.split(',').filter(Boolean).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)])) };
  });
}

const jsonLines = (r: CliResult) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('herald emit in bulk', () => {
  it('--input - reads NDJSON events from stdin, in one summary line, with --header on every record', async () => {
    const topic = uniqueName('cli-bulk-stdin');
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ type: 'com.example.bulk', source: 'bulk-test', partitionkey: `k${i % 7}`, data: { i } }));
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--input', '-', '--header', 'x-team=payments', '--header', 'x-run=a=b'], { input: lines.join('\n') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^herald emit: 2500 of 2500 events from stdin published/);
    const records = await kcat(topic);
    assert.equal(records.length, 2500);
    assert.deepEqual(records.map((x) => JSON.parse(x.value).i).sort((a, b) => a - b), Array.from({ length: 2500 }, (_, i) => i));
    for (const rec of [records[0]!, records[2499]!]) {
      assert.equal(rec.headers['x-team'], 'payments');
      assert.equal(rec.headers['x-run'], 'a=b');
      assert.equal(rec.headers.ce_type, 'com.example.bulk');
    }
    assert.equal(records[0]!.key, `k${JSON.parse(records[0]!.value).i % 7}`);
  });

  it('--input FILE with --type: each line is the data; bad lines fail alone, exit 1 naming them', async () => {
    const topic = uniqueName('cli-bulk-file');
    const file = join(dir, 'data.ndjson');
    writeFileSync(file, ['{"n":1}', 'not json', '', '{"n":3}', '{"n":4'].join('\n') + '\n');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--input', file, '--type', 'com.example.rows', '--source', 'rows']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /2 of 4 events .* published/);
    assert.match(r.stderr, /2 failed \(lines 2, 5\)/);
    assert.match(r.stderr, /line 2: not JSON/);
    const records = await kcat(topic);
    assert.deepEqual(records.map((x) => JSON.parse(x.value)), [{ n: 1 }, { n: 3 }]);
    assert.equal(records[0]!.headers.ce_type, 'com.example.rows');
  });

  it('an event the validation refuses fails its line only; the rest of the batch is sent', async () => {
    const topic = uniqueName('cli-bulk-invalid');
    const input = [{ type: 'ok.one', source: 's' }, { source: 's' }, { type: 'ok.three', source: 's', severity: 'loud' }, { type: 'ok.four', source: 's' }].map((e) => JSON.stringify(e)).join('\n');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--input', '-'], { input });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /lines 2-3/);
    assert.match(r.stderr, /line 2: type is required/);
    assert.deepEqual((await kcat(topic)).map((x) => x.headers.ce_type), ['ok.one', 'ok.four']);
  });

  it('--data @- reads one data document from stdin; bad bulk flags are exit 2 naming the flag', async () => {
    const topic = uniqueName('cli-data-stdin');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', 'com.example.stdin', '--data', '@-'], { input: '{\n  "from": "stdin"\n}\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse((await kcat(topic))[0]!.value), { from: 'stdin' });
    for (const [args, flag] of [
      [['--input', '-', '--data', '{}'], '--data'],
      [['--input', join(dir, 'missing.ndjson')], '--input'],
      [['--type', 't', '--header', 'novalue'], '--header'],
    ] as const) {
      const bad = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, ...args], { input: '' });
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(flag));
    }
  });

  it('--header reaches NATS headers and AMQP message headers; view --format json shows subject and routing key', async () => {
    const subject = `cli.kcat.${uniqueName('h').replace(/[^a-z0-9]/gi, '')}`;
    const viewer = startView(['--nats', natsUrl(), '--topic', subject, '--max', '1', '--format', 'json']);
    await waitForSubscriber(viewer, () => runCli(['emit', '--nats', natsUrl(), '--topic', subject, '--type', 'com.example.nats', '--header', 'x-h=nats']));
    const [n] = jsonLines({ stdout: viewer.stdout() } as CliResult);
    assert.equal(n!.subject, subject);
    assert.equal(n!.headers['x-h'], 'nats');
    assert.equal(n!.event.type, 'com.example.nats');

    const exchange = uniqueName('cli-kcat-x');
    const amqpViewer = startView(['--amqp', amqpUrl(), '--exchange', exchange, '--binding', '#', '--max', '1', '--format', 'json']);
    await waitForSubscriber(amqpViewer, () => runCli(['emit', '--amqp', amqpUrl(), '--exchange', exchange, '--topic', 'rk.one', '--type', 'com.example.amqp', '--header', 'x-h=amqp']));
    const [a] = jsonLines({ stdout: amqpViewer.stdout() } as CliResult);
    assert.equal(a!.routingKey, 'rk.one');
    assert.equal(a!.headers['x-h'], 'amqp');
    assert.equal(a!.event.type, 'com.example.amqp');
  });
});

const startView = (args: string[], limitMs?: number) => startCli(['view', ...args], limitMs);

/** Emits again every 300 ms until the viewer (subscribed some time after it started) printed one and exited. */
async function waitForSubscriber(viewer: RunningCli, emit: () => Promise<CliResult>): Promise<void> {
  await waitFor('the viewer to print an emitted event', async () => {
    if (!viewer.running()) return true;
    await emit();
    return !viewer.running();
  }, 60_000, 300);
  assert.equal(await viewer.exited, 0, viewer.stderr());
}

describe('herald view like kcat -C', () => {
  it('reads 20,000 records of 1 KB in a 40 MB heap, also into a reader that stops for a while: what was shown is let go, what was not read waits in the topic', async () => {
    const topic = uniqueName('cli-view-memory');
    const file = join(dir, 'view-memory.ndjson');
    const pad = 'x'.repeat(1000);
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ type: 'com.example.mem', i, pad })).join('\n') + '\n');
    await promisify(execFile)('kcat', ['-P', '-b', kafkaBrokers(), '-t', topic, '-l', file]);
    const args = ['view', '--brokers', kafkaBrokers(), '--topic', topic, '--offset', 'beginning', '--max', '20000', '--format', 'event', '--timeout', '20s'];
    // A reader that takes everything at once (a wait per message once kept every message)...
    const r = await runCli(args, { env: { NODE_OPTIONS: '--max-old-space-size=40' }, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const events = jsonLines(r);
    assert.equal(events.length, 20_000);
    assert.deepEqual([events[0]!.data.i, events[19_999]!.data.i], [0, 19_999]);
    assert.match(r.stderr, /20000 messages read, 20000 shown/);
    // ...and one that reads nothing for 3 s (view once kept writing into memory meanwhile).
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=40' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.pause();
    await new Promise((res) => setTimeout(res, 3000));
    let lines = 0;
    child.stdout!.on('data', (d: Buffer) => { for (const b of d) if (b === 0x0a) lines++; });
    child.stdout!.resume();
    const code = await new Promise<number | null>((res) => child.once('close', (c) => res(c)));
    assert.equal(code, 0, stderr.slice(-2000));
    assert.equal(lines, 20_000);
  });

  const topic = uniqueName('cli-view-offsets');
  let stamps: number[] = [];

  it('--offset N, -N, beginning, end and @timestamp (broker timestamps read by kcat), --partition', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', `com.example.o${i}`, '--key', `key-${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const records = await kcat(topic);
    stamps = records.map((x) => x.ts);
    const types = async (...args: string[]) => {
      const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--timeout', '3s', '--format', 'event', ...args]);
      assert.equal(v.code, 0, v.stderr);
      return jsonLines(v).map((e) => e.type as string);
    };
    assert.deepEqual(await types('--offset', '3'), ['com.example.o3', 'com.example.o4']);
    assert.deepEqual(await types('--offset', '-2'), ['com.example.o3', 'com.example.o4']);
    assert.deepEqual(await types('--offset=-1'), ['com.example.o4']);
    assert.deepEqual(await types('--offset', 'beginning', '--max', '2'), ['com.example.o0', 'com.example.o1']);
    assert.deepEqual(await types('--offset', 'end'), []);
    // The first record at or after the third record's timestamp (Kafka's ListOffsets by time).
    const expected = records.filter((x) => x.ts >= stamps[2]!).map((x) => `com.example.o${x.offset}`);
    assert.deepEqual(await types('--offset', `@${stamps[2]}`), expected);
    assert.deepEqual(await types('--offset', `@${stamps[4]! + 60_000}`), []);
    assert.deepEqual(await types('--partition', '0', '--offset', '4'), ['com.example.o4']);
  });

  it('--format json: topic, partition, offset, key, headers, timestamp and the event', async () => {
    const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--offset', '1', '--max', '1', '--format', 'json', '--timeout', '10s']);
    assert.equal(v.code, 0, v.stderr);
    const [line] = jsonLines(v);
    assert.deepEqual(Object.keys(line!), ['topic', 'partition', 'offset', 'key', 'headers', 'timestamp', 'event']);
    assert.equal(line!.topic, topic);
    assert.equal(line!.partition, 0);
    assert.equal(line!.offset, 1);
    assert.equal(line!.key, 'key-1');
    assert.equal(line!.headers.ce_type, 'com.example.o1');
    assert.equal(line!.timestamp, new Date(stamps[1]!).toISOString());
    assert.equal(line!.event.type, 'com.example.o1');
  });

  it('--meta pretty lines carry partition@offset and the key', async () => {
    const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--offset', '2', '--max', '1', '--meta', '--timeout', '10s']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^\d\d:\d\d:\d\d \[com\.example\.o2\] herald\/cli {2}\(p0@2 key=key-2\)$/m);
  });

  it('--group commits what it showed: the next read of the group starts after it', async () => {
    const group = uniqueName('cli-view-group');
    const first = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--group', group, '--offset', 'beginning', '--max', '2', '--format', 'event', '--timeout', '10s']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(jsonLines(first).map((e) => e.type), ['com.example.o0', 'com.example.o1']);
    const next = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--group', group, '--max', '1', '--format', 'event', '--timeout', '10s']);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(jsonLines(next).map((e) => e.type), ['com.example.o2']);
  });

  it('bad --offset and --partition are exit 2 naming the flag', async () => {
    for (const [args, flag] of [[['--offset', 'soon'], '--offset'], [['--partition', '7'], '--partition'], [['--partition', '-1'], '--partition']] as const) {
      const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--timeout', '2s', ...args]);
      assert.equal(v.code, 2, `${args.join(' ')}: ${v.stderr}`);
      assert.match(v.stderr, new RegExp(flag));
    }
    const nats = await runCli(['view', '--nats', natsUrl(), '--topic', 'x', '--offset', '3']);
    assert.equal(nats.code, 2, nats.stderr);
    assert.match(nats.stderr, /--offset applies to Kafka/);
  });

  it('a closed stdout (| head -1) ends quietly with exit 0', async () => {
    const big = uniqueName('cli-view-epipe');
    const input = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ type: 'com.example.pipe', source: 'p', data: { i, pad: 'x'.repeat(200) } })).join('\n');
    const e = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', big, '--input', '-'], { input });
    assert.equal(e.code, 0, e.stderr);
    const child = spawn(process.execPath, [CLI, 'view', '--brokers', kafkaBrokers(), '--topic', big, '--offset', 'beginning', '--format', 'json', '--timeout', '20s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const first = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    child.stdout!.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    assert.match(first, /^\{"topic":/);
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /EPIPE|Error|at /);
  });
});

describe('the usual manners', () => {
  it('--version, -V and version print the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const a of ['--version', '-V', 'version']) {
      const r = await runCli([a]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `herald ${pkg.version}\n`);
    }
  });

  it('help <command> is <command> --help, and lists every profile flag of emit', async () => {
    const a = await runCli(['help', 'emit']);
    const b = await runCli(['emit', '--help']);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
    for (const f of ['--input', '--header', '--webhook', '--identity', '--component', '--instance-id']) assert.ok(a.stdout.includes(f), f);
    const v = await runCli(['help', 'view']);
    for (const f of ['--partition', '--offset', '--group', '--format']) assert.ok(v.stdout.includes(f), f);
  });

  it('did you mean: a mistyped command or flag is exit 2 with a suggestion', async () => {
    const c = await runCli(['emti']);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /did you mean "emit"\?/);
    const f = await runCli(['view', '--ofset', '3']);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /unknown flag --ofset \(did you mean --offset\?\)/);
  });

  it('completion bash|zsh prints scripts that name the commands and their flags', async () => {
    const bash = await runCli(['completion', 'bash']);
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, /complete .*-F _herald herald/);
    for (const w of ['emit', 'view', '--input', '--offset', '--partition']) assert.ok(bash.stdout.includes(w), w);
    // bash itself accepts the script.
    const { stderr } = await promisify(execFile)('bash', ['-n', '-c', bash.stdout]);
    assert.equal(stderr, '');
    const zsh = await runCli(['completion', 'zsh']);
    assert.equal(zsh.code, 0, zsh.stderr);
    assert.match(zsh.stdout, /^#compdef herald/);
    const bad = await runCli(['completion', 'fish']);
    assert.equal(bad.code, 2);
  });
});
