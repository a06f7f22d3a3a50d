/**
 * The AMQP sink and source against the shared RabbitMQ (guest/guest on 127.0.0.1:5672).
 * Each test declares its own exchange and queues and deletes them afterwards. Dropped
 * connections are simulated with `rabbitmqctl close_connection` on the test's own connection
 * (found by the connection name the sink/source sets), never by restarting the shared server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { sinkFor } from '../helpers/sinks.js';
import { createAmqpSource } from '../../src/transports/amqp/source.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import type { Source } from '../../src/transports/types.js';
import { take } from '../helpers/sources.js';
import type { Sink } from '../../src/transports/types.js';
import { isHeraldError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { amqpUrl, uniqueName } from '../helpers/env.js';
import { waitFor, waitForValue } from '../helpers/wait.js';

const run = promisify(execFile);
const deps = { logger: silentLogger };
const closers: (() => Promise<unknown>)[] = [];
const exchanges: string[] = [];
const queues: string[] = [];
let admin: { conn: ChannelModel; ch: Channel } | undefined;

async function adminChannel(): Promise<Channel> {
  if (admin === undefined) {
    const conn = await connect(amqpUrl());
    admin = { conn, ch: await conn.createChannel() };
  }
  return admin.ch;
}

after(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  if (admin !== undefined) {
    for (const q of queues) await admin.ch.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) await admin.ch.deleteExchange(e).catch(() => undefined);
    await admin.conn.close().catch(() => undefined);
  }
});

function track<T extends Sink | Source>(x: T): T {
  closers.push(() => x.close());
  return x;
}

function exchangeName(prefix: string): string {
  const e = uniqueName(`herald-test-${prefix}`);
  exchanges.push(e);
  return e;
}

/** A queue bound to `exchange` with `pattern`, deleted after the tests. */
async function boundQueue(exchange: string, pattern: string): Promise<string> {
  const ch = await adminChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const q = uniqueName('herald-test-q');
  queues.push(q);
  await ch.assertQueue(q, { durable: false });
  await ch.bindQueue(q, exchange, pattern);
  return q;
}

/** Closes the connections RabbitMQ shows with this connection_name. */
async function dropConnections(connectionName: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'pid', 'client_properties']);
  // Lines: `<rabbit@host.1.2.3>\t[{"connection_name","NAME"},...]`; close_connection takes that pid form.
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split('\t')[0]!.trim());
  for (const pid of pids) await run('rabbitmqctl', ['-q', 'close_connection', pid, 'herald test: dropped on purpose']);
  return pids.length;
}

function msg(eventId: string, topic: string, value: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { eventId, topic, value: Buffer.from(value), ...extra };
}

async function getOne(queue: string): Promise<import('amqplib').GetMessage> {
  const ch = await adminChannel();
  return waitForValue(`a message on ${queue}`, async () => {
    const m = await ch.get(queue, { noAck: true });
    return m === false ? undefined : m;
  }, 5_000, 100);
}

test('confirmed messages arrive at a bound queue: persistent, routing key, messageId, content type, cloudEvents_ headers', async () => {
  const exchange = exchangeName('arrive');
  const q = await boundQueue(exchange, 'cloud.#');
  const sink = track(await sinkFor({ name: 'amqp1', type: 'amqp', url: amqpUrl(), exchange }, deps));
  const outcomes = await sink.publish([
    msg('ev-1', 'cloud.ActionEvent.VM-CREATE', '{"a":1}', {
      ceAttributes: { specversion: '1.0', type: 'com.example.created', source: '/herald', id: 'ev-1', datacontenttype: 'application/json' },
      headers: { 'x-tenant': 't1' },
    }),
  ]);
  assert.deepEqual(outcomes, [{ ok: true }]);
  assert.equal(sink.connected, true);
  const m = await getOne(q);
  assert.equal(m.fields.routingKey, 'cloud.ActionEvent.VM-CREATE');
  assert.equal(m.fields.exchange, exchange);
  assert.equal(m.properties.deliveryMode, 2);
  assert.equal(m.properties.messageId, 'ev-1');
  assert.equal(m.properties.contentType, 'application/json');
  assert.equal(typeof m.properties.timestamp, 'number');
  const h = m.properties.headers as Record<string, unknown>;
  assert.equal(String(h.cloudEvents_type), 'com.example.created');
  assert.equal(String(h.cloudEvents_specversion), '1.0');
  assert.equal(String(h.cloudEvents_id), 'ev-1');
  assert.equal(String(h['x-tenant']), 't1');
  assert.equal(h.cloudEvents_datacontenttype, undefined, 'datacontenttype travels as the content-type property');
  assert.equal(m.content.toString(), '{"a":1}');
});

test('an unroutable message (no queue bound for its key) is not reported ok; routable ones in the same batch are', async () => {
  const exchange = exchangeName('unroutable');
  await boundQueue(exchange, 'bound.*');
  const sink = track(await sinkFor({ name: 'amqp2', type: 'amqp', url: amqpUrl(), exchange }, deps));
  const outcomes = await sink.publish([msg('u1', 'bound.x', '1'), msg('u2', 'nobody.listens', '2'), msg('u3', 'bound.y', '3')]);
  assert.equal(outcomes.length, 3);
  assert.deepEqual(outcomes[0], { ok: true });
  assert.deepEqual(outcomes[2], { ok: true });
  const o = outcomes[1]!;
  assert.ok(!o.ok);
  assert.equal(o.permanent, true);
  assert.equal(o.error.code, 'BROKER_REJECTED');
  assert.match(o.error.message, /unroutable.*nobody\.listens/);
});

