/**
 * Promises of the ingest pipeline that used to hold on one entry point only, checked on each:
 * - the topic: a profile's own topic (assisted: events-stream) and a producer properties
 *   `topic` (cloudstack) are used by `herald serve`, the library and `herald emit` alike;
 * - wake-ups: an append wakes the relays at once, whatever the entry point (the relays here
 *   would otherwise sleep ten minutes);
 * - decoding over RabbitMQ: what `herald emit --amqp` publishes, `herald view --amqp` shows
 *   with the same id, type and source.
 * Real Kafka (read back with kcat), RabbitMQ, the built CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { amqpUrl, kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { startServe, startTestService } from './outbox-helpers.js';
import { kcatAll, type KcatRecord } from './profiles-e2e-helpers.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-promises-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** kcat's records of `topic` keyed `key`, once `n` of them arrived. */
async function recordsOf(topic: string, key: string, n: number): Promise<KcatRecord[]> {
  let got: KcatRecord[] = [];
  await waitFor(`${n} records keyed ${key} on ${topic}`, async () => {
    got = (await kcatAll(topic).catch(() => [])).filter((r) => r.key === key);
    return got.length >= n;
  }, 60_000, 250);
  return got;
}

describe('the topic is resolved alike on every entry point', () => {
  test('assisted: HERALD_KAFKA_PROFILE=assisted herald serve, the library and herald emit all publish to events-stream', async () => {
    const cluster = uniqueName('c');
    const serve = await startServe({ HERALD_KAFKA_PROFILE: 'assisted', HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_DB: `sqlite:${join(dir, 'assisted.db')}` });
    try {
      const r = await fetch(`${serve.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'svc', type: 'cluster_validation_failed', entity: { kind: 'cluster', id: cluster }, message: 'from serve' }) });
      assert.equal(r.status, 202);
      await recordsOf('events-stream', cluster, 1);
    } finally {
      await serve.stop();
    }
    const publisher = createPublisher({ sinks: [{ name: 'lib', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'assisted' }] });
    try {
      await publisher.emit({ source: 'svc', type: 'cluster_validation_failed', entity: { kind: 'cluster', id: cluster }, message: 'from the library' });
    } finally {
      await publisher.close();
    }
    const e = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'assisted', '--type', 'cluster_validation_failed', '--entity', `cluster:${cluster}`, '--message', 'from emit']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, / topic=events-stream /);
    const got = await recordsOf('events-stream', cluster, 3);
    assert.deepEqual(got.map((r) => (JSON.parse(r.value) as { Payload: { message: string } }).Payload.message).sort(), ['from emit', 'from serve', 'from the library']);
  });

  test('cloudstack: the producer properties `topic` is used by herald serve, the library and herald emit', async () => {
    const topic = uniqueName('cs-props');
    const uuid = uniqueName('uuid');
    const props = join(dir, 'kafka.producer.properties');
    writeFileSync(props, `bootstrap.servers=${kafkaBrokers()}\nacks=all\ntopic=${topic}\n`);
    const sink = { name: 'cs', type: 'kafka' as const, producerProperties: props, profile: 'cloudstack' as const };
    const data = (who: string) => ({ event: 'ACCOUNT.CREATE', status: 'Completed', entity: 'com.cloud.user.Account', description: who });
    const config = join(dir, 'cs.json');
    writeFileSync(config, JSON.stringify({ store: { url: `sqlite:${join(dir, 'cs.db')}` }, sinks: [sink] }));
    const serve = await startServe({}, ['--config', config]);
    try {
      const r = await fetch(`${serve.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: uuid }, data: data('serve') }) });
      assert.equal(r.status, 202);
      await recordsOf(topic, uuid, 1);
    } finally {
      await serve.stop();
    }
    const publisher = createPublisher({ sinks: [sink] });
    try {
      await publisher.emit({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: uuid }, data: data('library') });
    } finally {
      await publisher.close();
    }
    const e = await runCli(['emit', '--producer-properties', props, '--profile', 'cloudstack', '--type', 'ActionEvent', '--entity', `Account:${uuid}`, '--data', JSON.stringify(data('emit'))]);
    assert.equal(e.code, 0, e.stderr);
    const got = await recordsOf(topic, uuid, 3);
    assert.deepEqual(got.map((r) => (JSON.parse(r.value) as { description: string }).description).sort(), ['emit', 'library', 'serve']);
  });
});

