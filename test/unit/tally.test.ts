/**
 * The tally against Choria's own tally: names, help texts and labels from
 * lifecycle/tally/stats.go, counting rules and vectors from lifecycle/tally/tally.go and
 * tally_test.go, reading rules from lifecycle/lifecycle.go (NewFromJSON) and the per-type
 * parsers, exec watcher states from aagent/watchers/execwatcher/ (choria-io/go-choria @
 * 58e80bab58a53d38576238baa011123d5f9eff59); the command's defaults from choria-io/tally
 * main.go @ 86ce5bcdbe5d1a5d67cd19b50770b0d5a6d5ca91.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ACTIVE, Tally, isTallyComponent } from '../../src/tally/tally.js';
import { choriaReads } from '../../src/cli/tally.js';
import { createEvent } from '../../src/events/index.js';
import { choriaProfile, lifecycle, machine } from '../../src/profiles/choria.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import type { IncomingMessage } from '../../src/profiles/types.js';
import { metricValue, parseMetrics } from '../helpers/prom.js';

const A = { active: '1' };
const msg = (topic: string, value: unknown): IncomingMessage => ({ topic, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), headers: {} });

/** A lifecycle document on its Choria subject, in the plain form or (ce) wrapped as Choria's CloudEvent. */
function life(type: string, identity: string, extra: Record<string, unknown> = {}, options: { component?: string; ce?: boolean } = {}): IncomingMessage {
  const component = options.component ?? 'ginkgo';
  const doc = { protocol: `io.choria.lifecycle.v1.${type}`, id: randomUUID(), identity, component, timestamp: 1535106973, ...extra };
  const value = options.ce
    ? { specversion: '1.0', id: doc.id, source: 'io.choria.lifecycle', type: doc.protocol, subject: identity, datacontenttype: 'application/json', time: '2018-08-24T10:36:13Z', data: doc }
    : doc;
  return msg(`choria.lifecycle.event.${type}.${component}`, value);
}

const transitionDoc = { protocol: 'io.choria.machine.v1.transition', identity: 'n1', id: 'inst-1', version: '1.0.0', timestamp: 1700000000, machine: 'spamd', transition: 'enter_maintenance', from_state: 'running', to_state: 'maintenance' };
const transitionCe = { specversion: '1.0', id: randomUUID(), source: 'io.choria.machine', type: 'io.choria.machine.v1.transition', subject: 'n1', datacontenttype: 'application/json', time: '2023-11-14T22:13:20Z', data: transitionDoc };

/** aagent/watchers/execwatcher/exec_test.go "CurrentState": the published CloudEvent (id given). */
const execState = (outcome: string, runTimeNs = 1_000_000_000) => ({
  time: '2020-12-02T16:02:33Z', type: 'io.choria.machine.watcher.exec.v1.state', subject: 'ginkgo', specversion: '1.0', source: 'io.choria.machine', datacontenttype: 'application/json', id: randomUUID(),
  data: { protocol: 'io.choria.machine.watcher.exec.v1.state', identity: 'ginkgo', id: '1234567890', version: '1.0.0', timestamp: 1606924953, type: 'exec', machine: 'exec', name: 'ginkgo', command: '/bin/sh', previous_outcome: outcome, previous_run_time: runTimeNs },
});

const scrape = async (t: Tally) => parseMetrics(await t.metrics());

