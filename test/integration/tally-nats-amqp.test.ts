/**
 * `herald tally --nats` and `herald tally --amqp` (the built CLI) against the real NATS
 * (JetStream) and RabbitMQ servers: a small Choria fleet published through Herald's own sinks,
 * plus undecodable messages, gives exact metric values on /metrics.
 * - NATS: the fleet is in a JetStream stream of the test's own; tally reads it with
 *   `--stream --from-beginning`.
 * - RabbitMQ: a queue sees only what is published after it is bound, so tally starts first and
 *   a probe event of another component is emitted until the exchange routes it (an unroutable
 *   publish is refused), then the fleet follows.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as amqpConnect } from 'amqplib';
import { connect as natsConnect } from 'nats';
import { CLI, amqpUrl, natsUrl, uniqueName } from '../helpers/env.js';
import { metricValue, parseMetrics } from '../helpers/prom.js';
import { freePort } from './outbox-helpers.js';
import { waitFor, waitForValue } from '../helpers/wait.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { lifecycle } from '../../src/profiles/choria/lifecycle.js';
import { silentLogger } from '../../src/log.js';
import type { HeraldEvent } from '../../src/events/index.js';
import type { SinkConfig } from '../../src/config/schema.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function startTally(args: string[]): { stderr: () => string } {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'tally', '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { stderr: () => stderr };
}

type Scrape = ReturnType<typeof parseMetrics>;
async function scrape(port: number): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.ok ? parseMetrics(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/** Scrapes until `ok` accepts (hang guard only: the test passes as soon as the values are there). */
async function scrapeUntil(port: number, what: string, ok: (s: Scrape) => boolean, stderr: () => string, timeoutMs = 60_000): Promise<Scrape> {
  let last: Scrape | undefined;
  try {
    return await waitForValue(what, async () => {
      last = await scrape(port);
      return last !== undefined && ok(last) ? last : undefined;
    }, timeoutMs, 250);
  } catch (err) {
    const seen = last === undefined ? 'no scrape' : [...last.keys()].filter((k) => k.startsWith('lifecycle_tally')).join(', ');
    throw new Error(`${(err as Error).message} (families: ${seen}); tally stderr: ${stderr()}`);
  }
}

/** A fleet of `nodes` nodes of `component`: startups, some alives, some shutdowns, in that order per node. */
function fleet(component: string, nodes: number) {
  const events: HeraldEvent[] = [];
  const running = new Map<string, string>();
  const counts = { startup: 0, alive: 0, shutdown: 0 };
  for (let i = 0; i < nodes; i++) {
    const identity = `node${i}.example.net`;
    const version = ['1.0.0', '1.1.0', '2.0.0'][i % 3]!;
    events.push(lifecycle.startup({ identity, component, version }));
    counts.startup++;
    running.set(identity, version);
    if (i % 3 === 0) {
      events.push(lifecycle.alive({ identity, component, version }));
      counts.alive++;
    }
  }
  for (let i = 1; i < nodes; i += 5) {
    const identity = `node${i}.example.net`;
    events.push(lifecycle.shutdown({ identity, component }));
    counts.shutdown++;
    running.delete(identity);
  }
  const versions = new Map<string, number>();
  for (const v of running.values()) versions.set(v, (versions.get(v) ?? 0) + 1);
  return { events, counts, versions, total: counts.startup + counts.alive + counts.shutdown };
}

function assertFleet(m: Scrape, component: string, f: ReturnType<typeof fleet>, garbage: number): void {
  assert.equal(metricValue(m, 'lifecycle_tally_good_events', { component }), f.total);
  for (const type of ['startup', 'alive', 'shutdown'] as const) {
    assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component, type }), f.counts[type], `event_types{${type}}`);
  }
  for (const [version, n] of f.versions) {
    assert.equal(metricValue(m, 'lifecycle_tally_versions', { component, version }), n, `versions{${version}}`);
  }
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: '' }), garbage);
}

