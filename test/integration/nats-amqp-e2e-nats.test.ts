/**
 * End to end through the outbox to NATS JetStream:
 * - a real `herald serve` process (config file, SQLite store) with a choria NATS sink on the
 *   test's OWN nats-server (the shared one is never stopped): events POSTed to /v2/events arrive
 *   once each and in order per key, although the server is killed with -9 mid-stream and started
 *   again on the same store; the outbox keeps what it cannot deliver meanwhile;
 * - JetStream de-duplication through the outbox path: the same event queued twice
 *   (store.enqueue, as `herald replay` does) is stored once, thanks to Nats-Msg-Id.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { natsUrl, uniqueName } from '../helpers/env.js';
import { checkDelivery, freePort, postEvents, sinkStatus, startServe, startTestService, waitFor, type Received } from './outbox-helpers.js';
import { OwnNatsServer } from '../helpers/nats-server.js';
import { assertPublishedValid } from '../helpers/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-nats-e2e-'));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The test's own nats-server (JetStream, store in `storeDir`) on `port`; kill() is kill -9. */
class OwnNats extends OwnNatsServer {
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }
}

interface StoredMsg { seq: number; id: string; subject: string; msgId: string | undefined; body: Record<string, unknown> }

/**
 * Every message a stream holds, read by sequence number with a plain NATS client, each
 * validated against the schema Herald serves for `profile` (the streams of this test are its own).
 */
async function readStream(nc: NatsConnection, stream: string, profile: string): Promise<StoredMsg[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    let m;
    try {
      m = await jsm.streams.getMessage(stream, { seq });
    } catch {
      continue; // deleted sequence numbers (none expected)
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of m.header ?? []) headers[k] = v.join(', ');
    assertPublishedValid(profile, { transport: 'nats', topic: m.subject, value: Buffer.from(m.data), headers });
    const body = JSON.parse(Buffer.from(m.data).toString('utf8')) as Record<string, unknown>;
    out.push({ seq: m.seq, id: String(body.id), subject: m.subject, msgId: m.header?.get('Nats-Msg-Id') || undefined, body });
  }
  return out;
}

function choriaEvent(run: string, n: number, keys: number): { id: string; source: string; type: string; subject: string; data: Record<string, unknown> } {
  const identity = `${run}-node${n % keys}`;
  return {
    id: `${run}-${n}`,
    source: 'io.choria.lifecycle',
    type: 'io.choria.lifecycle.v1.startup',
    subject: identity,
    data: { identity, component: `comp${n % 3}`, version: `1.0.${n}` },
  };
}

test('herald serve → outbox → JetStream (choria): once each, in order per key, across a kill -9 and restart of the NATS server', async () => {
  const nats = new OwnNats(await freePort(), join(dir, 'nats-store'));
  await nats.start();
  cleanups.push(() => nats.kill());
  const stream = uniqueName('E2E').replace(/[^A-Za-z0-9_-]/g, '_');
  const sinkName = uniqueName('nats-e2e');
  const configFile = join(dir, 'herald.json');
  writeFileSync(configFile, JSON.stringify({
    store: { url: `sqlite:${join(dir, 'serve.db')}` },
    streaming: true,
    sinks: [{ name: sinkName, type: 'nats', url: nats.url, profile: 'choria', jetstream: true, createStream: true, stream, subjects: ['choria.>'], timeoutMs: 3000 }],
  }));
  const serve = await startServe({}, ['--config', configFile]);
  cleanups.push(() => serve.stop());

  const run = uniqueName('ch');
  const keys = 6;
  const sentByKey = new Map<string, string[]>();
  const all: string[] = [];
  let n = 0;
  const post = async (count: number): Promise<void> => {
    const events = Array.from({ length: count }, () => choriaEvent(run, n++, keys));
    const r = await postEvents(serve.base, events);
    assert.equal(r.status, 202, `POST /v2/events answered ${r.status}`);
    for (const e of events) {
      all.push(e.id);
      sentByKey.set(e.subject, [...(sentByKey.get(e.subject) ?? []), e.id]);
    }
  };

  // Phase 1: the server is up; some events are delivered.
  for (let i = 0; i < 4; i++) await post(25);
  await waitFor('the first events to be delivered', async () => ((await sinkStatus(serve.base))[0]?.delivered ?? 0) >= 50, 30_000);

  // Phase 2: kill -9 while a stream of events keeps coming in (some publishes are in flight).
  const beforeStream = all.length;
  const poster = (async () => {
    for (let i = 0; i < 6; i++) {
      await post(20);
      // A sleep, not a wait: it paces the stream at one batch per 50 ms.
      await sleep(50);
    }
  })();
  await waitFor('the stream to be under way (its first batch accepted)', () => all.length > beforeStream, 30_000, 10);
  await nats.kill();
  await poster;
  // While the server is down, accepted events stay in the outbox.
  await post(30);
  const down = (await sinkStatus(serve.base))[0]!;
  console.log('while NATS is down, GET /v2/sinks:', JSON.stringify(down));
  assert.ok(down.pending >= 30, `the outbox keeps the undeliverable events (pending ${down.pending})`);
  await waitFor('the sink to report the outage', async () => {
    const s = (await sinkStatus(serve.base))[0]!;
    return s.connected === false && s.lastError !== null;
  }, 30_000);

  // Phase 3: the same server (same store) comes back; more events arrive meanwhile.
  await nats.start();
  await post(40);
  await waitFor('the outbox to drain after the restart', async () => (await sinkStatus(serve.base))[0]!.pending === 0, 90_000);
  const status = (await sinkStatus(serve.base))[0]!;
  console.log('after the restart, GET /v2/sinks:', JSON.stringify(status));
  assert.equal(status.connected, true);
  assert.equal(status.parked, 0);

  const nc = await natsConnect({ servers: nats.url });
  cleanups.push(() => nc.close());
  const stored = await readStream(nc, stream, 'choria');
  const received: Received[] = stored.map((m) => ({ id: m.id, key: String(m.body.subject), partition: 0, offset: String(m.seq) }));
  const report = checkDelivery(received, sentByKey);
  console.log(`JetStream e2e: ${all.length} events accepted, ${stored.length} messages in stream ${stream}, duplicates seen: ${report.duplicates}, missing: ${report.missing.length}, keys out of order: ${report.orderViolations.length}, sink failed attempts: ${status.failed}, retries: ${status.retries}`);
  assert.deepEqual(report.missing, [], 'nothing lost');
  assert.deepEqual(report.orderViolations, [], 'per-key order');
  assert.equal(report.duplicates, 0, 'JetStream drops re-sent copies (Nats-Msg-Id)');
  assert.equal(stored.length, all.length);
  // What the consumers see: the choria CloudEvent on its lifecycle subject, with the event id as Nats-Msg-Id.
  const first = stored.find((m) => m.id === `${run}-1`)!;
  assert.equal(first.subject, 'choria.lifecycle.event.startup.comp1');
  assert.equal(first.msgId, `${run}-1`);
  assert.equal(first.body.type, 'io.choria.lifecycle.v1.startup');
  assert.deepEqual((first.body.data as Record<string, unknown>).version, '1.0.1');
  assert.ok(stored.every((m) => m.msgId === m.id), 'every message carries its event id as Nats-Msg-Id');

  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(stream);
});