test('every upstream metric with its help text and labels, each ending in active="1"; no maintenance_time; summaries only _sum/_count', async () => {
  const t = new Tally({ prefix: 'choria_tally' });
  t.observeMessage(life('startup', 'n1', { version: '1.2.3' }));
  t.observeMessage(life('governor', 'n1', { governor: 'G', sequence: 1, event_type: 'enter' }));
  t.observeMessage(msg('choria.machine.transition', transitionCe));
  t.observeMessage(msg('choria.machine.watcher.exec.state', execState('success')));
  t.observeMessage(msg('choria.machine.watcher.exec.state', execState('error')));
  t.observeMessage(msg('choria.lifecycle.event.startup.ginkgo', 'garbage'));
  t.sweep();
  const text = await t.metrics();
  // lifecycle/tally/stats.go: name suffix → help, label names in order.
  const expected: Record<string, [string, string, string[]]> = {
    good_events: ['counter', 'The number of successfully parsed events received', ['component', 'active']],
    process_errors: ['counter', 'The number of events received that failed to process', ['component', 'active']],
    event_types: ['counter', 'The number events received by type', ['component', 'type', 'active']],
    versions: ['gauge', 'The number of observations for a specific version and component', ['component', 'version', 'active']],
    processing_time: ['summary', 'The time taken to process events', ['component', 'active']],
    machine_transition: ['counter', 'Machine state transition', ['machine', 'version', 'transition', 'from', 'to', 'active']],
    exec_watcher_success: ['counter', 'Machine exec watcher success runs', ['machine', 'version', 'watcher', 'active']],
    exec_watcher_failures: ['counter', 'Machine exec watcher failure runs', ['machine', 'version', 'watcher', 'active']],
    exec_watcher_runtime: ['summary', 'Machine exec watcher runtimes', ['machine', 'version', 'watcher', 'active']],
    nodes_expired: ['counter', 'The number of nodes that were expired after not receiving alive events', ['component', 'active']],
    governor: ['counter', 'Choria Governor events', ['component', 'governor', 'event', 'active']],
  };
  for (const [suffix, [type, help, labels]] of Object.entries(expected)) {
    const name = `choria_tally_${suffix}`;
    assert.ok(text.includes(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`), `${name}: help and type`);
    const series = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_sum{`) || l.startsWith(`${name}_count{`));
    for (const line of series) {
      const names = [...line.slice(line.indexOf('{') + 1, line.indexOf('}')).matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
      assert.deepEqual(names, labels, line);
      assert.match(line, /active="1"\}/);
    }
    if (type === 'summary') assert.ok(!text.includes(`${name}{quantile`) && !series.some((l) => /quantile=/.test(l)), `${name}: no quantiles`);
  }
  assert.ok(!text.includes('maintenance_time'), 'upstream code has no maintenance_time metric');
  assert.ok(!text.includes('choria_tally_good_events_total'), 'counters keep their names (client_golang adds no _total)');
  assert.equal(ACTIVE, '1');
});

test('tally_test.go "Startup Events": a new node counts; a restart on 1.2.4 moves it from 1.2.3', async () => {
  const t = new Tally();
  t.observeMessage(life('startup', 'ginkgo.example.net', { version: '1.2.3' }));
  assert.equal(metricValue(await scrape(t), 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 1);
  t.observeMessage(life('startup', 'ginkgo.example.net', { version: '1.2.4' }));
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.4', ...A }), 1);
  assert.equal(t.nodeCount, 1);
});

test('tally_test.go "Shutdown Events": a known node leaves the gauge, an unknown one changes nothing', async () => {
  const t = new Tally();
  t.observeMessage(life('shutdown', 'ginkgo.example.net'));
  assert.equal(t.nodeCount, 0);
  assert.equal(metricValue(await scrape(t), 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), undefined);
  t.observeMessage(life('startup', 'ginkgo.example.net', { version: '1.2.3' }));
  t.observeMessage(life('shutdown', 'ginkgo.example.net'));
  assert.equal(t.nodeCount, 0);
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_good_events', { component: 'ginkgo', ...A }), 3, 'both shutdowns parsed and counted');
});

test('tally_test.go "Alive Events": new hosts count, old hosts refresh, updated hosts move version', async () => {
  let now = 1_000_000_000;
  const t = new Tally({ now: () => now });
  t.observeMessage(life('alive', 'ginkgo.example.net', { version: '1.2.3' }));
  now += 120 * 60_000; // "Should handle old hosts": seen again after 120 minutes
  t.observeMessage(life('alive', 'ginkgo.example.net', { version: '1.2.3' }));
  assert.equal(t.sweep(), 0, 'the alive refreshed its last-seen time');
  assert.equal(metricValue(await scrape(t), 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 1);
  t.observeMessage(life('alive', 'ginkgo.example.net', { version: '1.2.4' }));
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.4', ...A }), 1);
});

test('tally_test.go "maintenance": kept at 60 minutes, removed after 150; removal counts in nodes_expired', async () => {
  let now = 1_000_000_000;
  const t = new Tally({ now: () => now });
  t.observeMessage(life('alive', 'ginkgo.example.net', { version: '1.2.3' }));
  now += 60 * 60_000;
  assert.equal(t.sweep(), 0);
  assert.equal(t.nodeCount, 1);
  now += 90 * 60_000;
  assert.equal(t.sweep(), 1);
  assert.equal(t.nodeCount, 0);
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.2.3', ...A }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_nodes_expired', { component: 'ginkgo', ...A }), 1);
});