describe('every durable entry point wakes the relays', () => {
  const asleep = 10 * 60_000;

  test('POST /v2/events: delivered at once although the relay would poll in ten minutes', async () => {
    const topic = uniqueName('wake-api');
    const service = await startTestService({ store: { url: `sqlite:${join(dir, 'wake-api.db')}` }, sinks: [{ name: 'k', type: 'kafka', brokers: kafkaBrokers().split(','), topic }] }, { relay: { idleMs: asleep } });
    try {
      // Let the relay finish its first round (connect) and fall asleep.
      await waitFor('the relay to connect', async () => (await service.pipeline.outbox.status())[0]!.connected, 30_000);
      const r = await fetch(`${service.address}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 's', type: 't', partitionkey: 'wake' }) });
      assert.equal(r.status, 202);
      await recordsOf(topic, 'wake', 1);
    } finally {
      await service.close();
    }
  });

  test('the entity-state PUT wakes them too', async () => {
    const topic = uniqueName('wake-put');
    const service = await startTestService({ store: { url: `sqlite:${join(dir, 'wake-put.db')}` }, sinks: [{ name: 'k', type: 'kafka', brokers: kafkaBrokers().split(','), topic }] }, { relay: { idleMs: asleep } });
    try {
      await waitFor('the relay to connect', async () => (await service.pipeline.outbox.status())[0]!.connected, 30_000);
      const r = await fetch(`${service.address}/v2/entities/cluster/w1/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'READY' }) });
      assert.equal(r.status, 200);
      await recordsOf(topic, 'cluster:w1', 1);
    } finally {
      await service.close();
    }
  });

  test('the durable library publisher', async () => {
    const topic = uniqueName('wake-lib');
    const publisher = createPublisher({ sinks: [{ name: 'k', type: 'kafka', brokers: kafkaBrokers().split(','), topic }], durable: { store: `sqlite:${join(dir, 'wake-lib.db')}`, pollMs: asleep } });
    try {
      await publisher.emit({ source: 's', type: 't', partitionkey: 'first' });
      await recordsOf(topic, 'first', 1);
      await publisher.emit({ source: 's', type: 't', partitionkey: 'second' });
      await recordsOf(topic, 'second', 1);
    } finally {
      await publisher.close();
    }
  });
});

test('RabbitMQ: herald emit --amqp, then herald view --amqp --format json shows the same id, type and source', async () => {
  const exchange = uniqueName('herald-amqp-view');
  const group = uniqueName('view');
  // A named queue (--group) keeps the message while no viewer runs: declare it with a first, empty read.
  const declare = await runCli(['view', '--amqp', amqpUrl(), '--exchange', exchange, '--group', group, '--max', '1', '--timeout', '1s']);
  assert.equal(declare.code, 0, declare.stderr);
  for (const [what, data] of [['with data', ['--data', '{"n":1}']], ['without data', []]] as const) {
    const emit = await runCli(['emit', '--amqp', amqpUrl(), '--exchange', exchange, '--type', 'com.example.amqp.checked', '--source', 'example/amqp', ...data]);
    assert.equal(emit.code, 0, emit.stderr);
    const id = emit.stdout.trim().split(' ')[0]!;
    const view = await runCli(['view', '--amqp', amqpUrl(), '--exchange', exchange, '--group', group, '--max', '1', '--format', 'json', '--timeout', '20s']);
    assert.equal(view.code, 0, view.stderr);
    const shown = (JSON.parse(view.stdout.trim().split('\n')[0]!) as { event: { id: string; type: string; source: string; data?: unknown } }).event;
    assert.deepEqual({ id: shown.id, type: shown.type, source: shown.source }, { id, type: 'com.example.amqp.checked', source: 'example/amqp' }, what);
    assert.doesNotMatch(view.stderr, /not in any known format/);
  }
});