test('the source receives what its binding selects, with string headers, and acks', async () => {
  const exchange = exchangeName('source');
  const source = track(createAmqpSource({ url: amqpUrl(), exchange, binding: 'a.*', connectionName: uniqueName('herald-test-src') }));
  const got = take(source, 1);
  const sink = track(await sinkFor({ name: 'amqp3', type: 'amqp', url: amqpUrl(), exchange }, deps));
  // The source's queue is bound once it is connected; until then the message is unroutable.
  let ok = false;
  await waitFor('the source\'s queue to be bound (the message to be routable)', async () => {
    const [o] = await sink.publish([msg('s1', 'a.x', 'hello', { contentType: 'text/plain', ceAttributes: { type: 't.x' } })]);
    ok = o!.ok;
    return ok;
  }, 5_000, 100);
  assert.ok(ok);
  // Not selected by the binding: unroutable, never delivered to the source.
  const [other] = await sink.publish([msg('s2', 'b.x', 'other')]);
  assert.equal(other!.ok, false);
  const [m] = await got;
  assert.ok(m !== undefined);
  assert.equal(m.topic, 'a.x');
  assert.equal(m.value!.toString(), 'hello');
  assert.equal(m.headers['content-type'], 'text/plain');
  assert.equal(m.headers.cloudEvents_type, 't.x');
  assert.equal(m.headers['message-id'], 's1');
  assert.equal(typeof m.timestamp, 'number');
});

test('a dropped connection mid-stream: the sink reconnects and publishes again; the source (named queue) resumes', async () => {
  const exchange = exchangeName('drop');
  const queue = uniqueName('herald-test-named');
  queues.push(queue);
  const sinkName = uniqueName('drop').replace(/[^A-Za-z0-9_.-]/g, '');
  const srcConn = uniqueName('herald-test-src-drop');
  const sink = track(await sinkFor({ name: sinkName, type: 'amqp', url: amqpUrl(), exchange, timeoutMs: 5000 }, deps));
  const source = track(createAmqpSource({ url: amqpUrl(), exchange, binding: 'drop.#', queue, connectionName: srcConn }));
  const seen: number[] = [];
  const reader = (async () => {
    for await (const m of source.messages()) {
      seen.push(Number(m.value!.toString()));
      await m.ack();
    }
  })();
  const publishUntilOk = (i: number): Promise<void> =>
    waitFor(`event ${i} to be published`, async () => {
      try {
        return (await sink.publish([msg(`d${i}`, 'drop.events', String(i))]))[0]!.ok;
      } catch {
        return false; // rejected while the connection is down: the outbox would retry, so does the test
      }
    }, 20_000, 200).catch(() => assert.fail(`event ${i} was never published`));
  const waitSeen = (n: number): Promise<void> =>
    waitFor(`the source to have seen ${n} distinct events`, () => new Set(seen).size >= n, 15_000, 100);

  for (let i = 0; i < 3; i++) await publishUntilOk(i);
  await waitSeen(3);
  assert.deepEqual([...new Set(seen)], [0, 1, 2]);

  assert.equal(await dropConnections(`herald-sink-${sinkName}`), 1, 'the sink connection was found and closed');
  assert.equal(await dropConnections(srcConn), 1, 'the source connection was found and closed');
  await waitFor('the sink to notice the dropped connection', () => !sink.connected, 5_000, 100);
  assert.equal(sink.connected, false, 'the sink noticed the dropped connection');

  for (let i = 3; i < 8; i++) await publishUntilOk(i);
  assert.equal(sink.connected, true);
  await waitSeen(8);
  await source.close();
  await reader;
  // The named durable queue kept what arrived while the source was reconnecting.
  assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('wrong credentials: BROKER_AUTH, and the password never appears in the message', async () => {
  const url = amqpUrl().replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:n0tTheRightPassw0rd@');
  const sink = await sinkFor({ name: 'badauth', type: 'amqp', url, timeoutMs: 5000 }, deps);
  try {
    await assert.rejects(sink.connect(), (err: unknown) => {
      assert.ok(isHeraldError(err));
      assert.equal(err.code, 'BROKER_AUTH');
      assert.doesNotMatch(err.message, /n0tTheRightPassw0rd/);
      assert.match(err.message, /:\[REDACTED\]@/);
      return true;
    });
  } finally {
    await sink.close();
  }
});

test('an unreachable broker: publish rejects with BROKER_UNAVAILABLE naming the URL without its password', async () => {
  const sink = await sinkFor({ name: 'down', type: 'amqp', url: 'amqp://guest:hidden-pass-42@127.0.0.1:1', timeoutMs: 3000 }, deps);
  try {
    await assert.rejects(sink.publish([msg('x', 'a.b', 'v')]), (err: unknown) => {
      assert.ok(isHeraldError(err));
      assert.equal(err.code, 'BROKER_UNAVAILABLE');
      assert.match(err.message, /amqp:\/\/guest:\[REDACTED\]@127\.0\.0\.1:1/);
      assert.doesNotMatch(err.message, /hidden-pass-42/);
      return true;
    });
    assert.equal(sink.connected, false);
  } finally {
    await sink.close();
  }
});