test('tally --nats --stream --from-beginning counts a fleet published to JetStream through the choria profile', async () => {
  const component = uniqueName('natsfleet').replace(/-/g, '_');
  const stream = component.toUpperCase();
  const subject = `choria.lifecycle.event.*.${component}`;
  const f = fleet(component, 30);
  const sink = { name: 'nats', type: 'nats', url: natsUrl(), profile: 'choria', createStream: true, stream, subjects: [subject] } as SinkConfig;
  const publisher = createPublisher({ sinks: [sink], logger: silentLogger });
  await publisher.emitMany(f.events);
  await publisher.close();
  // Undecodable messages on one of the fleet's subjects, acknowledged by the stream.
  const nc = await natsConnect({ servers: natsUrl() });
  cleanups.push(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });
  const js = nc.jetstream();
  const garbage = 3;
  for (let i = 0; i < garbage; i++) await js.publish(`choria.lifecycle.event.startup.${component}`, Buffer.from(`{"not": "a lifecycle event" ${i}`));
  const info = await (await nc.jetstreamManager()).streams.info(stream);
  assert.equal(info.state.messages, f.total + garbage, 'the stream holds the fleet and the garbage');

  const port = await freePort();
  const tally = startTally(['--nats', natsUrl(), '--topic', subject, '--stream', stream, '--from-beginning', '--no-group', '--port', String(port)]);
  const m = await scrapeUntil(port, 'the fleet tallied', (s) => metricValue(s, 'lifecycle_tally_good_events', { component }) === f.total
    && metricValue(s, 'lifecycle_tally_process_errors', { component: '' }) === garbage, tally.stderr);
  assertFleet(m, component, f, garbage);
});

test('tally --amqp counts a fleet published to a RabbitMQ topic exchange after its queue is bound', async () => {
  const component = uniqueName('amqpfleet').replace(/-/g, '_');
  const probe = `${component}_probe`;
  const exchange = uniqueName('herald-tally');
  cleanups.push(async () => {
    const conn = await amqpConnect(amqpUrl());
    const ch = await conn.createChannel();
    await ch.deleteExchange(exchange);
    await conn.close();
  });
  const port = await freePort();
  const tally = startTally(['--amqp', amqpUrl(), '--exchange', exchange, '--port', String(port)]);
  const sink = { name: 'amqp', type: 'amqp', url: amqpUrl(), exchange, profile: 'choria' } as SinkConfig;
  const publisher = createPublisher({ sinks: [sink], logger: silentLogger });
  cleanups.push(() => publisher.close());
  // Until tally's queue is bound, the exchange routes nowhere and the publish is refused.
  let probes = 0;
  await waitFor('the exchange to route the probe', async () => {
    try {
      await publisher.emit(lifecycle.startup({ identity: 'probe.example.net', component: probe, version: '0.0.1' }));
      probes++;
      return true;
    } catch (err) {
      assert.match((err as Error).message, /unroutable|exchange|NOT_FOUND/i);
      return false;
    }
  }, 30_000, 200).catch((err: unknown) => {
    if (err instanceof assert.AssertionError) throw err; // a timeout leaves probes at 0 for the assertion below
  });
  assert.equal(probes, 1, `the probe was never routed; tally stderr: ${tally.stderr()}`);
  await scrapeUntil(port, 'the probe tallied', (s) => metricValue(s, 'lifecycle_tally_good_events', { component: probe }) === 1, tally.stderr);

  const f = fleet(component, 30);
  await publisher.emitMany(f.events);
  const garbage = 2;
  const conn = await amqpConnect(amqpUrl());
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < garbage; i++) ch.publish(exchange, `choria.lifecycle.event.startup.${component}`, Buffer.from('not json at all'), { mandatory: true });
  await ch.waitForConfirms();
  await conn.close();

  const m = await scrapeUntil(port, 'the fleet tallied', (s) => metricValue(s, 'lifecycle_tally_good_events', { component }) === f.total
    && metricValue(s, 'lifecycle_tally_process_errors', { component: '' }) === garbage, tally.stderr);
  assertFleet(m, component, f, garbage);
  assert.equal(metricValue(m, 'lifecycle_tally_good_events', { component: probe }), 1, 'the probe is counted once, under its own component');

  // A binary-mode CloudEvent over AMQP (attributes as cloudEvents_* properties) is counted as
  // the CloudEvent it is, by its own type, not as unknown JSON.
  const ce = createPublisher({ sinks: [{ name: 'ce', type: 'amqp', url: amqpUrl(), exchange, topic: `choria.lifecycle.event.other.${component}` }], logger: silentLogger });
  cleanups.push(() => ce.close());
  const type = `com.example.${component}.checked`;
  await ce.emitMany([{ source: 'example/tally', type, severity: 'warning' }, { source: 'example/tally', type, severity: 'warning', data: { n: 1 } }]);
  await scrapeUntil(port, 'the CloudEvents counted by type', (s) => metricValue(s, 'lifecycle_tally_events', { profile: 'cloudevents', type, severity: 'warning' }) === 2, tally.stderr);
});