test('tally_test.go "Governor Events": governor{component, governor, event, active}; an identity is not needed', async () => {
  const t = new Tally();
  // lifecycle.New(Governor, Component("ginkgo"), GovernorName("GINKGO"), GovernorType(...)): no identity.
  const gov = (eventType: string) => msg('choria.lifecycle.event.governor.ginkgo', { protocol: 'io.choria.lifecycle.v1.governor', id: randomUUID(), identity: '', component: 'ginkgo', timestamp: 1, governor: 'GINKGO', sequence: 0, event_type: eventType });
  assert.equal(t.observeMessage(gov('enter')), 'counted');
  let m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_governor', { component: 'ginkgo', governor: 'GINKGO', event: 'enter', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_governor', { component: 'ginkgo', governor: 'GINKGO', event: 'exit', ...A }), undefined);
  t.observeMessage(gov('exit'));
  m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_governor', { component: 'ginkgo', governor: 'GINKGO', event: 'enter', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_governor', { component: 'ginkgo', governor: 'GINKGO', event: 'exit', ...A }), 1);
  // governor.go newGovernorEnterEventFromJSON: "governor name is not set".
  const errors: string[] = [];
  const t2 = new Tally({ onError: (_topic, reason) => errors.push(reason) });
  assert.equal(t2.observeMessage(msg('choria.lifecycle.event.governor.ginkgo', { protocol: 'io.choria.lifecycle.v1.governor', component: 'ginkgo', event_type: 'enter' })), 'error');
  assert.deepEqual(errors, ['governor name is not set']);
});

test('upgraded and provisioned are only counted; they leave the versions gauge alone (tally.go process)', async () => {
  const t = new Tally();
  t.observeMessage(life('startup', 'n1', { version: '1.0' }));
  t.observeMessage(life('upgraded', 'n1', { version: '1.0', new_version: '2.0' }));
  t.observeMessage(life('provisioned', 'n2'));
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '1.0', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '2.0', ...A }), undefined);
  assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component: 'ginkgo', type: 'upgraded', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component: 'ginkgo', type: 'provisioned', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_good_events', { component: 'ginkgo', ...A }), 3);
  assert.equal(metricValue(m, 'lifecycle_tally_processing_time', { component: 'ginkgo', ...A }), 3, 'processing_time{component, active}: one observation per parsed event');
  assert.equal(t.nodeCount, 1);
});

test('nodes are kept per (component, identity): the same identity under two components is two nodes', async () => {
  const t = new Tally();
  t.observeMessage(life('startup', 'n1', { version: '1.0' }, { component: 'server' }));
  t.observeMessage(life('startup', 'n1', { version: '9.9' }, { component: 'broker' }));
  assert.equal(t.nodeCount, 2);
  t.observeMessage(life('shutdown', 'n1', {}, { component: 'broker' }));
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '1.0', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'broker', version: '9.9', ...A }), 0);
  assert.equal(t.nodeCount, 1);
});

