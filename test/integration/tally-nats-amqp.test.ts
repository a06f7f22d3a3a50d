/**
 * `herald tally --nats` and `herald tally --amqp` (the built CLI) against the real NATS
 * (JetStream) and RabbitMQ servers: a small Choria fleet published through Herald's own sinks,
 * plus undecodable messages, gives exact values under the Choria tally command's names
 * (choria-io/tally main.go @ 86ce5bcd: prefix choria_tally, --component; go-choria
 * lifecycle/tally/stats.go and tally.go @ 58e80bab: labels ending in active="1", errors under
 * the subject's last token, "transition" and "exec_watcher").
 * - NATS: the fleet is in a JetStream stream of the test's own; tally reads it with
 *   `--stream --from-beginning`.
 * - RabbitMQ: a queue sees only what is published after it is bound, so tally starts first and
 *   a probe event of another component is emitted until the exchange routes it (an unroutable
 *   publish is refused), then the fleet follows. The exchange is the test's own, so transition
 *   and exec watcher counts (and their errors) are exact there.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as amqpConnect } from 'amqplib';
import { connect as natsConnect } from 'nats';
import { CLI, amqpUrl, natsUrl, uniqueName } from '../helpers/env.js';
import { metricValue, parseMetrics } from '../helpers/prom.js';
import { freePort } from './outbox-helpers.js';
import { waitFor, waitForValue } from '../helpers/wait.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { lifecycle, machine } from '../../src/profiles/choria/lifecycle.js';
import { silentLogger } from '../../src/log.js';
import type { HeraldEvent } from '../../src/events/index.js';
import type { SinkConfig } from '../../src/config/schema.js';

const A = { active: '1' };
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
    const seen = last === undefined ? 'no scrape' : [...last.keys()].filter((k) => k.startsWith('choria_tally')).join(', ');
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

function assertFleet(m: Scrape, component: string, f: ReturnType<typeof fleet>, garbage: number, others = 0): void {
  assert.equal(metricValue(m, 'choria_tally_good_events', { component, ...A }), f.total + others);
  for (const type of ['startup', 'alive', 'shutdown'] as const) {
    assert.equal(metricValue(m, 'choria_tally_event_types', { component, type, ...A }), f.counts[type], `event_types{${type}}`);
  }
  for (const [version, n] of f.versions) {
    assert.equal(metricValue(m, 'choria_tally_versions', { component, version, ...A }), n, `versions{${version}}`);
  }
  // Errors on a lifecycle subject count under its last token (componentFromSubject).
  assert.equal(metricValue(m, 'choria_tally_process_errors', { component, ...A }), garbage);
}

/** An exec watcher state as Choria publishes it (aagent/watchers/execwatcher/exec_test.go "CurrentState"). */
const execState = (machine: string, outcome: string, ns: number) => Buffer.from(JSON.stringify({
  specversion: '1.0', id: randomUUID(), source: 'io.choria.machine', type: 'io.choria.machine.watcher.exec.v1.state', subject: 'ginkgo', datacontenttype: 'application/json', time: '2020-12-02T16:02:33Z',
  data: { protocol: 'io.choria.machine.watcher.exec.v1.state', identity: 'ginkgo', id: '1234567890', version: '1.0.0', timestamp: 1606924953, type: 'exec', machine, name: 'check', command: '/bin/sh', previous_outcome: outcome, previous_run_time: ns },
}));

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
  const tally = startTally(['--nats', natsUrl(), '--topic', subject, '--stream', stream, '--from-beginning', '--no-group', '--component', component, '--port', String(port)]);
  const m = await scrapeUntil(port, 'the fleet tallied', (s) => metricValue(s, 'choria_tally_good_events', { component, ...A }) === f.total
    && metricValue(s, 'choria_tally_process_errors', { component, ...A }) === garbage, tally.stderr);
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
  // Choria's subscriptions for every component (`*` is one word in a topic binding, as in a
  // NATS subject), plus fleet.# for the other profiles' events below.
  const bindings = ['choria.lifecycle.event.*.*', 'choria.machine.transition', 'choria.machine.watcher.exec.state', 'fleet.#'].flatMap((b) => ['--binding', b]);
  const tally = startTally(['--amqp', amqpUrl(), '--exchange', exchange, ...bindings, '--component', '*', '--port', String(port)]);
  // Plain lifecycle documents (Choria's legacy_lifecycle_format); transitions stay CloudEvents.
  const sink = { name: 'amqp', type: 'amqp', url: amqpUrl(), exchange, profile: 'choria', profileOptions: { format: 'plain' } } as SinkConfig;
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
  await scrapeUntil(port, 'the probe tallied', (s) => metricValue(s, 'choria_tally_good_events', { component: probe, ...A }) === 1, tally.stderr);

  const f = fleet(component, 30);
  await publisher.emitMany(f.events);
  await publisher.emit(machine.transition({ identity: 'node1.example.net', machine: component, version: '1.0.0', transition: 'start', fromState: 'stopped', toState: 'running' }));
  // Governor events (go-choria lifecycle/governor.go types; tally.go processGovernor).
  await publisher.emitMany(['enter', 'exit', 'timeouts'].map((eventType) =>
    lifecycle.governor({ identity: 'node2.example.net', component, governor: 'PUPPET', sequence: eventType === 'timeouts' ? 0 : 4, eventType: eventType as 'enter' })));
  const governors = 3;
  const conn = await amqpConnect(amqpUrl());
  const ch = await conn.createConfirmChannel();
  const raw = (key: string, body: Buffer | string) => ch.publish(exchange, key, Buffer.isBuffer(body) ? body : Buffer.from(body), { mandatory: true });
  // Errors as Choria's tally has them: garbage and the legacy spelling (NewFromJSON knows only
  // io.choria.lifecycle*) on a lifecycle subject, a plain transition document (not a CloudEvent).
  raw(`choria.lifecycle.event.startup.${component}`, 'not json at all');
  raw(`choria.lifecycle.event.startup.${component}`, 'not json either');
  raw(`choria.lifecycle.event.startup.${component}`, JSON.stringify({ protocol: 'choria:lifecycle:startup:1', identity: 'old.example.net', component, version: '0.1', timestamp: 1 }));
  const garbage = 3;
  raw('choria.machine.transition', JSON.stringify({ protocol: 'io.choria.machine.v1.transition', identity: 'n', id: 'i', version: '1.0.0', timestamp: 1, machine: component, transition: 'stop', from_state: 'running', to_state: 'stopped' }));
  raw('choria.machine.watcher.exec.state', execState(component, 'success', 250_000_000));
  raw('choria.machine.watcher.exec.state', execState(component, 'error', 750_000_000));
  raw('choria.machine.watcher.exec.state', execState(component, 'skipped', 0));
  await ch.waitForConfirms();
  await conn.close();

  const exec = { machine: component, version: '1.0.0', watcher: 'check', ...A };
  const m = await scrapeUntil(port, 'the fleet tallied', (s) => metricValue(s, 'choria_tally_good_events', { component, ...A }) === f.total + governors
    && metricValue(s, 'choria_tally_process_errors', { component, ...A }) === garbage
    && metricValue(s, 'choria_tally_process_errors', { component: 'transition', ...A }) === 1
    && metricValue(s, 'choria_tally_exec_watcher_failures', exec) === 1, tally.stderr);
  assertFleet(m, component, f, garbage, governors);
  for (const event of ['enter', 'exit', 'timeouts']) {
    assert.equal(metricValue(m, 'choria_tally_governor', { component, governor: 'PUPPET', event, ...A }), 1, `governor{${event}}`);
  }
  assert.equal(metricValue(m, 'choria_tally_event_types', { component, type: 'governor', ...A }), governors);
  assert.equal(metricValue(m, 'choria_tally_good_events', { component: probe, ...A }), 1, 'the probe is counted once, under its own component');
  assert.equal(metricValue(m, 'choria_tally_machine_transition', { machine: component, version: '1.0.0', transition: 'start', from: 'stopped', to: 'running', ...A }), 1, 'the CloudEvent transition counts');
  assert.equal(metricValue(m, 'choria_tally_machine_transition', { machine: component, version: '1.0.0', transition: 'stop', from: 'running', to: 'stopped', ...A }), undefined, 'the plain one does not');
  assert.equal(metricValue(m, 'choria_tally_exec_watcher_success', exec), 1);
  assert.equal(metricValue(m, 'choria_tally_exec_watcher_runtime', exec), 2, 'skipped is not counted');
  assert.equal(metricValue(m, 'choria_tally_process_errors', { component: 'exec_watcher', ...A }), undefined);

  // A binary-mode CloudEvent over AMQP (attributes as cloudEvents_* properties) is counted as
  // the CloudEvent it is, by its own type, not as unknown JSON.
  const ce = createPublisher({ sinks: [{ name: 'ce', type: 'amqp', url: amqpUrl(), exchange, topic: `fleet.checks.${component}` }], logger: silentLogger });
  cleanups.push(() => ce.close());
  const type = `com.example.${component}.checked`;
  await ce.emitMany([{ source: 'example/tally', type, severity: 'warning' }, { source: 'example/tally', type, severity: 'warning', data: { n: 1 } }]);
  await scrapeUntil(port, 'the CloudEvents counted by type', (s) => metricValue(s, 'choria_tally_events', { profile: 'cloudevents', type, severity: 'warning', ...A }) === 2, tally.stderr);
});
