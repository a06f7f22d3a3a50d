/**
 * One event, one journey: the same event handed to every entry point — the REST API (herald
 * serve), the library in direct and in durable mode, `herald emit` and `herald bridge` —
 * reaches each broker with the same topic, key, headers and bytes, and with its secrets
 * redacted, whichever way it came in. Read back with clients independent of Herald: kcat for
 * Kafka, the nats client for NATS, amqplib for RabbitMQ. Needs the real Kafka, NATS and
 * RabbitMQ of `npm test`, and the built CLI (npm test builds it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as amqpConnect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { connect as natsConnect, StringCodec, type NatsConnection, type Msg } from 'nats';
import type { SinkConfig } from '../../src/config/sinks.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import type { EventInput } from '../../src/events/schema.js';
import { amqpUrl, CLI, kafkaBrokers, natsUrl, ROOT, runCli, uniqueName } from '../helpers/env.js';
import { bindingFor } from '../helpers/sinks.js';
import { waitFor } from '../helpers/wait.js';
import { kcatAll } from '../integration/profiles-e2e-helpers.js';
import { startTestService } from '../integration/outbox-helpers.js';

const SECRET = 'hunter2-SECRET';
const RUN_TIME = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000 + 9).toISOString();
const URL_SECRET = 'pw-SECRET';

/** The event every entry point gets, with a fixed id and time so the wire bytes can be compared. */
const eventOf = (run: string): Required<Pick<EventInput, 'id' | 'source' | 'type' | 'time' | 'severity' | 'entity' | 'message' | 'data'>> => ({
  id: `${run}-e1`,
  source: 'https://example.com/installer',
  type: 'com.example.host.validation.failed',
  // Recent, so the service's retention (30 days) keeps it; fixed for the run, so the bytes match.
  time: RUN_TIME,
  severity: 'error',
  entity: { kind: 'host', id: `h-${run}` },
  message: `disk too small on postgres://app:${URL_SECRET}@db:5432/inventory`,
  data: { disk_gb: 20, password: SECRET, bmc: { user: 'admin', pass_word: SECRET }, dsn: `postgres://app:${URL_SECRET}@db:5432/inventory` },
});

/** What a broker delivered, as an independent client saw it. */
interface Wire {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: string;
}

const noSecret = (w: Wire, where: string) => {
  const all = JSON.stringify(w);
  assert.ok(!all.includes(SECRET) && !all.includes(URL_SECRET), `a secret reached ${where} in clear: ${all}`);
  assert.match(all, /\[REDACTED\]/, `${where} carries the redaction mark`);
};

