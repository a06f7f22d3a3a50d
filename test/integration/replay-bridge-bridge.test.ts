/**
 * `herald bridge` from NATS JetStream to Kafka as a real process (the built CLI) across a
 * kill -9 and restart of the NATS server. The test runs its OWN nats-server (JetStream, a
 * temporary store directory; the shared server is never touched) with a stream capturing
 * Choria's lifecycle subjects, publishes plain Choria lifecycle documents, kills the server
 * mid-stream, restarts it on the same port and store, publishes more, and reads the Kafka
 * topic with kcat until every document's id arrived: nothing lost, ids kept.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { CLI, kafkaBrokers, ROOT, runCli, uniqueName } from '../helpers/env.js';
import { freePort, waitFor } from './outbox-helpers.js';
import { runKcat } from '../helpers/kcat.js';
import { OwnNatsServer } from '../helpers/nats-server.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-bridge-'));
const storeDir = join(dir, 'jetstream');
let own: OwnNatsServer | undefined;
const startServer = async (port: number): Promise<void> => {
  own ??= new OwnNatsServer(port, storeDir);
  await own.start();
};
/** kill -9 and wait until it is gone. */
const stopServer = async (): Promise<void> => own?.stop('SIGKILL');
let bridge: ChildProcess | undefined;
const connections: NatsConnection[] = [];

after(async () => {
  if (bridge && bridge.exitCode === null && bridge.signalCode === null) {
    const gone = new Promise((r) => bridge!.once('exit', r));
    bridge.kill('SIGKILL'); // also ends a stopped (SIGSTOP) process
    await gone;
  }
  for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => undefined);
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
});



/** kill -9 (the default) and wait until it is gone. */

async function natsConnect(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, reconnect: false, timeout: 5000 });
  connections.push(nc);
  return nc;
}

const LIFECYCLE = ['startup', 'shutdown', 'alive'] as const;

/** A plain Choria lifecycle document (as Choria publishes it) and its subject. */
function choriaDoc(run: string, i: number): { subject: string; doc: Record<string, unknown> } {
  const type = LIFECYCLE[i % 3]!;
  const component = i % 2 === 0 ? 'server' : 'provisioner';
  const doc: Record<string, unknown> = {
    protocol: `io.choria.lifecycle.v1.${type}`,
    id: `${run}-${String(i).padStart(3, '0')}`,
    identity: `n${i % 10}.example.net`,
    ...(type !== 'shutdown' && { version: '0.29.4' }),
    timestamp: 1_700_000_000 + i,
    component,
  };
  return { subject: `choria.lifecycle.event.${type}.${component}`, doc };
}

async function publishDocs(nc: NatsConnection, run: string, from: number, to: number): Promise<string[]> {
  const js = nc.jetstream();
  const ids: string[] = [];
  for (let i = from; i < to; i++) {
    const { subject, doc } = choriaDoc(run, i);
    const ack = await js.publish(subject, JSON.stringify(doc), { msgID: String(doc.id) });
    assert.equal(ack.duplicate, false);
    ids.push(String(doc.id));
  }
  return ids;
}

interface Rec { id: string; type: string; source: string; key: string }

/** Every record of the topic up to its current end (kcat, an independent client); [] while the topic does not exist. */
async function kcatAll(topic: string): Promise<Rec[]> {
  const r = await runKcat(['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%h\n']);
  if (r.code !== 0) {
    if (/Unknown topic|UNKNOWN_TOPIC/i.test(r.stderr)) return [];
    throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
  }
  const header = (h: string, name: string) => new RegExp(`(?:^|,)${name}=([^,]*)`).exec(h)?.[1] ?? '';
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const [key, headers] = line.split('\t') as [string, string | undefined];
    return { key, id: header(headers ?? '', 'ce_id'), type: header(headers ?? '', 'ce_type'), source: header(headers ?? '', 'ce_source') };
  });
}

