/**
 * The NATS sink and source against the shared NATS server (JetStream enabled): acknowledged
 * and stored JetStream publishes, de-duplication by Nats-Msg-Id, per-subject order, error
 * outcomes, core NATS fire-and-forget, and credential redaction.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { sinkFor } from '../helpers/sinks.js';
import { createNatsSource } from '../../src/transports/nats/source.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import type { ReceivedMessage, Source } from '../../src/transports/types.js';
import { take } from '../helpers/sources.js';
import type { Sink } from '../../src/transports/types.js';
import { isHeraldError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { natsUrl, uniqueName } from '../helpers/env.js';

const deps = { logger: silentLogger };
const streams: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
let admin: NatsConnection | undefined;

async function adminConn(): Promise<NatsConnection> {
  admin ??= await connect({ servers: natsUrl().replace(/^nats:\/\//, '') });
  return admin;
}

after(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  if (admin !== undefined) {
    const jsm = await admin.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await admin.close();
  }
});

function track<T extends Sink | Source>(x: T): T {
  closers.push(() => x.close());
  return x;
}

/** A stream name and a subject prefix unique to one test. */
function names(prefix: string): { stream: string; base: string } {
  const id = uniqueName(prefix).replace(/[^A-Za-z0-9]/g, '_');
  streams.push(id);
  return { stream: id, base: `herald_test.${id}` };
}

function msg(eventId: string, topic: string, value: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { eventId, topic, value: Buffer.from(value), contentType: 'application/json', ...extra };
}

test('JetStream: publishes are acknowledged and stored with content-type, headers and Nats-Msg-Id', async () => {
  const { stream, base } = names('js-store');
  const sink = track(await sinkFor({ name: 'js1', type: 'nats', url: natsUrl(), createStream: true, stream, subjects: [`${base}.>`] }, deps));
  const outcomes = await sink.publish([
    msg('e1', `${base}.a`, '{"n":1}', { headers: { 'x-trace': 't1' } }),
    msg('e2', `${base}.b`, '{"n":2}', { ceAttributes: { type: 'com.example.test' } }),
  ]);
  assert.deepEqual(outcomes, [{ ok: true }, { ok: true }]);
  assert.equal(sink.connected, true);
  const jsm = await (await adminConn()).jetstreamManager();
  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, 2);
  const m1 = await jsm.streams.getMessage(stream, { seq: 1 });
  assert.equal(m1.subject, `${base}.a`);
  assert.equal(Buffer.from(m1.data).toString(), '{"n":1}');
  assert.equal(m1.header.get('content-type'), 'application/json');
  assert.equal(m1.header.get('x-trace'), 't1');
  assert.equal(m1.header.get('Nats-Msg-Id'), 'e1');
  const m2 = await jsm.streams.getMessage(stream, { seq: 2 });
  assert.equal(m2.header.get('ce-type'), 'com.example.test');
});

test('JetStream: a retried event with the same id is stored once; several messages of one event get distinct ids', async () => {
  const { stream, base } = names('js-dedup');
  const sink = track(await sinkFor({ name: 'js2', type: 'nats', url: natsUrl(), createStream: true, stream, subjects: [`${base}.>`] }, deps));
  const batch = [msg('ev-1', `${base}.leave`, 'a'), msg('ev-1', `${base}.enter`, 'b'), msg('ev-1', `${base}.list`, 'c')];
  assert.deepEqual(await sink.publish(batch), [{ ok: true }, { ok: true }, { ok: true }]);
  // The outbox retries the whole event after, e.g., a lost acknowledgement.
  assert.deepEqual(await sink.publish(batch), [{ ok: true }, { ok: true }, { ok: true }]);
  const jsm = await (await adminConn()).jetstreamManager();
  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, 3, 'the retry was de-duplicated');
  const ids = [];
  for (let seq = 1; seq <= 3; seq++) ids.push((await jsm.streams.getMessage(stream, { seq })).header.get('Nats-Msg-Id'));
  assert.deepEqual(ids, ['ev-1', 'ev-1:1', 'ev-1:2']);
});

