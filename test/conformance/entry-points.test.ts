/**
 * One event, one journey: the same event handed to every entry point — the REST API (herald
 * serve), the library in direct and in durable mode, `herald emit`, `herald bridge` and
 * `herald replay` —
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
import { createEvent } from '../../src/events/event.js';
import { openStore } from '../../src/store/index.js';
import type { EventInput } from '../../src/events/schema.js';
import { amqpUrl, CLI, kafkaBrokers, natsUrl, ROOT, runCli, uniqueName } from '../helpers/env.js';
import { bindingFor } from '../helpers/sinks.js';
import { waitFor } from '../helpers/wait.js';
import { corpusEvent, corpusState, EVENT_PROBES, leaks, STATE_PROBES } from '../helpers/secret-corpus.js';
import { kcatAll } from '../integration/profiles-e2e-helpers.js';
import { memoryLogger, startTestService } from '../integration/outbox-helpers.js';
import { decodeHeaderValue } from '../../src/transports/webhook/mapping.js';
import { verifyStandardWebhook, WebhookReceiver } from '../helpers/webhook-receiver.js';

const RUN_TIME = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000 + 9).toISOString();

/**
 * The event every entry point gets: the whole secret corpus (test/helpers/secret-corpus.ts,
 * over 100 probes in every string field), with a fixed id and time so the wire bytes can be
 * compared. Recent, so the service's retention (30 days) keeps it.
 */
const eventOf = (run: string) => ({ ...corpusEvent(run), time: RUN_TIME, severity: 'error' as const });
/** What a broker delivered, as an independent client saw it. */
interface Wire {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: string;
}

const noSecret = (what: unknown, where: string) => {
  const all = typeof what === 'string' ? what : JSON.stringify(what);
  assert.deepEqual(leaks(all, EVENT_PROBES), [], `secrets reached ${where} in clear`);
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
  /** Environment `herald emit` needs besides its flags (a webhook's signing secret). */
  emitEnv?: NodeJS.ProcessEnv;
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

/** Headers of one HTTP exchange rather than of the message (they differ per attempt or connection). */
const PER_ATTEMPT = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'webhook-timestamp', 'webhook-signature']);

