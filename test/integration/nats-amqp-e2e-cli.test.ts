/**
 * `herald emit` and `herald view` (the built CLI, as a user runs them) over NATS and RabbitMQ:
 * the viewer starts first; the event is emitted until the viewer has it (a core NATS subscriber
 * misses what was published before it subscribed; an AMQP emit before any queue is bound is
 * unroutable and fails with exit 1), and the viewer prints the event's line. A subscriber of
 * the test's own receives the same messages, each validated against the schema Herald serves
 * for it (on RabbitMQ its queue is bound only once the viewer's is, so it never makes an emit
 * routable that would not have been).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { connect, type ConsumeMessage } from 'amqplib';
import { connect as natsConnect, type Msg } from 'nats';
import { amqpUrl, natsUrl, runCli, startCli, stopStartedClis, uniqueName, type CliResult, type RunningCli } from '../helpers/env.js';
import { assertPublishedValid } from '../helpers/schemas.js';
import { waitFor } from '../helpers/wait.js';
import { assertAmqpValid } from './upstream-wire-helpers.js';

const exec = promisify(execFile);

const exchanges: string[] = [];
after(async () => {
  stopStartedClis();
  if (exchanges.length > 0) {
    const conn = await connect(amqpUrl());
    const ch = await conn.createChannel();
    for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
    await conn.close();
  }
});

const startView = (args: string[], limitMs?: number) => startCli(['view', ...args], limitMs);

/**
 * Emits (again every 300 ms) until the viewer has exited (it stops after --max 1, or is killed
 * after its own limit); returns every emit's result.
 */
async function emitUntilViewed(viewer: RunningCli, args: string[], timeoutMs = 60_000): Promise<CliResult[]> {
  const results: CliResult[] = [];
  await waitFor('the viewer to print the emitted event and exit', async () => {
    if (!viewer.running()) return true;
    results.push(await runCli(['emit', ...args], { timeoutMs: 30_000 }));
    return !viewer.running();
  }, timeoutMs, 300);
  return results;
}

/** The event ids the successful emits printed (`<id> topic=...`). */
const emittedIds = (emits: readonly CliResult[]): string[] => emits.flatMap((e) => (e.code === 0 ? [...e.stdout.matchAll(/^(\S+) topic=/gm)].map((m) => m[1]!) : []));

/** The queues bound to `exchange`, as RabbitMQ lists them. */
async function queuesBoundTo(exchange: string): Promise<string[]> {
  const { stdout } = await exec('rabbitmqctl', ['-q', 'list_bindings', '--no-table-headers', 'source_name', 'destination_name']);
  return stdout.split('\n').map((line) => line.split('\t')).filter(([source]) => source === exchange).map(([, queue]) => queue!.trim());
}

/**
 * Once the viewer's queue is bound to `exchange`, binds a queue of the test's own (`#`) and
 * collects what it receives: the same messages the viewer gets from then on.
 */
async function captureAfterViewer(exchange: string): Promise<{ messages: ConsumeMessage[]; close: () => Promise<void> }> {
  await waitFor(`the viewer to bind its queue to ${exchange}`, async () => (await queuesBoundTo(exchange)).length > 0, 30_000, 200);
  const conn = await connect(amqpUrl());
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, exchange, '#');
  const messages: ConsumeMessage[] = [];
  await ch.consume(q.queue, (m) => { if (m !== null) messages.push(m); }, { noAck: true });
  return { messages, close: () => conn.close() };
}

// Choria's own String() of a startup (go-choria lifecycle/startup.go): "[startup] <identity>: <component> version <version>".
const STARTUP_LINE = /^\d\d:\d\d:\d\d \[startup\] i1: server version 1\.0\.0$/m;
const CHORIA_FLAGS = ['--profile', 'choria', '--type', 'startup', '--identity', 'i1', '--component', 'server', '--version', '1.0.0'];