/** Runs a herald command in the background (bridge); stopped with SIGTERM. */
function background(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: () => string; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HERALD_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A destination transport: its sink config, how `herald emit` reaches it, and an independent reader. */
interface Destination {
  sink: SinkConfig;
  emitFlags: string[];
  /** Everything delivered since the reader started, in arrival order. */
  read(): Promise<Wire[]>;
  close(): Promise<void>;
}

async function kafkaDestination(run: string): Promise<Destination> {
  const topic = `ep-${run}`;
  return {
    sink: { name: 'dest', type: 'kafka', brokers: kafkaBrokers().split(','), topic },
    emitFlags: ['--brokers', kafkaBrokers(), '--topic', topic],
    async read() {
      // The first publish creates the topic (auto.create.topics.enable); before it there is nothing to read.
      const records = await kcatAll(topic).catch((err: Error) => {
        if (/Unknown topic or partition/.test(err.message)) return [];
        throw err;
      });
      return records.map((r) => ({ topic, key: r.key === '' ? null : r.key, headers: Object.fromEntries(r.headers.split(',').filter(Boolean).map((h) => h.split('=', 2) as [string, string])), value: r.value }));
    },
    close: async () => undefined,
  };
}

async function natsDestination(run: string): Promise<Destination> {
  const subject = `ep.${run}`;
  const nc: NatsConnection = await natsConnect({ servers: natsUrl() });
  const got: Wire[] = [];
  const sc = StringCodec();
  nc.subscribe(subject, {
    callback: (_err, m: Msg) => {
      const headers: Record<string, string> = {};
      for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
      got.push({ topic: m.subject, key: null, headers, value: sc.decode(m.data) });
    },
  });
  await nc.flush();
  return {
    sink: { name: 'dest', type: 'nats', url: natsUrl(), jetstream: false, topic: subject },
    emitFlags: ['--nats', natsUrl(), '--topic', subject],
    read: async () => [...got],
    close: () => nc.close(),
  };
}

async function amqpDestination(run: string): Promise<Destination> {
  const exchange = `ep-${run}`;
  const routingKey = `ep.${run}`;
  const conn: ChannelModel = await amqpConnect(amqpUrl());
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, exchange, '#');
  const got: Wire[] = [];
  await ch.consume(q.queue, (m: ConsumeMessage | null) => {
    if (m === null) return;
    const p = m.properties;
    // Everything a consumer sees except the publish timestamp, which is the relay's clock.
    const headers: Record<string, string> = { 'content-type': String(p.contentType ?? ''), 'message-id': String(p.messageId ?? ''), 'delivery-mode': String(p.deliveryMode ?? '') };
    for (const [k, v] of Object.entries(p.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    got.push({ topic: m.fields.routingKey, key: null, headers, value: m.content.toString('utf8') });
  }, { noAck: true });
  return {
    sink: { name: 'dest', type: 'amqp', url: amqpUrl(), exchange, topic: routingKey },
    emitFlags: ['--amqp', amqpUrl(), '--exchange', exchange, '--topic', routingKey],
    read: async () => [...got],
    close: () => conn.close(),
  };
}

/**
 * How each destination's bridge is fed: from another transport, with the event as that
 * transport's Herald sink writes it (binary CloudEvents on Kafka and AMQP, structured on NATS).
 */
async function feedBridge(destType: string, run: string, event: EventInput, dir: string, config: string): Promise<{ stop: () => Promise<void>; log: () => string }> {
  if (destType === 'kafka') {
    // From RabbitMQ: a durable named queue, declared first, holds the message for the bridge.
    const exchange = `ep-in-${run}`;
    const queue = `ep-in-${run}`;
    const conn = await amqpConnect(amqpUrl());
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, exchange, '#');
    await conn.close();
    await publishWithHerald({ name: 'in', type: 'amqp', url: amqpUrl(), exchange, topic: 'in.events' }, event);
    return background(['bridge', '--config', config, '--sink', 'dest', '--amqp', amqpUrl(), '--exchange', exchange, '--binding', '#', '--group', queue]);
  }
  if (destType === 'nats') {
    // From Kafka, read from the beginning by a group of its own.
    const topic = `ep-in-${run}`;
    await publishWithHerald({ name: 'in', type: 'kafka', brokers: kafkaBrokers().split(','), topic }, event);
    return background(['bridge', '--config', config, '--sink', 'dest', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--group', `ep-${run}`]);
  }
  // From a JetStream stream of its own.
  const subject = `ep-in.${run}`;
  const stream = `EPIN_${run.replace(/[^A-Za-z0-9]/g, '_')}`;
  await publishWithHerald({ name: 'in', type: 'nats', url: natsUrl(), createStream: true, stream, subjects: [subject], topic: subject }, event);
  void dir;
  return background(['bridge', '--config', config, '--sink', 'dest', '--nats', natsUrl(), '--stream', stream, '--topic', subject, '--from-beginning', '--group', `ep_${run.replace(/[^A-Za-z0-9]/g, '_')}`]);
}

/** Publishes an event as it was given (no ingest: the bridge's input may well hold secrets). */
async function publishWithHerald(config: SinkConfig, event: EventInput): Promise<void> {
  const { createEvent } = await import('../../src/events/event.js');
  const binding = bindingFor(config);
  const sink = await binding.createSink({ logger: (await import('../../src/log.js')).silentLogger });
  try {
    const outcomes = await sink.publish(binding.encode(createEvent(event)));
    assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes));
  } finally {
    await sink.close();
  }
}

const DESTINATIONS: Array<[string, (run: string) => Promise<Destination>]> = [['kafka', kafkaDestination], ['nats', natsDestination], ['amqp', amqpDestination]];

for (const [destType, open] of DESTINATIONS) {
  describe(`every entry point to ${destType}`, () => {
    const run = uniqueName('ep').replace(/^ep-/, '').replace(/-/g, '');
    const event = eventOf(run);
    let dest: Destination;
    let dir: string;
    const seen: Record<string, Wire> = {};
    /** Waits for the entry point's one message (each entry point publishes the same event once). */
    const arrival = async (name: string) => {
      const before = Object.keys(seen).length;
      let wires: Wire[] = [];
      await waitFor(`the event from ${name} on ${destType}`, async () => (wires = await dest.read()).length > before, 60_000, 200);
      assert.equal(wires.length, before + 1, `exactly one message from ${name}`);
      seen[name] = wires[before]!;
      noSecret(seen[name]!, `${destType} from ${name}`);
    };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'herald-ep-'));
      dest = await open(run);
    });
    after(async () => {
      await dest?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the REST API (herald serve)', async () => {
      const service = await startTestService({ store: { url: `sqlite:${join(dir, 'api.db')}` }, sinks: [dest.sink] });
      try {
        const res = await fetch(`${service.address}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
        assert.equal(res.status, 202);
        await arrival('api');
        assert.equal(JSON.stringify(await service.store.get(event.id)).includes(SECRET), false, 'stored redacted');
      } finally {
        await service.close();
      }
    });

    test('the library, direct mode', async () => {
      const publisher = createPublisher({ sinks: [dest.sink] });
      try {
        const sent = await publisher.emit(event);
        assert.equal(JSON.stringify(sent).includes(SECRET), false, 'emit() returns the event as published');
        await arrival('direct');
      } finally {
        await publisher.close();
      }
    });

    test('the library, durable mode', async () => {
      const publisher = createPublisher({ sinks: [dest.sink], durable: { store: `sqlite:${join(dir, 'durable.db')}` } });
      try {
        await publisher.emit(event);
        await arrival('durable');
      } finally {
        await publisher.close();
      }
    });

    test('herald emit', async () => {
      const r = await runCli(['emit', ...dest.emitFlags, '--id', event.id, '--source', event.source, '--type', event.type, '--time', event.time,
        '--severity', event.severity, '--entity', `${event.entity.kind}:${event.entity.id}`, '--message', event.message, '--data', JSON.stringify(event.data)]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
      await arrival('emit');
    });

    test('herald bridge', async () => {
      const config = join(dir, 'bridge.json');
      writeFileSync(config, JSON.stringify({ store: { url: `sqlite:${join(dir, 'bridge.db')}` }, sinks: [dest.sink] }));
      const bridge = await feedBridge(destType, run, event, dir, config);
      try {
        await arrival('bridge');
      } catch (err) {
        throw new Error(`${(err as Error).message}\nbridge log:\n${bridge.log()}`);
      } finally {
        await bridge.stop();
      }
      assert.ok(!bridge.log().includes(SECRET), 'the bridge logs no secret');
    });

    test('every entry point published the same topic, key, headers and bytes', () => {
      const names = Object.keys(seen);
      assert.deepEqual(names.sort(), ['api', 'bridge', 'direct', 'durable', 'emit']);
      for (const name of names) assert.deepEqual(seen[name], seen.api, `${name} vs the API`);
    });
  });
}