async function webhookDestination(run: string): Promise<Destination> {
  const secret = `whsec_${Buffer.from(`entry-points-${run}`.padEnd(32, '-').slice(0, 32)).toString('base64')}`;
  const receiver = await new WebhookReceiver().start();
  const path = `/ep/${run}`;
  return {
    sink: { name: 'dest', type: 'webhook', url: receiver.url(path), secret },
    emitFlags: ['--webhook', receiver.url(path)],
    emitEnv: { HERALD_WEBHOOK_SECRET: secret },
    async read() {
      return receiver.requests.map((q) => {
        // Every request is signed as Standard Webhooks (verified by the specification's library).
        verifyStandardWebhook(secret, q);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(q.headers)) if (!PER_ATTEMPT.has(k)) headers[k] = k.startsWith('ce-') ? decodeHeaderValue(v) : v;
        return { topic: q.path, key: null, headers, value: q.body.toString('utf8') };
      });
    },
    close: () => receiver.stop(),
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

const DESTINATIONS: Array<[string, (run: string) => Promise<Destination>]> = [['kafka', kafkaDestination], ['nats', natsDestination], ['amqp', amqpDestination], ['webhook', webhookDestination]];

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

    test('the REST API (herald serve): the broker, the stored row, the live stream and the log', async () => {
      const log = memoryLogger('debug');
      const service = await startTestService({ store: { url: `sqlite:${join(dir, 'api.db')}` }, sinks: [dest.sink] }, { logger: log.logger });
      const ac = new AbortController();
      try {
        const stream = await fetch(`${service.address}/v2/events/stream`, { signal: ac.signal });
        const reader = stream.body!.getReader();
        let sse = '';
        const res = await fetch(`${service.address}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
        assert.equal(res.status, 202);
        await waitFor('the event on the live stream', async () => {
          const { value } = await reader.read();
          sse += Buffer.from(value ?? []).toString('utf8');
          return sse.includes(`id: ${event.id}`);
        }, 30_000, 0);
        noSecret(sse, 'the live stream');
        await arrival('api');
        noSecret(await service.store.get(event.id), 'the stored row');
        noSecret((await (await fetch(`${service.address}/v2/events/${encodeURIComponent(event.id)}`)).text()), 'GET /v2/events/{id}');
      } finally {
        ac.abort();
        await service.close();
      }
      assert.deepEqual(leaks(JSON.stringify(log.lines), EVENT_PROBES), [], 'secrets in the service log');
    });

    test('the library, direct mode', async () => {
      const publisher = createPublisher({ sinks: [dest.sink] });
      try {
        const sent = await publisher.emit(event);
        noSecret(sent, 'what emit() returns');
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
        '--severity', event.severity, '--entity', `${event.entity!.kind}:${event.entity!.id}`, '--subject', event.subject!, '--key', event.partitionkey!,
        '--dataschema', event.dataschema!, '--message', event.message!, '--data', JSON.stringify(event.data)], { ...(dest.emitEnv !== undefined && { env: dest.emitEnv }) });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(leaks(r.stdout + r.stderr, EVENT_PROBES), [], 'secrets in the output of emit');
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
      assert.deepEqual(leaks(bridge.log(), EVENT_PROBES), [], 'secrets in the bridge log');
    });

    test('herald replay of a store written before redaction: redacted on the wire and in the store', async () => {
      // The event as an older Herald (or another writer) could have stored it: in clear.
      const dbUrl = `sqlite:${join(dir, 'replay.db')}`;
      const store = await openStore(dbUrl);
      await store.migrate();
      await store.append([createEvent(event)]);
      await store.close();
      const config = join(dir, 'replay.json');
      writeFileSync(config, JSON.stringify({ sinks: [dest.sink] }));
      const r = await runCli(['replay', '--config', config, '--db', dbUrl, '--sink', 'dest', '--timeout', '60s']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(leaks(r.stdout + r.stderr, EVENT_PROBES), [], 'secrets in the output of replay');
      await arrival('replay');
      const after = await openStore(dbUrl);
      try {
        noSecret(await after.get(event.id), 'the stored row after replay');
      } finally {
        await after.close();
      }
    });

    test('every entry point published the same topic, key, headers and bytes', () => {
      const names = Object.keys(seen);
      assert.deepEqual(names.sort(), ['api', 'bridge', 'direct', 'durable', 'emit', 'replay']);
      for (const name of names) assert.deepEqual(seen[name], seen.api, `${name} vs the API`);
    });

    test('an entity-state PUT: the response, the registry, the notifications on the broker, the log', async () => {
      const log = memoryLogger('debug');
      const service = await startTestService({ store: { url: `sqlite:${join(dir, 'state.db')}` }, sinks: [dest.sink] }, { logger: log.logger });
      try {
        const before = (await dest.read()).length;
        const res = await fetch(`${service.address}/v2/entities/${corpusState.kind}/${encodeURIComponent(corpusState.id)}/state`, {
          method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: corpusState.state, attributes: corpusState.attributes }),
        });
        const body = await res.text();
        assert.equal(res.status, 200, body);
        assert.deepEqual(leaks(body, STATE_PROBES), [], 'secrets in the PUT response');
        const entities = await service.store.listEntities({ kind: corpusState.kind });
        assert.equal(entities.length, 1);
        assert.deepEqual(leaks(JSON.stringify(entities), STATE_PROBES), [], 'secrets in the registry');
        let wires: Wire[] = [];
        await waitFor(`the state notifications on ${destType}`, async () => (wires = (await dest.read()).slice(before)).length >= 1, 60_000, 200);
        assert.deepEqual(leaks(JSON.stringify(wires), STATE_PROBES), [], `secrets on ${destType}`);
        assert.match(JSON.stringify(wires), /\[REDACTED\]/);
      } finally {
        await service.close();
      }
      assert.deepEqual(leaks(JSON.stringify(log.lines), STATE_PROBES), [], 'secrets in the service log');
    });
  });
}