test('JetStream de-duplication through the outbox: the same event queued twice is stored once', async (t) => {
  const stream = uniqueName('DEDUP').replace(/[^A-Za-z0-9_-]/g, '_');
  const topic = uniqueName('herald-e2e-dedup');
  const sinkName = uniqueName('nats-dedup');
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'dedup.db')}` },
    sinks: [{ name: sinkName, type: 'nats', url: natsUrl(), profile: 'cloudevents', topic, createStream: true, stream, subjects: [topic, `${topic}.>`] }],
  });
  const nc = await natsConnect({ servers: natsUrl() });
  t.after(async () => {
    await service.close();
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });
  const run = uniqueName('d');
  const events = [0, 1, 2].map((i) => ({ id: `${run}-${i}`, source: 'herald-test', type: 'dev.herald.test.dedup', entity: { kind: 'job', id: `j${i}` }, data: { i } }));
  const r = await postEvents(service.address, events);
  assert.equal(r.status, 202);
  await waitFor('the first delivery', async () => (await sinkStatus(service.address))[0]!.delivered === 3, 30_000);
  const jsm = await nc.jetstreamManager();
  assert.equal((await jsm.streams.info(stream)).state.messages, 3);

  // A retried event: the same stored event queued for the sink again (what herald replay does,
  // and what a relay does after a lost acknowledgement). The relay publishes it again, and the
  // stream, which sees the same Nats-Msg-Id within its duplicate window, keeps one copy.
  const requeue = async (id: string, copies: number): Promise<void> => {
    const seq = await service.store.seqOf(id);
    const event = await service.store.get(id);
    assert.ok(seq !== undefined && event !== undefined);
    assert.equal(await service.pipeline.outbox.requeue(sinkName, Array.from({ length: copies }, () => ({ seq, event }))), copies);
  };
  await requeue(`${run}-1`, 1);
  await waitFor('the re-sent copy to be acknowledged', async () => {
    const s = (await sinkStatus(service.address))[0]!;
    return s.delivered === 4 && s.pending === 0;
  }, 30_000);
  let info = await jsm.streams.info(stream);
  console.log(`dedup: 4 publishes acknowledged (3 events + 1 re-send), stream ${stream} holds ${info.state.messages} messages`);
  assert.equal(info.state.messages, 3);
  // Two entries of one event in the same relay batch (a replay queued twice, or while the
  // original was still pending): both copies carry the event id, so the stream keeps one.
  await requeue(`${run}-2`, 2);
  await waitFor('the two re-sent copies to be acknowledged', async () => {
    const s = (await sinkStatus(service.address))[0]!;
    return s.delivered === 6 && s.pending === 0;
  }, 30_000);
  info = await jsm.streams.info(stream);
  console.log(`dedup: 6 publishes acknowledged (3 events + 3 re-sends), stream ${stream} holds ${info.state.messages} messages`);
  assert.equal(info.state.messages, 3);
  const stored = await readStream(nc, stream, 'cloudevents');
  assert.deepEqual(stored.map((m) => m.id), events.map((e) => e.id));
  assert.deepEqual(stored.map((m) => m.msgId), events.map((e) => e.id));

  // Control: a new event id is stored, so the count above is de-duplication, not a stalled stream.
  const r2 = await postEvents(service.address, [{ id: `${run}-3`, source: 'herald-test', type: 'dev.herald.test.dedup', data: { i: 3 } }]);
  assert.equal(r2.status, 202);
  await waitFor('the control event', async () => (await sinkStatus(service.address))[0]!.delivered === 7, 30_000);
  assert.equal((await jsm.streams.info(stream)).state.messages, 4);
});