test('NATS → Kafka bridge: a kill -9 and restart of the NATS server mid-stream loses nothing and keeps the ids', async () => {
  const run = uniqueName('chb');
  const stream = uniqueName('CHORIA').replace(/-/g, '_');
  const durable = uniqueName('bridge').replace(/-/g, '_');
  const topic = uniqueName('bridge-choria');
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  await startServer(port);

  const nc1 = await natsConnect(url);
  const jsm = await nc1.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: ['choria.lifecycle.event.>'] });

  const config = join(dir, 'bridge.yaml');
  writeFileSync(config, [
    'streaming: true',
    'sinks:',
    '  - name: kafka-main',
    '    type: kafka',
    `    brokers: ["${kafkaBrokers().split(',').join('", "')}"]`,
    '    profile: cloudevents',
    `    topic: ${topic}`,
    '',
  ].join('\n'));
  bridge = spawn(process.execPath, [CLI, 'bridge', '--nats', url, '--stream', stream, '--topic', 'choria.lifecycle.event.>', '--group', durable,
    '--sink', 'kafka-main', '--config', config, '--db', `sqlite:${join(dir, 'bridge.db')}`, '--log-level', 'info'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  bridge.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  bridge.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const bridgeExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => bridge!.once('exit', (code, signal) => r({ code, signal })));
  const alive = () => {
    if (bridge!.exitCode !== null || bridge!.signalCode !== null) throw new Error(`herald bridge exited (${bridge!.exitCode ?? bridge!.signalCode}):\n${log}`);
  };

  // The bridge is consuming once its durable consumer exists (it delivers new messages from then on).
  await waitFor('the bridge to create its durable consumer', async () => {
    alive();
    return jsm.consumers.info(stream, durable).then(() => true, () => false);
  }, 30_000);

  // First part while the bridge runs: all of it reaches Kafka.
  const sent = await publishDocs(nc1, run, 0, 75);
  await waitFor('the first 75 ids on Kafka', async () => {
    alive();
    const have = new Set((await kcatAll(topic)).map((r) => r.id));
    return sent.every((id) => have.has(id));
  }, 60_000);
  // Then the bridge falls behind (SIGSTOP: a real process that is merely slow) while 75 more are
  // stored, and the NATS server is killed with those not yet acknowledged by the bridge.
  bridge.kill('SIGSTOP');
  sent.push(...(await publishDocs(nc1, run, 75, 150)));
  await nc1.close();
  await stopServer();
  await startServer(port);
  bridge.kill('SIGCONT');
  alive();
  const nc2 = await natsConnect(url);
  sent.push(...(await publishDocs(nc2, run, 150, 300)));
  assert.equal(new Set(sent).size, 300);

  let records: Rec[] = [];
  const want = new Set(sent);
  await waitFor('every id on the Kafka topic', async () => {
    alive();
    records = await kcatAll(topic);
    const have = new Set(records.map((r) => r.id));
    return [...want].every((id) => have.has(id));
  }, 90_000).catch((err: unknown) => {
    const have = new Set(records.map((r) => r.id));
    throw new Error(`${String(err)}; missing ${[...want].filter((id) => !have.has(id)).length} ids, e.g. ${[...want].filter((id) => !have.has(id)).slice(0, 5).join(' ')}\n${log}`);
  });

  assert.match(log, /NATS connection lost/, 'the bridge saw the server go away');
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1);
  process.stdout.write(`# ${records.length} records for ${counts.size} ids; duplicates: ${duplicates.length === 0 ? 'none' : duplicates.map(([id, n]) => `${id}×${n}`).join(' ')}\n`);
  assert.deepEqual([...counts.keys()].sort(), [...want].sort(), 'the ids on Kafka are exactly the Choria documents\' ids');
  for (const r of records) {
    const i = Number(r.id.slice(run.length + 1));
    const { doc } = choriaDoc(run, i);
    assert.equal(r.type, doc.protocol, `type of ${r.id}`);
    assert.equal(r.source, 'io.choria.lifecycle', `source of ${r.id}`);
    assert.equal(r.key, doc.identity, `key of ${r.id} is the identity`);
  }

  bridge.kill('SIGTERM');
  const patience = new AbortController();
  const exit = await Promise.race([bridgeExit, sleep(20_000, undefined, { signal: patience.signal }).then(() => ({ code: -1, signal: null }), () => ({ code: -1, signal: null }))]);
  patience.abort();
  assert.deepEqual(exit, { code: 0, signal: null }, `herald bridge after SIGTERM:\n${log}`);
});

test('bridge usage errors exit 2 naming the flag or key, before consuming anything', async () => {
  const config = join(dir, 'usage.json');
  writeFileSync(config, JSON.stringify({ streaming: true, sinks: [{ name: 'kafka-main', type: 'kafka', brokers: kafkaBrokers().split(','), topic: uniqueName('bridge-unused') }, { name: 'spare', type: 'stdout' }] }));
  const db = `sqlite:${join(dir, 'usage.db')}`;
  const base = ['bridge', '--config', config, '--db', db, '--nats', 'nats://127.0.0.1:1', '--topic', 'choria.lifecycle.event.>'];
  const [sink, off, both, noTopic] = await Promise.all([
    runCli([...base, '--sink', 'nope']),
    runCli([...base, '--sink', 'kafka-main'], { env: { HERALD_STREAMING: 'false' } }),
    runCli([...base, '--sink', 'kafka-main', '--brokers', kafkaBrokers()]),
    runCli(['bridge', '--config', config, '--db', db, '--nats', 'nats://127.0.0.1:1', '--sink', 'kafka-main']),
  ]);
  assert.equal(sink.code, 2, sink.stderr);
  assert.match(sink.stderr, /--sink "nope" is not a configured sink; configured: kafka-main, spare/);
  // Streaming off would store and acknowledge every message without ever publishing it.
  assert.equal(off.code, 2, off.stderr);
  assert.match(off.stderr, /HERALD_STREAMING/);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /--brokers/);
  assert.match(both.stderr, /--nats/);
  assert.equal(noTopic.code, 2, noTopic.stderr);
  assert.match(noTopic.stderr, /--topic/);
});