test('NATS: herald view --nats prints the choria startup event herald emit --nats published', async () => {
  // Subscribed before the viewer: it gets every message the viewer can.
  const nc = await natsConnect({ servers: natsUrl() });
  const seen: Msg[] = [];
  const sub = nc.subscribe('choria.lifecycle.event.startup.server', { callback: (err, m) => { if (err === null) seen.push(m); } });
  await nc.flush();
  const viewer = startView(['--nats', natsUrl(), '--topic', 'choria.lifecycle.event.>', '--max', '1', '--format', 'pretty']);
  const emits = await emitUntilViewed(viewer, ['--nats', natsUrl(), ...CHORIA_FLAGS]);
  const code = await viewer.exited;
  await nc.flush();
  sub.unsubscribe();
  await nc.close();
  // The subject is shared with other tests: ours are the emitted ids; the one viewed is among them.
  const ids = new Set(emittedIds(emits));
  const ours = seen.filter((m) => ids.has(String((JSON.parse(Buffer.from(m.data).toString('utf8')) as { id?: unknown }).id)));
  assert.ok(ours.length >= 1, `the test's own subscriber got an emitted message (${seen.length} seen)`);
  for (const m of ours) {
    const headers: Record<string, string> = {};
    for (const [k, v] of m.headers ?? []) headers[k] = v.join(', ');
    assert.equal(assertPublishedValid('choria', { transport: 'nats', topic: m.subject, value: Buffer.from(m.data), headers }), 'startup.cloudevent');
  }
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
  // Before any queue is bound (emit declares the exchange): unroutable, exit 1.
  const early = await runCli(['emit', '--amqp', amqpUrl(), '--exchange', exchange, ...CHORIA_FLAGS], { timeoutMs: 30_000 });
  assert.equal(early.code, 1, early.stderr);
  assert.match(early.stderr, /unroutable/);
  const viewer = startView(['--amqp', amqpUrl(), '--exchange', exchange, '--binding', '#', '--max', '1', '--format', 'pretty']);
  const capture = await captureAfterViewer(exchange);
  const emits = await emitUntilViewed(viewer, ['--amqp', amqpUrl(), '--exchange', exchange, ...CHORIA_FLAGS]);
  const code = await viewer.exited;
  await waitFor('the test\'s own queue to get the emitted message', () => capture.messages.length >= 1, 10_000);
  await capture.close();
  assert.deepEqual(capture.messages.map((m) => (JSON.parse(m.content.toString('utf8')) as { id: string }).id), emittedIds(emits), 'the test\'s own queue got what was emitted');
  assertAmqpValid('choria', capture.messages);
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
  const capture = await captureAfterViewer(exchange);
  const emits = await emitUntilViewed(viewer, ['--amqp', amqpUrl(), '--exchange', exchange, '--profile', 'cloudstack', '--type', 'ActionEvent',
    '--data', '{"event":"VM.CREATE","status":"Completed","entity":"com.cloud.vm.VirtualMachine"}', '--entity', `VirtualMachine:${uuid}`]);
  const code = await viewer.exited;
  await waitFor('the test\'s own queue to get the emitted message', () => capture.messages.length >= 1, 10_000);
  await capture.close();
  assert.equal(capture.messages.length, emits.filter((e) => e.code === 0).length, 'the test\'s own queue got what was emitted');
  assertAmqpValid('cloudstack', capture.messages);
  const ok = emits.filter((e) => e.code === 0);
  assert.equal(ok.length, 1, emits.map((e) => e.stderr).join('\n'));
  assert.match(ok[0]!.stdout, new RegExp(`topic=management-server\\.ActionEvent\\.VM-CREATE\\.VirtualMachine\\.${uuid}$`, 'm'));
  assert.equal(code, 0, viewer.stderr());
  assert.match(viewer.stdout(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[ActionEvent\\] VirtualMachine ${uuid}: VM\\.CREATE Completed$`, 'm'));
});
