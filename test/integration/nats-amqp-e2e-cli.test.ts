/**
 * `herald emit` and `herald view` (the built CLI, as a user runs them) over NATS and RabbitMQ:
 * the viewer starts first; the event is emitted until the viewer has it (a core NATS subscriber
 * misses what was published before it subscribed; an AMQP emit before the viewer bound its
 * queue is unroutable and fails with exit 1), and the viewer prints the event's line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { CLI, ROOT, amqpUrl, natsUrl, runCli, uniqueName, type CliResult } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

const children: ChildProcess[] = [];
const exchanges: string[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (exchanges.length > 0) {
    const conn = await connect(amqpUrl());
    const ch = await conn.createChannel();
    for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
    await conn.close();
  }
});

interface Viewer {
  stdout(): string;
  stderr(): string;
  running(): boolean;
  /** Resolves with the exit code (killed after `limitMs`). */
  exited: Promise<number | null>;
}

function startView(args: string[], limitMs = 60_000): Viewer {
  const child = spawn(process.execPath, [CLI, 'view', ...args], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve(code);
  }));
  return { stdout: () => out, stderr: () => err, running: () => child.exitCode === null && child.signalCode === null, exited };
}

/**
 * Emits (again every 300 ms) until the viewer has exited (it stops after --max 1, or is killed
 * after its own limit); returns every emit's result.
 */
async function emitUntilViewed(viewer: Viewer, args: string[], timeoutMs = 60_000): Promise<CliResult[]> {
  const results: CliResult[] = [];
  await waitFor('the viewer to print the emitted event and exit', async () => {
    if (!viewer.running()) return true;
    results.push(await runCli(['emit', ...args], { timeoutMs: 30_000 }));
    return !viewer.running();
  }, timeoutMs, 300);
  return results;
}

// Choria's own String() of a startup (go-choria lifecycle/startup.go): "[startup] <identity>: <component> version <version>".
const STARTUP_LINE = /^\d\d:\d\d:\d\d \[startup\] i1: server version 1\.0\.0$/m;
const CHORIA_FLAGS = ['--profile', 'choria', '--type', 'startup', '--identity', 'i1', '--component', 'server', '--version', '1.0.0'];

test('NATS: herald view --nats prints the choria startup event herald emit --nats published', async () => {
  const viewer = startView(['--nats', natsUrl(), '--topic', 'choria.lifecycle.event.>', '--max', '1', '--format', 'pretty']);
  const emits = await emitUntilViewed(viewer, ['--nats', natsUrl(), ...CHORIA_FLAGS]);
  const code = await viewer.exited;
  console.log(`view --nats: ${JSON.stringify(viewer.stdout().trim())} after ${emits.length} emit(s); stderr: ${viewer.stderr().trim()}`);
  for (const e of emits) {
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /^[0-9a-f-]{36} topic=choria\.lifecycle\.event\.startup\.server$/m);
  }
  assert.equal(code, 0, viewer.stderr());
  assert.match(viewer.stdout(), STARTUP_LINE);
  assert.match(viewer.stderr(), /1 message read, 1 shown, 0 undecodable/);
});

test('RabbitMQ: herald view --amqp (binding #) prints the choria startup event herald emit --amqp published', async () => {
  const exchange = uniqueName('herald-e2e-cli');
  exchanges.push(exchange);
  const viewer = startView(['--amqp', amqpUrl(), '--exchange', exchange, '--binding', '#', '--max', '1', '--format', 'pretty']);
  const emits = await emitUntilViewed(viewer, ['--amqp', amqpUrl(), '--exchange', exchange, ...CHORIA_FLAGS]);
  const code = await viewer.exited;
  console.log(`view --amqp: ${JSON.stringify(viewer.stdout().trim())} after ${emits.length} emit(s)`);
  const ok = emits.filter((e) => e.code === 0);
  assert.equal(ok.length, 1, 'exactly the emit after the viewer bound its queue succeeded');
  assert.match(ok[0]!.stdout, /topic=choria\.lifecycle\.event\.startup\.server/);
  // Emits before the viewer's queue was bound are refused as unroutable (exit 1), never reported ok.
  for (const e of emits.filter((x) => x.code !== 0)) {
    assert.equal(e.code, 1, e.stderr);
    assert.match(e.stderr, /unroutable/);
  }
  assert.equal(code, 0, viewer.stderr());
  assert.match(viewer.stdout(), STARTUP_LINE);
});

test('RabbitMQ: a cloudstack ActionEvent emitted with --amqp reaches a viewer bound with CloudStack\'s pattern *.ActionEvent.#', async () => {
  const exchange = uniqueName('herald-e2e-cli-cs');
  exchanges.push(exchange);
  const uuid = randomUUID();
  const viewer = startView(['--amqp', amqpUrl(), '--exchange', exchange, '--binding', '*.ActionEvent.#', '--max', '1', '--format', 'pretty']);
  const emits = await emitUntilViewed(viewer, ['--amqp', amqpUrl(), '--exchange', exchange, '--profile', 'cloudstack', '--type', 'ActionEvent',
    '--data', '{"event":"VM.CREATE","status":"Completed","entity":"com.cloud.vm.VirtualMachine"}', '--entity', `VirtualMachine:${uuid}`]);
  const code = await viewer.exited;
  const ok = emits.filter((e) => e.code === 0);
  assert.equal(ok.length, 1, emits.map((e) => e.stderr).join('\n'));
  assert.match(ok[0]!.stdout, new RegExp(`topic=management-server\\.ActionEvent\\.VM-CREATE\\.VirtualMachine\\.${uuid}$`, 'm'));
  assert.equal(code, 0, viewer.stderr());
  assert.match(viewer.stdout(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[ActionEvent\\] VirtualMachine ${uuid}: VM\\.CREATE Completed$`, 'm'));
});