test('JetStream: per-subject order holds for a stream of events, read back by the source from the beginning', async () => {
  const { stream, base } = names('js-order');
  const sink = track(await sinkFor({ name: 'js3', type: 'nats', url: natsUrl(), createStream: true, stream, subjects: [`${base}.>`] }, deps));
  const keys = ['k0', 'k1', 'k2', 'k3'];
  const sent: OutgoingMessage[] = [];
  for (let i = 0; i < 400; i++) sent.push(msg(`o-${i}`, `${base}.${keys[i % 4]}`, String(i)));
  // Two batches, the second published while nothing of the first is awaited by the caller.
  const [a, b] = await Promise.all([sink.publish(sent.slice(0, 200)), sink.publish(sent.slice(200))]);
  assert.ok([...a, ...b].every((o) => o.ok));
  const source = track(createNatsSource({ url: natsUrl(), subjects: [`${base}.>`], stream, from: 'beginning' }));
  const got = await take(source, 400);
  assert.equal(got.length, 400);
  for (const k of keys) {
    const seen = got.filter((m) => m.topic === `${base}.${k}`).map((m) => Number(m.value!.toString()));
    const expected = sent.filter((m) => m.topic === `${base}.${k}`).map((m) => Number(m.value!.toString()));
    assert.deepEqual(seen, expected, `order of ${k}`);
  }
});

test('JetStream: no stream for the subject is a transient failure naming the subject; too large is permanent', async () => {
  const { base } = names('js-nostream');
  const sink = track(await sinkFor({ name: 'js4', type: 'nats', url: natsUrl(), timeoutMs: 3000 }, deps));
  const [o] = await sink.publish([msg('n1', `${base}.x`, 'v')]);
  assert.ok(o !== undefined && !o.ok);
  assert.equal(o.permanent, false);
  assert.match(o.error.message, new RegExp(`no JetStream stream captures subject ${base}\\.x`));
  const huge = Buffer.alloc(8 * 1024 * 1024, 1);
  const [big] = await sink.publish([{ eventId: 'n2', topic: `${base}.x`, value: huge }]);
  assert.ok(big !== undefined && !big.ok);
  assert.equal(big.permanent, true);
  assert.equal(big.error.code, 'BROKER_REJECTED');
});

test('core NATS: fire-and-forget publish reaches a subscriber, with its headers', async () => {
  const { base } = names('core');
  const subject = `${base}.events`;
  const source = track(createNatsSource({ url: natsUrl(), subjects: [`${base}.*`] }));
  const it = source.messages()[Symbol.asyncIterator]();
  const sink = track(await sinkFor({ name: 'core1', type: 'nats', url: natsUrl(), jetstream: false }, deps));
  // The core subscription exists once the source's connection is up; publish until it sees one.
  let first: ReceivedMessage | undefined;
  const next = it.next();
  for (let i = 0; i < 50 && first === undefined; i++) {
    assert.deepEqual(await sink.publish([msg(`c${i}`, subject, 'hello', { headers: { 'x-a': 'b' } })]), [{ ok: true }]);
    first = await Promise.race([next.then((r) => r.value as ReceivedMessage), new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
  }
  assert.ok(first !== undefined, 'the subscriber received a message');
  assert.equal(first.topic, subject);
  assert.equal(first.value!.toString(), 'hello');
  assert.equal(first.headers['content-type'], 'application/json');
  assert.equal(first.headers['x-a'], 'b');
  assert.equal(first.headers['Nats-Msg-Id'], undefined, 'core publishes carry no JetStream id');
});

test('a connection failure names the server with the password redacted', async () => {
  const sink = await sinkFor({ name: 'bad', type: 'nats', url: 'nats://alice:s3cretPassw0rd@127.0.0.1:1', timeoutMs: 2000 }, deps);
  try {
    await assert.rejects(sink.publish([msg('x', 'herald_test.x', 'v')]), (err: unknown) => {
      assert.ok(isHeraldError(err));
      assert.equal(err.code, 'BROKER_UNAVAILABLE');
      assert.match(err.message, /nats:\/\/alice:\[REDACTED\]@127\.0\.0\.1:1/);
      assert.doesNotMatch(err.message, /s3cretPassw0rd/);
      return true;
    });
    assert.equal(sink.connected, false);
  } finally {
    await sink.close();
  }
});

test('JetStream with createStream: a stream deleted under a running sink is created again, so the retry succeeds', async () => {
  const { stream, base } = names('js-recreate');
  const sink = track(await sinkFor({ name: 'js5', type: 'nats', url: natsUrl(), createStream: true, stream, subjects: [`${base}.>`], timeoutMs: 3000 }, deps));
  assert.deepEqual(await sink.publish([msg('r1', `${base}.a`, '1')]), [{ ok: true }]);
  const jsm = await (await adminConn()).jetstreamManager();
  await jsm.streams.delete(stream);
  const [failed] = await sink.publish([msg('r2', `${base}.a`, '2')]);
  assert.ok(failed !== undefined && !failed.ok && !failed.permanent, 'transient while the stream is missing');
  assert.deepEqual(await sink.publish([msg('r2', `${base}.a`, '2')]), [{ ok: true }]);
  assert.equal((await jsm.streams.info(stream)).state.messages, 1);
});
