import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Tally, lifecycleType } from '../../src/tally/tally.js';
import { createEvent } from '../../src/events/index.js';
import type { DecodedMessage } from '../../src/profiles/types.js';
import { metricValue, parseMetrics } from '../helpers/prom.js';

const choria = (doc: Record<string, unknown>): DecodedMessage => ({
  profile: 'choria',
  format: 'plain',
  document: doc,
  event: createEvent({ source: 'io.choria.lifecycle', type: String(doc.protocol ?? 'x'), data: doc }),
});

const life = (type: string, identity: string, extra: Record<string, unknown> = {}) =>
  choria({ protocol: `io.choria.lifecycle.v1.${type}`, id: randomUUID(), identity, component: 'server', timestamp: 1700000000, ...extra });

test('lifecycle types from current and legacy protocols', () => {
  assert.equal(lifecycleType('io.choria.lifecycle.v1.startup'), 'startup');
  assert.equal(lifecycleType('choria:lifecycle:alive:1'), 'alive');
  assert.equal(lifecycleType('io.choria.machine.v1.transition'), undefined);
  assert.equal(lifecycleType(42), undefined);
});

test('a simulated fleet gives exact metric values with Choria names and labels', async () => {
  const tally = new Tally();
  // 300 nodes: 200 start on 0.6.0, 100 on 0.7.0; 50 of the 0.6.0 nodes upgrade by restarting on 0.7.0,
  // 20 nodes shut down, every node sends one alive, 5 messages are undecodable.
  const ids = Array.from({ length: 300 }, (_, i) => `n${i}.example.net`);
  ids.forEach((id, i) => tally.observe(life('startup', id, { version: i < 200 ? '0.6.0' : '0.7.0' })));
  ids.slice(0, 50).forEach((id) => tally.observe(life('startup', id, { version: '0.7.0' })));
  ids.slice(280).forEach((id) => tally.observe(life('shutdown', id)));
  ids.slice(0, 280).forEach((id, i) => tally.observe(life('alive', id, { version: i < 50 ? '0.7.0' : i < 200 ? '0.6.0' : '0.7.0' })));
  for (let i = 0; i < 5; i++) tally.error();
  tally.observe(choria({ protocol: 'io.choria.machine.v1.transition', id: randomUUID(), identity: 'n1', version: '1.0.0', timestamp: 1, machine: 'spamd', transition: 'enter_maintenance', from_state: 'running', to_state: 'maintenance' }));

  const m = parseMetrics(await tally.metrics());
  assert.equal(metricValue(m, 'lifecycle_tally_good_events', { component: 'server' }), 300 + 50 + 20 + 280);
  assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component: 'server', type: 'startup' }), 350);
  assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component: 'server', type: 'shutdown' }), 20);
  assert.equal(metricValue(m, 'lifecycle_tally_event_types', { component: 'server', type: 'alive' }), 280);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '0.6.0' }), 150);
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '0.7.0' }), 130);
  assert.equal(metricValue(m, 'lifecycle_tally_process_errors', { component: '' }), 5);
  assert.equal(metricValue(m, 'lifecycle_tally_machine_transition', { machine: 'spamd', version: '1.0.0', transition: 'enter_maintenance', from_state: 'running', to_state: 'maintenance' }), 1);
  assert.equal(m.get('lifecycle_tally_processing_time')?.type, 'SUMMARY');
  // Standard process metrics, unprefixed.
  assert.ok(m.has('process_cpu_user_seconds_total'));
});

test('expiry drops nodes not seen for the expiry time; the sweep feeds maintenance_time', async () => {
  let now = 1_000_000;
  const tally = new Tally({ expiryMs: 60_000, now: () => now });
  tally.observe(life('startup', 'old', { version: '1' }));
  now += 50_000;
  tally.observe(life('alive', 'fresh', { version: '1' }));
  now += 20_000; // old last seen 70 s ago, fresh 20 s ago
  assert.equal(tally.sweep(), 1);
  assert.equal(tally.nodeCount, 1);
  const m = parseMetrics(await tally.metrics());
  assert.equal(metricValue(m, 'lifecycle_tally_versions', { component: 'server', version: '1' }), 1);
  assert.equal(metricValue(m, 'lifecycle_tally_maintenance_time'), 1);
});

test('--component filters other components; prefix is applied; missing component is an error', async () => {
  const tally = new Tally({ component: 'server', prefix: 'fleet' });
  assert.equal(tally.observe(choria({ protocol: 'io.choria.lifecycle.v1.startup', identity: 'a', component: 'broker', version: '1' })), false);
  assert.equal(tally.observe(choria({ protocol: 'io.choria.lifecycle.v1.startup', identity: 'a', component: '', version: '1' })), false);
  assert.equal(tally.observe(life('startup', 'b', { version: '2' })), true);
  const m = parseMetrics(await tally.metrics());
  assert.equal(metricValue(m, 'fleet_good_events', { component: 'broker' }), undefined);
  assert.equal(metricValue(m, 'fleet_good_events', { component: 'server' }), 1);
  assert.equal(metricValue(m, 'fleet_process_errors', { component: 'server' }), 1);
  assert.throws(() => new Tally({ prefix: 'bad-prefix' }), /invalid metric prefix/);
});

test('other profiles: events by type and severity, entities per state', async () => {
  const tally = new Tally();
  const enter = (id: string, state: string) => ({
    profile: 'aliecs', format: 'protobuf', document: {},
    event: createEvent({ source: 'aliecs', type: 'dev.herald.entity.state.enter', entity: { kind: 'environment', id }, data: { kind: 'environment', id, state, enteredAt: '2024-01-01T00:00:00Z', attributes: {} } }),
  });
  tally.observe(enter('e1', 'CONFIGURED'));
  tally.observe(enter('e2', 'RUNNING'));
  tally.observe(enter('e1', 'RUNNING'));
  const m = parseMetrics(await tally.metrics());
  assert.equal(metricValue(m, 'lifecycle_tally_entities', { kind: 'environment', state: 'RUNNING' }), 2);
  assert.equal(metricValue(m, 'lifecycle_tally_entities', { kind: 'environment', state: 'CONFIGURED' }), 0);
  assert.equal(metricValue(m, 'lifecycle_tally_events', { profile: 'aliecs', type: 'dev.herald.entity.state.enter', severity: 'info' }), 3);
});