test('a simulated fleet in both Choria forms gives exact values', async () => {
  const t = new Tally({ prefix: 'choria_tally' });
  // 300 nodes: 200 start on 0.6.0, 100 on 0.7.0; 50 of the 0.6.0 nodes restart on 0.7.0,
  // 20 nodes shut down, every remaining node sends one alive; CloudEvents and plain alternate.
  const ids = Array.from({ length: 300 }, (_, i) => `n${i}.example.net`);
  ids.forEach((id, i) => t.observeMessage(life('startup', id, { version: i < 200 ? '0.6.0' : '0.7.0' }, { ce: i % 2 === 0 })));
  ids.slice(0, 50).forEach((id, i) => t.observeMessage(life('startup', id, { version: '0.7.0' }, { ce: i % 3 === 0 })));
  ids.slice(280).forEach((id) => t.observeMessage(life('shutdown', id, {}, { ce: true })));
  ids.slice(0, 280).forEach((id, i) => t.observeMessage(life('alive', id, { version: i < 50 ? '0.7.0' : i < 200 ? '0.6.0' : '0.7.0' })));
  const m = await scrape(t);
  const c = { component: 'ginkgo', ...A };
  assert.equal(metricValue(m, 'choria_tally_good_events', c), 300 + 50 + 20 + 280);
  assert.equal(metricValue(m, 'choria_tally_event_types', { ...c, type: 'startup' }), 350);
  assert.equal(metricValue(m, 'choria_tally_event_types', { ...c, type: 'shutdown' }), 20);
  assert.equal(metricValue(m, 'choria_tally_event_types', { ...c, type: 'alive' }), 280);
  assert.equal(metricValue(m, 'choria_tally_versions', { ...c, version: '0.6.0' }), 150);
  assert.equal(metricValue(m, 'choria_tally_versions', { ...c, version: '0.7.0' }), 130);
  assert.ok(m.has('process_cpu_user_seconds_total'), 'standard process metrics, unprefixed');
});

