/**
 * The library publisher (direct mode) and the README example against the real broker.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { SinkConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { HeraldError, ValidationError } from '../../src/errors.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import { ensureTopics } from '../../src/transports/kafka/topics.js';
import { ROOT, kafkaBrokers, uniqueName } from '../helpers/env.js';
import { readTopicN as readN } from '../helpers/sources.js';

const brokers = () => kafkaBrokers().split(',');

describe('createPublisher (direct)', () => {
  it('emits a validated event and resolves after the broker stored it', async () => {
    const topic = uniqueName('pub-direct');
    const publisher = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: brokers(), topic }] });
    try {
      const event = await publisher.emit({ source: 'test/publisher', type: 'com.example.ready', entity: { kind: 'cluster', id: 'c1' }, data: { n: 1 } });
      assert.ok(event.id.length > 0);
      assert.ok(Object.isFrozen(event));
      const [m] = await readN(topic, 1);
      assert.equal(m!.key, 'cluster:c1');
      assert.equal(m!.headers.ce_id, event.id);
      assert.equal(m!.headers.ce_time, event.time);
      const decoded = decodeMessage(m!);
      assert.equal(decoded.event.id, event.id);
      assert.deepEqual(decoded.event.data, { n: 1 });
    } finally {
      await publisher.close();
    }
  });

  it('emitMany keeps ids and order; an invalid event sends nothing and names its index', async () => {
    const topic = uniqueName('pub-many');
    await ensureTopics(brokers(), [{ topic, partitions: 1 }], { create: true });
    const publisher = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: brokers(), topic, mode: 'structured' }] });
    try {
      await assert.rejects(publisher.emitMany([{ source: 's', type: 'ok' }, { source: 's' } as never]), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.equal(err.details[0]?.path, '[1].type');
        return true;
      });
      const events = await publisher.emitMany([
        { source: 's', type: 't', id: 'fixed-1', subject: 'x' },
        { source: 's', type: 't', subject: 'x' },
      ]);
      assert.equal(events[0]!.id, 'fixed-1');
      const got = await readN(topic, 2);
      // The first message on the topic is the first valid event: nothing of the bad batch was sent.
      assert.deepEqual(got.map((m) => JSON.parse(m.value!.toString()).id), events.map((e) => e.id));
      // A re-emitted event keeps its id and time (retries stay de-duplicable).
      const again = await publisher.emit(events[1]!);
      assert.equal(again.id, events[1]!.id);
      assert.equal(again.time, events[1]!.time);
    } finally {
      await publisher.close();
      await publisher.close();
    }
    await assert.rejects(publisher.emit({ source: 's', type: 't' }), (err: unknown) => err instanceof HeraldError && err.code === 'CLOSED');
  });

  it('rejects with a HeraldError when the broker is unreachable', async () => {
    const publisher = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: ['127.0.0.1:1'], timeoutMs: 2000 }] });
    try {
      await assert.rejects(publisher.emit({ source: 's', type: 't' }), (err: unknown) => {
        assert.ok(err instanceof HeraldError);
        assert.match(err.code, /BROKER_UNAVAILABLE|TIMEOUT/);
        return true;
      });
    } finally {
      await publisher.close();
    }
  });

  it('needs at least one sink', () => {
    assert.throws(() => createPublisher({ sinks: [] }), (err: unknown) => err instanceof HeraldError && err.code === 'CONFIG');
  });
});

describe('direct delivery', () => {
  it('fans out to every sink, applying each sink filter (kafka + stdout)', async () => {
    const topic = uniqueName('pub-fanout');
    const lines: string[] = [];
    const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
    const sinks: SinkConfig[] = [
      { name: 'kafka', type: 'kafka', brokers: brokers(), topic },
      { name: 'out', type: 'stdout', topic: 'debug', mode: 'structured', filter: { severities: ['error'] } },
    ];
    const publisher = createPublisher({ sinks, stdout: stream, logger: silentLogger });
    try {
      const [info, error] = await publisher.emitMany([{ source: 's', type: 'a', severity: 'info' }, { source: 's', type: 'b', severity: 'error' }]);
      assert.equal(lines.length, 1);
      const line = JSON.parse(lines[0]!);
      assert.equal(line.topic, 'debug');
      assert.equal(JSON.parse(line.value).id, error!.id);
      const got = await readN(topic, 2);
      assert.deepEqual(got.map((m) => m.headers.ce_id), [info!.id, error!.id]);
    } finally {
      await publisher.close();
    }
  });
});

describe('examples/publish.ts', () => {
  it('publishes a typed event that reads back with its id', async () => {
    const topic = uniqueName('example');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join('examples', 'publish.ts')], {
        cwd: ROOT,
        env: { ...process.env, HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_KAFKA_TOPIC: topic },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    assert.equal(result.code, 0, result.stderr);
    const id = result.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const [m] = await readN(topic, 1);
    const decoded = decodeMessage(m!);
    assert.equal(decoded.event.id, id);
    assert.equal(decoded.event.type, 'com.example.cluster.ready');
    assert.equal(m!.key, 'cluster:c-42');
    assert.deepEqual(decoded.event.data, { nodes: 3, version: '4.16.2' });
  });
});
