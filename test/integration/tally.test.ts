/**
 * `herald tally` against the real broker (HERALD_TEST_KAFKA): a simulated fleet published in
 * both Choria forms, plus undecodable messages, gives exact values under the Choria tally
 * command's metric names (choria-io/tally main.go @ 86ce5bcd: prefix choria_tally; metrics and
 * labels of go-choria lifecycle/tally/stats.go @ 58e80bab, each with active="1"); machine
 * transitions and exec watcher states count on their shared subjects; expiry drops silent
 * nodes into nodes_expired; two instances in one consumer group count each event once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { CLI, kafkaBrokers, uniqueName } from '../helpers/env.js';
import { metricValue, parseMetrics } from '../helpers/prom.js';
import { freePort } from '../helpers/net.js';
import { waitFor, waitForValue } from '../helpers/wait.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { sinkFor } from '../helpers/sinks.js';
import { ensureTopics } from '../../src/transports/kafka/topics.js';
import { lifecycle, machine } from '../../src/profiles/choria/lifecycle.js';
import { silentLogger } from '../../src/log.js';
import type { HeraldEvent } from '../../src/events/index.js';

const children: ChildProcess[] = [];
function startTally(args: string[], level = 'warn'): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [CLI, 'tally', '--brokers', kafkaBrokers(), '--log-level', level, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => stderr;
  children.push(child);
  return child as ChildProcess & { stderrText: () => string };
}

async function scrape(port: number): Promise<ReturnType<typeof parseMetrics> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.ok ? parseMetrics(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

// One fleet, published once; every test tallies it from the beginning. Its component is
// unique to the run: `--component` selects its lifecycle topics (the default subscription,
// choria.lifecycle.event.*.<component>) besides the shared transition and exec watcher topics.
const component = uniqueName('comp').replace(/-/g, '_');
const expected = { startups: 0, alives: 0, shutdowns: 0, versions: new Map<string, number>(), garbage: 5, transitions: 0 };
const A = { active: '1' };
const EXEC_TOPIC = 'choria.machine.watcher.exec.state';

// Shutdowns are sent only after the startups were counted: each lifecycle type has a topic
// of its own (Choria's layout), so across topics Kafka gives no order.
const shutdowns: HeraldEvent[] = [];
const running = new Map<string, string>();

before(async () => {
  const brokers = kafkaBrokers().split(',');
  // The topic pattern (default or --pattern) is resolved when tally starts: the topics must exist by then.
  await ensureTopics(brokers, [...['startup', 'alive', 'shutdown'].map((t) => `choria.lifecycle.event.${t}.${component}`), 'choria.machine.transition', EXEC_TOPIC].map((topic) => ({ topic })), { create: true });
  const cloudevents = createPublisher({ sinks: [{ name: 'ce', type: 'kafka', brokers, profile: 'choria' }], logger: silentLogger });
  const plain = createPublisher({ sinks: [{ name: 'plain', type: 'kafka', brokers, profile: 'choria', profileOptions: { format: 'plain' } }], logger: silentLogger });
  const versions = ['1.0.0', '1.1.0', '2.0.0'];
  const events: Array<[boolean, HeraldEvent]> = [];
  for (let i = 0; i < 240; i++) {
    const identity = `node${i}.example.net`;
    const version = versions[i % 3]!;
    events.push([i % 2 === 0, lifecycle.startup({ identity, component, version })]);
    running.set(identity, version);
    expected.startups++;
    if (i % 4 === 0) {
      events.push([i % 3 === 0, lifecycle.alive({ identity, component, version })]);
      expected.alives++;
    }
    if (i % 8 === 1) {
      shutdowns.push(lifecycle.shutdown({ identity, component }));
      expected.shutdowns++;
    }
  }
  for (const [useCloudEvents, e] of events) await (useCloudEvents ? cloudevents : plain).emit(e);
  // Machine transitions go to one shared topic: a unique machine name finds ours. Sent through
  // the plain sink: transitions stay CloudEvents there (Choria's tally counts nothing else).
  await plain.emit(machine.transition({ identity: 'node1.example.net', machine: component, version: '1.0.0', transition: 'start', fromState: 'stopped', toState: 'running' }));
  expected.transitions = 1;
  await cloudevents.close();
  await plain.close();
  // Undecodable messages on one of the fleet's topics, and exec watcher states as Choria
  // publishes them (aagent/watchers/execwatcher/exec_test.go "CurrentState", a machine of ours).
  const raw = await sinkFor({ name: 'raw', type: 'kafka', brokers });
  const execState = (outcome: string, ns: number) => Buffer.from(JSON.stringify({
    specversion: '1.0', id: randomUUID(), source: 'io.choria.machine', type: 'io.choria.machine.watcher.exec.v1.state', subject: 'ginkgo', datacontenttype: 'application/json', time: '2020-12-02T16:02:33Z',
    data: { protocol: 'io.choria.machine.watcher.exec.v1.state', identity: 'ginkgo', id: '1234567890', version: '1.0.0', timestamp: 1606924953, type: 'exec', machine: component, name: 'check', command: '/bin/sh', previous_outcome: outcome, previous_run_time: ns },
  }));
  const outcomes = await raw.publish([
    ...Array.from({ length: expected.garbage }, () => ({
      eventId: randomUUID(), topic: `choria.lifecycle.event.startup.${component}`, key: 'junk', value: Buffer.from('{"not": "a lifecycle event"'),
    })),
    { eventId: randomUUID(), topic: EXEC_TOPIC, value: execState('success', 1_500_000_000) },
    { eventId: randomUUID(), topic: EXEC_TOPIC, value: execState('error', 500_000_000) },
  ]);
  assert.ok(outcomes.every((o) => o.ok));
  await raw.close();
});

test('a simulated fleet gives exact metric values that parse as Prometheus text', async () => {
  const port = await freePort();
  startTally(['--component', component, '--from-beginning', '--no-group', '--port', String(port)]);
  const started = expected.startups + expected.alives;
  await waitForValue('startups and alives tallied', async () => {
    const s = await scrape(port);
    return s && metricValue(s, 'choria_tally_good_events', { component, ...A }) === started ? s : undefined;
  }, 60_000, 300);
  const pub = createPublisher({ sinks: [{ name: 'ce', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'choria' }], logger: silentLogger });
  await pub.emitMany(shutdowns);
  await pub.close();
  for (const e of shutdowns) running.delete(e.subject!);
  for (const v of running.values()) expected.versions.set(v, (expected.versions.get(v) ?? 0) + 1);
  const total = started + expected.shutdowns;
  const m = await waitForValue('all events tallied', async () => {
    const s = await scrape(port);
    const ready = s && metricValue(s, 'choria_tally_good_events', { component, ...A }) === total
      && metricValue(s, 'choria_tally_process_errors', { component, ...A }) === expected.garbage
      && metricValue(s, 'choria_tally_exec_watcher_failures', { machine: component, version: '1.0.0', watcher: 'check', ...A }) === 1;
    return ready ? s : undefined;
  }, 60_000, 300);
  assert.equal(metricValue(m, 'choria_tally_event_types', { component, type: 'startup', ...A }), expected.startups);
  assert.equal(metricValue(m, 'choria_tally_event_types', { component, type: 'alive', ...A }), expected.alives);
  assert.equal(metricValue(m, 'choria_tally_event_types', { component, type: 'shutdown', ...A }), expected.shutdowns);
  for (const [version, n] of expected.versions) {
    assert.equal(metricValue(m, 'choria_tally_versions', { component, version, ...A }), n, `versions{${version}}`);
  }
  assert.equal(metricValue(m, 'choria_tally_processing_time', { component, ...A }), total, 'processing_time{component, active}: one per event');
  assert.equal(metricValue(m, 'choria_tally_machine_transition', { machine: component, version: '1.0.0', transition: 'start', from: 'stopped', to: 'running', ...A }), expected.transitions);
  assert.equal(metricValue(m, 'choria_tally_exec_watcher_success', { machine: component, version: '1.0.0', watcher: 'check', ...A }), 1);
  const runtime = m.get('choria_tally_exec_watcher_runtime')!.metrics.find((x) => x.labels?.machine === component)!;
  assert.deepEqual([Number(runtime.count), Number(runtime.sum)], [2, 2], 'runtimes in seconds (1.5 s + 0.5 s)');
  assert.equal(m.get('choria_tally_processing_time')?.type, 'SUMMARY');
  assert.ok(!m.has('choria_tally_maintenance_time'), 'upstream code has no maintenance_time');
  assert.ok(m.has('process_resident_memory_bytes'), 'standard process metrics, unprefixed');
});

test('nodes not seen within --expiry are dropped from the versions gauge by the sweep', async () => {
  const port = await freePort();
  startTally(['--component', component, '--from-beginning', '--no-group', '--port', String(port), '--prefix', 'lifecycle_tally', '--expiry', '3s', '--sweep-interval', '500ms']);
  const first = await waitForValue('versions counted', async () => {
    const s = await scrape(port);
    const n = s && [...expected.versions.keys()].reduce((acc, v) => acc + (metricValue(s, 'lifecycle_tally_versions', { component, version: v, ...A }) ?? 0), 0);
    return n && n > 0 ? n : undefined;
  }, 60_000, 300);
  assert.ok(first > 0);
  const m = await waitForValue('versions expired', async () => {
    const s = await scrape(port);
    const n = s && [...expected.versions.keys()].reduce((acc, v) => acc + (metricValue(s, 'lifecycle_tally_versions', { component, version: v, ...A }) ?? 0), 0);
    return s && n === 0 ? s : undefined;
  }, 60_000, 300);
  // Each node the sweep dropped counts in nodes_expired. How many were there to drop depends
  // on the order Kafka gives the three topics (a shutdown read before its startup removes
  // nothing), so the count is bounded, not exact: at least one, at most one per event that adds a node.
  const expired = metricValue(m, 'lifecycle_tally_nodes_expired', { component, ...A }) ?? 0;
  assert.ok(expired >= 1 && expired <= expected.startups + expected.alives, `nodes_expired ${expired}`);
  assert.ok(m.has('lifecycle_tally_versions'), '--prefix lifecycle_tally gives the go-choria library\'s names');
});

test('two instances in one consumer group count every event exactly once between them', async () => {
  // A fleet of its own on empty 2-partition topics created first, so both instances join
  // before anything is published and the test sees no rebalance (at-least-once would
  // otherwise allow a repeat after a rebalance).
  const brokers = kafkaBrokers().split(',');
  const comp = uniqueName('grp').replace(/-/g, '_');
  const topics = ['startup', 'alive', 'shutdown'].map((t) => `choria.lifecycle.event.${t}.${comp}`);
  await ensureTopics(brokers, topics.map((topic) => ({ topic, partitions: 2 })), { create: true });
  const group = uniqueName('tally-group');
  const [p1, p2] = [await freePort(), await freePort()];
  const pat = `^choria\\.lifecycle\\.event\\.[a-z]+\\.${comp}$`;
  const instances = [
    startTally(['--pattern', pat, '--component', comp, '--from-beginning', '--group', group, '--port', String(p1)], 'info'),
    startTally(['--pattern', pat, '--component', comp, '--from-beginning', '--group', group, '--port', String(p2)], 'info'),
  ];
  const joins = () => instances.map((c) => c.stderrText().split('joined the consumer group').length - 1);
  await waitFor('both instances serve metrics', async () => (await scrape(p1)) !== undefined && (await scrape(p2)) !== undefined, 60_000, 300);
  // Set-up, not an assertion: the group has settled once both instances are its members and
  // share the 6 partitions (the pattern is resolved once, so nothing rebalances after that).
  const admin = new Admin({ clientId: 'herald-tally-test', bootstrapBrokers: brokers });
  try {
    await waitFor('the group to be stable, both instances sharing the 6 partitions', async () => {
      const g = (await admin.describeGroups({ groups: [group] })).get(group);
      if (g === undefined || g.state !== 'STABLE' || g.members.size !== 2) return false;
      const owned = [...g.members.values()].map((m) => [...(m.assignments?.values() ?? [])].reduce((n, a) => n + a.partitions.length, 0));
      return owned.every((n) => n > 0) && owned[0]! + owned[1]! === 6;
    }, 60_000, 300);
  } finally {
    await admin.close();
  }
  const generation = (c: { stderrText: () => string }) => [...c.stderrText().matchAll(/"generation":(\d+).*joined the consumer group/g)].at(-1)?.[1];
  await waitFor('both instances logged joining the same generation', () => {
    const [g1, g2] = instances.map(generation);
    return g1 !== undefined && g1 === g2;
  }, 10_000, 100);
  const joinsBefore = joins();

  const pub = createPublisher({ sinks: [{ name: 'ce', type: 'kafka', brokers, profile: 'choria' }], logger: silentLogger });
  const events: HeraldEvent[] = [];
  for (let i = 0; i < 120; i++) {
    const identity = `g${i}.example.net`;
    events.push(lifecycle.startup({ identity, component: comp, version: '3.0.0' }));
    if (i % 3 === 0) events.push(lifecycle.alive({ identity, component: comp, version: '3.0.0' }));
    if (i % 5 === 0) events.push(lifecycle.shutdown({ identity, component: comp }));
  }
  await pub.emitMany(events);
  await pub.close();

  const sum = (a: ReturnType<typeof parseMetrics>, b: ReturnType<typeof parseMetrics>, name: string, labels: Record<string, string>) =>
    (metricValue(a, name, labels) ?? 0) + (metricValue(b, name, labels) ?? 0);
  await waitFor('both instances together saw everything', async () => {
    const [a, b] = [await scrape(p1), await scrape(p2)];
    return a !== undefined && b !== undefined && sum(a, b, 'choria_tally_good_events', { component: comp, ...A }) >= events.length;
  }, 60_000, 300);
  // A sleep, not a wait: it checks an absence (a late repeat would show up here).
  await new Promise((r) => setTimeout(r, 1500));
  const [a, b] = [(await scrape(p1))!, (await scrape(p2))!];
  const counted = sum(a, b, 'choria_tally_good_events', { component: comp, ...A });
  if (joins().join() === joinsBefore.join()) {
    assert.equal(counted, events.length);
    assert.equal(sum(a, b, 'choria_tally_event_types', { component: comp, type: 'startup', ...A }), 120);
  } else {
    // A rebalance happened while counting (a busy machine can miss a heartbeat): at least once
    // then allows a repeat of what was read but not yet committed, never a loss. Both
    // instances logged the new generation, which is what tells a repeat from a bug.
    console.log(`# the group rebalanced while counting (joins ${joinsBefore.join()} -> ${joins().join()}): ${counted} counts for ${events.length} events`);
    assert.ok(counted >= events.length, `nothing lost across the rebalance (${counted} < ${events.length})`);
    assert.ok(sum(a, b, 'choria_tally_event_types', { component: comp, type: 'startup', ...A }) >= 120);
  }
  // Both instances took part (each owns some of the 6 partitions).
  assert.ok((metricValue(a, 'choria_tally_good_events', { component: comp, ...A }) ?? 0) > 0, 'instance 1 counted some');
  assert.ok((metricValue(b, 'choria_tally_good_events', { component: comp, ...A }) ?? 0) > 0, 'instance 2 counted some');
});