test('what is read as Choria\'s tally reads it (NewFromJSON, processStateTransition), errors under upstream\'s components', async () => {
  const reasons: string[] = [];
  const t = new Tally({ onError: (_topic, reason) => reasons.push(reason) });
  const outcome = (topic: string, value: unknown) => t.observeMessage(msg(topic, value));
  const L = 'choria.lifecycle.event.startup.ginkgo';
  // lifecycle_test.go "NewFromJSON": unsupported format, unknown type.
  assert.equal(outcome(L, { protocol: 'fail' }), 'error');
  assert.equal(outcome(L, { protocol: 'io.choria.lifecycle.v1.unknown' }), 'error');
  // The legacy spelling: EventFormatFromJSON only knows io.choria.lifecycle*, so NewFromJSON refuses it.
  assert.equal(outcome(L, { protocol: 'choria:lifecycle:startup:1', identity: 'n', component: 'ginkgo', version: '1' }), 'error');
  // Go's encoding/json: a wrong type is an error, missing fields are zero values, keys match without case.
  assert.equal(outcome(L, { protocol: 'io.choria.lifecycle.v1.startup', identity: 'n', component: 'ginkgo', version: 1 }), 'error');
  assert.equal(outcome(L, { protocol: 'io.choria.lifecycle.v1.startup', identity: 'n', component: 'ginkgo', timestamp: 'now' }), 'error');
  assert.equal(outcome(L, { protocol: 'io.choria.lifecycle.v1.startup', Identity: 'm1', COMPONENT: 'ginkgo', Version: '3.0' }), 'counted');
  assert.equal(outcome(L, { protocol: 'io.choria.lifecycle.v1.startup', component: 'ginkgo' }), 'counted', 'startup_test.go parses {"protocol":…,"component":"ginkgo"}');
  // A CloudEvent whose data is a JSON string under a JSON content type is not a document (sdk-go data as JSON bytes).
  const doc = { protocol: 'io.choria.lifecycle.v1.startup', identity: 'n2', component: 'ginkgo', version: '1' };
  assert.equal(outcome(L, { specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't', datacontenttype: 'application/json', data: JSON.stringify(doc) }), 'error');
  assert.equal(outcome(L, { specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't', data_base64: Buffer.from(JSON.stringify(doc)).toString('base64') }), 'counted');
  assert.equal(outcome(L, { specversion: '1.0', id: 'x', source: 'io.choria.lifecycle', type: 't', time: 'yesterday', data: doc }), 'error');
  // Transitions: only CloudEvents (a plain document has no specversion), protocol checked.
  assert.equal(outcome('choria.machine.transition', transitionDoc), 'error');
  assert.equal(outcome('choria.machine.transition', { ...transitionCe, data: { ...transitionDoc, protocol: 'choria:machine:transition:1' } }), 'error');
  assert.equal(outcome('choria.machine.transition', transitionCe), 'counted');
  // Exec watcher states: a plain document is an error; an outcome other than success/error is not counted.
  assert.equal(outcome('choria.machine.watcher.exec.state', execState('success').data), 'error');
  assert.equal(outcome('choria.machine.watcher.exec.state', execState('skipped')), 'ignored');
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: 'ginkgo', ...A }), 7, 'lifecycle: the subject\'s last token (componentFromSubject)');
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: 'transition', ...A }), 2);
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: 'exec_watcher', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '3.0', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'ginkgo', version: '', ...A }), 1, 'a startup without version counts under ""');
  assert.equal(metricValue(m, 'lifecycle_tally_machine_transition', { machine: 'spamd', version: '1.0.0', transition: 'enter_maintenance', from: 'running', to: 'maintenance', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_exec_watcher_success', { machine: 'exec', version: '1.0.0', watcher: 'ginkgo', ...A }), undefined);
  assert.ok(reasons.includes('unsupported event format') && reasons.includes("unknown protocol 'io.choria.lifecycle.v1.unknown' received") && reasons.includes('unknown notification protocol choria:machine:transition:1'), reasons.join(' | '));
});

test('exec watcher states: success and failure counters and the run time in seconds (processExecWatcherState)', async () => {
  const t = new Tally();
  const topic = 'choria.machine.watcher.exec.state';
  t.observeMessage(msg(topic, execState('success', 1_000_000_000)));
  t.observeMessage(msg(topic, execState('success', 500_000_000)));
  t.observeMessage(msg(topic, execState('error', 2_000_000_000)));
  const m = await scrape(t);
  const l = { machine: 'exec', version: '1.0.0', watcher: 'ginkgo', ...A };
  assert.equal(metricValue(m, 'lifecycle_tally_exec_watcher_success', l), 2);
  assert.equal(metricValue(m, 'lifecycle_tally_exec_watcher_failures', l), 1);
  const runtime = m.get('lifecycle_tally_exec_watcher_runtime')!.metrics[0]!;
  assert.equal(Number(runtime.count), 3);
  assert.equal(Number(runtime.sum), 3.5);
});

test('--component: only that component\'s subjects (Run subscribes choria.lifecycle.event.*.<component>); * all; \'\' none', async () => {
  const server = new Tally({ component: 'server' });
  assert.equal(server.observeMessage(life('startup', 'n1', { version: '1' }, { component: 'broker' })), 'ignored');
  assert.equal(server.observeMessage(msg('choria.lifecycle.event.startup.broker', 'garbage')), 'ignored', 'errors of other components are never seen');
  assert.equal(server.observeMessage(life('startup', 'n1', { version: '1' }, { component: 'server' })), 'counted');
  assert.equal(server.observeMessage(msg('choria.machine.transition', transitionCe)), 'counted', 'transitions whatever the component');
  const all = new Tally({ component: '*' });
  assert.equal(all.observeMessage(life('startup', 'n1', { version: '1' }, { component: 'broker' })), 'counted');
  const none = new Tally({ component: '' });
  assert.equal(none.observeMessage(life('startup', 'n1', { version: '1' }, { component: 'server' })), 'ignored');
  assert.equal(none.observeMessage(msg('choria.machine.transition', transitionCe)), 'counted');
  for (const c of ['server', '*', '', 'my_comp']) assert.ok(isTallyComponent(c), c);
  for (const c of ['a.b', '>', 'a b', 'x*']) assert.ok(!isTallyComponent(c), c);
  assert.throws(() => new Tally({ component: 'a.b' }), /invalid component/);
  assert.throws(() => new Tally({ prefix: 'bad-prefix' }), /invalid metric prefix/);
  // The command's subscriptions (choria-io/tally main.go: --component default server).
  assert.deepEqual(choriaReads('server').subjects, ['choria.lifecycle.event.*.server', 'choria.machine.transition', 'choria.machine.watcher.exec.state']);
  assert.deepEqual(choriaReads('').subjects, ['choria.machine.transition', 'choria.machine.watcher.exec.state']);
  assert.ok(choriaReads('*').pattern.test('choria.lifecycle.event.alive.broker'));
  assert.ok(!choriaReads('server').pattern.test('choria.lifecycle.event.alive.broker'));
});

test('on a topic of another name, Choria messages are recognised by content; other profiles count in Herald\'s own metrics', async () => {
  const t = new Tally({ component: 'server' });
  const start = lifecycle.startup({ identity: 'n1', component: 'server', version: '1.0' });
  const [m1] = choriaProfile.encode(start, { transport: 'kafka', topic: 'x' });
  assert.equal(t.observeMessage({ ...m1!, topic: 'fleet.events', headers: {} }), 'counted');
  const other = lifecycle.startup({ identity: 'n2', component: 'broker', version: '1.0' });
  assert.equal(t.observeMessage({ ...choriaProfile.encode(other, { transport: 'kafka', topic: 'x' })[0]!, topic: 'fleet.events', headers: {} }), 'ignored');
  const tr = machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' });
  assert.equal(t.observeMessage({ ...choriaProfile.encode(tr, { transport: 'kafka', topic: 'x' })[0]!, topic: 'fleet.events', headers: {} }), 'counted');
  // Garbage on such a topic: an error under the topic's last token; other profiles by the decode chain.
  assert.equal(t.observeMessage(msg('fleet.events', 'garbage')), 'error');
  const enter = (id: string, state: string) => ({
    profile: 'aliecs', format: 'protobuf', document: {},
    event: createEvent({ source: 'aliecs', type: 'dev.herald.entity.state.enter', entity: { kind: 'environment', id }, data: { kind: 'environment', id, state, enteredAt: '2024-01-01T00:00:00Z', attributes: {} } }),
  });
  const env = msg('aliecs.env_state.RUNNING', Buffer.from([0x0a]));
  t.observeMessage(env, enter('e1', 'CONFIGURED'));
  t.observeMessage(env, enter('e2', 'RUNNING'));
  t.observeMessage(env, enter('e1', 'RUNNING'));
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '1.0', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_machine_transition', { machine: 'm', version: '1', transition: 'go', from: 'a', to: 'b', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: 'events', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_entities', { kind: 'environment', state: 'RUNNING', ...A }), 2);
  assert.equal(metricValue(m, 'lifecycle_tally_entities', { kind: 'environment', state: 'CONFIGURED', ...A }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_events', { profile: 'aliecs', type: 'dev.herald.entity.state.enter', severity: 'info', ...A }), 3);
});

test('observe(decoded) counts a decoded Choria message as if it came on its subject', async () => {
  const t = new Tally();
  const [m1] = choriaProfile.encode(lifecycle.alive({ identity: 'n1', component: 'server', version: '2.0' }), { transport: 'kafka', topic: 'x' });
  assert.equal(t.observe(decodeMessage({ ...m1!, headers: {} })), true);
  const [p] = choriaProfile.encode(machine.transition({ identity: 'n1', machine: 'm', version: '1', transition: 'go', fromState: 'a', toState: 'b' }), { transport: 'kafka', topic: 'x' });
  assert.equal(t.observe(decodeMessage({ ...p!, headers: {} })), true);
  const m = await scrape(t);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '2.0', ...A }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_machine_transition', { machine: 'm', version: '1', transition: 'go', from: 'a', to: 'b', ...A }), 1);
});
