/**
 * The one rule giving an event its Assisted Installer cluster_id, host_id and infra_env_id
 * (src/events/refs.ts), which the store indexes, the REST list queries and the stream writes.
 * Upstream: openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de
 * internal/events/event.go (SendClusterEventAtTime passes the cluster id; SendHostEventAtTime
 * the cluster, host and infra-env ids; SendInfraEnvEventAtTime the cluster and infra-env ids).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from '../../src/events/event.js';
import { assistedCategory, assistedIds, eventRefs } from '../../src/events/refs.js';

const ev = (over: Record<string, unknown>) => createEvent({ source: 's', type: 't', ...over });

test('refs: the entity gives its own kind\'s id; data gives the others', () => {
  // A host event names its cluster and infra-env, as upstream host events carry all three.
  assert.deepEqual(assistedIds(ev({ entity: { kind: 'host', id: 'h1' }, data: { cluster_id: 'c1', infra_env_id: 'ie1' } })), { cluster_id: 'c1', host_id: 'h1', infra_env_id: 'ie1' });
  // A cluster event: only the cluster.
  assert.deepEqual(assistedIds(ev({ entity: { kind: 'cluster', id: 'c1' } })), { cluster_id: 'c1' });
  // An infra-env event bound to a cluster; the spellings infra_env and infraenv are the same kind.
  for (const kind of ['infra-env', 'infra_env', 'infraenv']) {
    assert.deepEqual(assistedIds(ev({ entity: { kind, id: 'ie1' }, data: { cluster_id: 'c1' } })), { cluster_id: 'c1', infra_env_id: 'ie1' });
  }
  // The entity wins over data naming another id of its kind.
  assert.deepEqual(assistedIds(ev({ entity: { kind: 'host', id: 'h1' }, data: { host_id: 'h2' } })), { host_id: 'h1' });
  // Other kinds give nothing themselves; data alone still counts.
  assert.deepEqual(assistedIds(ev({ entity: { kind: 'node', id: 'n1' }, data: { host_id: 'h3' } })), { host_id: 'h3' });
  assert.deepEqual(assistedIds(ev({ entity: { kind: 'node', id: 'n1' } })), {});
});

test('refs: non-string, empty and over-long data values are not ids', () => {
  assert.deepEqual(assistedIds(ev({ data: { cluster_id: 42, host_id: '', infra_env_id: 'x'.repeat(256) } })), {});
  assert.deepEqual(assistedIds(ev({ data: { infra_env_id: 'x'.repeat(255) } })), { infra_env_id: 'x'.repeat(255) });
  assert.deepEqual(assistedIds(ev({ data: ['cluster_id', 'c1'] })), {});
});

test('refs: category metrics only from data.category (upstream EventCategoryMetrics); everything else is user', () => {
  assert.equal(assistedCategory(ev({ data: { category: 'metrics' } })), 'metrics');
  assert.equal(assistedCategory(ev({ data: { category: 'other' } })), 'user');
  assert.equal(assistedCategory(ev({})), 'user');
});

test('refs: what the store indexes', () => {
  assert.deepEqual(eventRefs(ev({ entity: { kind: 'host', id: 'h1' }, data: { cluster_id: 'c1', infra_env_id: 'ie1', category: 'metrics' } })), [
    { kind: 'cluster', id: 'c1' }, { kind: 'host', id: 'h1' }, { kind: 'infra-env', id: 'ie1' }, { kind: 'category', id: 'metrics' },
  ]);
  assert.deepEqual(eventRefs(ev({ entity: { kind: 'environment', id: 'e1' } })), [], 'an ordinary event costs no ref row');
});
