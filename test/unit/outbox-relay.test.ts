/**
 * The relay loop against a real SQLite store and a tiny in-memory sink whose failures the
 * test scripts (a unit test of ordering, retry and parking decisions; the broker tests in
 * test/integration use real Kafka).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { silentLogger } from '../../src/log.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import { createBindings } from '../../src/delivery/binding.js';
import { destinationOf } from '../../src/outbox/relay.js';
import { outboxSchema } from '../../src/outbox/schema.js';
import { DurableHandover } from '../../src/pipeline/durable-handover.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { outboxTables } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';
import type { PublishOutcome, Sink } from '../../src/transports/types.js';
import { openStore } from '../../src/store/index.js';
import type { EventStore } from '../../src/store/types.js';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.js';
import type { SinkConfig } from '../../src/config/schema.js';

type Behaviour = (m: OutgoingMessage, sinkName: string) => PublishOutcome | 'reject' | 'hang';

/** Records what it was asked to publish; `behaviour` decides each message's outcome. */
class ScriptedSink implements Sink {
  readonly type = 'kafka' as const;
  connected = false;
  readonly sent: OutgoingMessage[] = [];
  constructor(readonly name: string, private readonly behaviour: () => Behaviour) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    const b = this.behaviour();
    // Like a Kafka partition: after a transient failure of key K, later messages of K in the
    // same request fail too (the Sink contract: same-key messages are written in order).
    const failedKeys = new Set<string | undefined>();
    const outcomes = messages.map((m) => {
      if (failedKeys.has(m.key)) return { ok: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', 'earlier record of the partition failed') } as PublishOutcome;
      const o = b(m, this.name);
      if (typeof o === 'object' && !o.ok && !o.permanent) failedKeys.add(m.key);
      return o;
    });
    if (outcomes.includes('hang')) {
      await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
    }
    if (outcomes.includes('reject')) {
      this.connected = false;
      throw new HeraldError('BROKER_UNAVAILABLE', 'connection refused');
    }
    this.connected = true;
    const out = outcomes as PublishOutcome[];
    messages.forEach((m, i) => { if (out[i]!.ok) this.sent.push(m); });
    return out;
  }
  async close(): Promise<void> {}
}

const OK: PublishOutcome = { ok: true };

async function setup(t: import('node:test').TestContext, sinks: SinkConfig[], behaviours: Record<string, () => Behaviour>, extra: Partial<Parameters<typeof createOutbox>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-outbox-unit-'));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`);
  await store.migrate([outboxSchema]);
  const made: Record<string, ScriptedSink> = {};
  const outbox = await createOutbox({
    store,
    bindings: createBindings(sinks),
    streaming: true,
    logger: silentLogger,
    registry: new Registry(),
    relay: { idleMs: 10, backoff: { baseMs: 5, maxMs: 40 }, leaseRefreshMs: 500 },
    createSink: (b) => (made[b.name] = new ScriptedSink(b.name, behaviours[b.name]!)),
    ...extra,
  });
  ingests.set(outbox, new Ingest({ handover: new DurableHandover(store, outbox) }));
  t.after(async () => {
    await outbox.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, outbox, made, dir };
}

const ingests = new WeakMap<Outbox, Ingest>();

/** Ingests events as every entry point does: stored with their outbox entries, relays woken. */
async function append(_store: EventStore, outbox: Outbox, events: HeraldEvent[]) {
  await ingests.get(outbox)!.events(events);
}

const kafka = (name: string, extra: Partial<Extract<SinkConfig, { type: 'kafka' }>> = {}): SinkConfig => ({ name, type: 'kafka', brokers: ['127.0.0.1:1'], ...extra });

const ev = (i: number, key: string) => createEvent({ id: `ev-${i}`, source: 'test', type: 't.x', partitionkey: key, data: { i } });

const order = (sent: OutgoingMessage[], key: string) => sent.filter((m) => m.key === key).map((m) => m.eventId);

test('per-key order holds while one key fails transiently; other keys flow; everything arrives', async (t) => {
  // Key K fails for its first 5 publish attempts of ev-0; then the broker accepts it.
  let kFailures = 0;
  const { store, outbox, made } = await setup(t, [kafka('main', { batchSize: 7 })], {
    main: () => (m) => {
      if (m.eventId === 'ev-0' && kFailures < 5) {
        kFailures++;
        return { ok: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', 'NOT_LEADER_OR_FOLLOWER') };
      }
      return OK;
    },
  });
  const events: HeraldEvent[] = [];
  for (let i = 0; i < 60; i++) events.push(ev(i, ['K', 'L', 'M'][i % 3]!));
  await append(store, outbox, events);
  await outbox.drain(10_000);
  const sent = made.main!.sent;
  for (const key of ['K', 'L', 'M']) {
    const ids = order(sent, key);
    const firsts = [...new Set(ids)];
    const expected = events.filter((e) => e.partitionkey === key).map((e) => e.id);
    assert.deepEqual(firsts, expected, `order of ${key}`);
  }
  // L and M were not held back: their first event went out before K's first did.
  assert.ok(sent.findIndex((m) => m.key === 'L') < sent.findIndex((m) => m.key === 'K'));
  const [status] = await outbox.status();
  assert.equal(status!.pending, 0);
  assert.equal(status!.delivered, 60);
  assert.ok(status!.failed >= 5, `failed ${status!.failed}`);
  assert.ok(status!.retries >= 1);
});

test('a poison message is parked with its error and does not block the rest', async (t) => {
  let poison = true;
  const { store, outbox, made } = await setup(t, [kafka('main')], {
    main: () => (m) => (poison && m.eventId === 'ev-3' ? { ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', 'MESSAGE_TOO_LARGE') } : OK),
  });
  await append(store, outbox, Array.from({ length: 10 }, (_, i) => ev(i, i % 2 === 0 ? 'A' : 'B')));
  await outbox.drain(10_000);
  const [s] = await outbox.status();
  assert.equal(s!.parked, 1);
  assert.equal(s!.pending, 0);
  assert.equal(s!.delivered, 9);
  assert.match(s!.lastError ?? '', /MESSAGE_TOO_LARGE/);
  assert.deepEqual(order(made.main!.sent, 'B'), ['ev-1', 'ev-5', 'ev-7', 'ev-9']);
  const parked = await outboxTables(store).selectFrom('herald_outbox').selectAll().execute();
  assert.equal(parked.length, 1);
  assert.equal(parked[0]!.event_id, 'ev-3');
  assert.equal(parked[0]!.status, 'parked');
  const listed = await outbox.parked('main');
  assert.deepEqual(listed.map((p) => [p.eventId, p.error]), [['ev-3', 'MESSAGE_TOO_LARGE']]);
  // Once the cause is fixed (here: the sink accepts everything again), a requeue delivers it.
  poison = false;
  assert.equal(await outbox.requeueParked('main'), 1);
  await outbox.drain(10_000);
  const [after] = await outbox.status();
  assert.equal(after!.parked, 0);
  assert.equal(after!.delivered, 10);
});

test('a sink down for a while: backoff, nothing lost, status says failing, then recovers', async (t) => {
  let down = true;
  const { store, outbox, made } = await setup(t, [kafka('main', { batchSize: 3 })], { main: () => () => (down ? 'reject' : OK) });
  await append(store, outbox, Array.from({ length: 20 }, (_, i) => ev(i, `k${i % 4}`)));
  await waitFor('the sink to be reported failing', async () => /connection refused/.test((await outbox.status())[0]!.lastError ?? ''));
  let [s] = await outbox.status();
  assert.equal(s!.connected, false);
  assert.equal(s!.pending, 20);
  assert.match(s!.lastError ?? '', /connection refused/);
  assert.ok(s!.oldestPendingAgeSeconds !== null);
  down = false;
  await outbox.drain(10_000);
  [s] = await outbox.status();
  assert.equal(s!.connected, true);
  assert.equal(s!.delivered, 20);
  assert.equal(new Set(made.main!.sent.map((m) => m.eventId)).size, 20);
  const metrics = await outbox.registry.metrics();
  assert.match(metrics, /herald_outbox_delivered_total\{sink="main"\} 20/);
  assert.match(metrics, /herald_outbox_pending\{sink="main"\} 0/);
});

test('sinks are isolated: a hung sink does not hold up a healthy one, and close() is bounded', async (t) => {
  const { store, outbox, made } = await setup(t, [kafka('hung', { timeoutMs: 300 }), kafka('ok')], {
    hung: () => () => 'hang',
    ok: () => () => OK,
  });
  await append(store, outbox, Array.from({ length: 50 }, (_, i) => ev(i, `k${i % 5}`)));
  await waitFor('the healthy sink to get all 50', () => made.ok!.sent.length >= 50, 10_000);
  assert.equal(made.ok!.sent.length, 50);
  await waitFor('the hung sink to be reported', async () => !(await outbox.status()).find((s) => s.name === 'hung')!.connected, 10_000);
  const hung = (await outbox.status()).find((s) => s.name === 'hung')!;
  assert.equal(hung.pending, 50);
  assert.equal(hung.connected, false);
  assert.match(hung.lastError ?? '', /did not finish within 300 ms/);
  const t0 = Date.now();
  await outbox.close();
  console.log(`close() with a hung sink took ${Date.now() - t0} ms`);
});

test('filters and disabled sinks: only matching sinks get outbox entries', async (t) => {
  const { store, outbox } = await setup(t, [kafka('all'), kafka('errors', { filter: { severities: ['error'] } }), kafka('off', { enabled: false })], {
    all: () => () => OK, errors: () => () => OK, off: () => () => OK,
  });
  await append(store, outbox, [createEvent({ source: 's', type: 't', severity: 'error' }), createEvent({ source: 's', type: 't' })]);
  await outbox.drain(5000);
  const byName = Object.fromEntries((await outbox.status()).map((s) => [s.name, s]));
  assert.equal(byName.all!.delivered, 2);
  assert.equal(byName.errors!.delivered, 1);
  assert.equal(byName.off!.enabled, false);
  assert.equal(byName.off!.delivered, 0);
});

test('streaming off: no relays, no outbox entries, sinks reported disabled', async (t) => {
  const { store, outbox, made } = await setup(t, [kafka('main')], { main: () => () => OK });
  await outbox.close();
  const off = await createOutbox({ store, bindings: createBindings([kafka('main')]), streaming: false, logger: silentLogger, createSink: () => { throw new Error('must not build sinks'); } });
  t.after(() => off.close());
  await new Ingest({ handover: new DurableHandover(store, off) }).events([ev(1, 'k')]);
  const rows = await outboxTables(store).selectFrom('herald_outbox').selectAll().execute();
  assert.equal(rows.length, 0);
  const [s] = await off.status();
  assert.equal(s!.enabled, false);
  assert.equal(made.main!.sent.length, 0);
});

test('invalid sink settings refuse to start with the key named', () => {
  assert.throws(
    () => createBindings([kafka('a'), { name: 'bad', type: 'kafka', producerProperties: join(tmpdir(), 'no-such-herald.properties') }]),
    (err: HeraldError) => err.code === 'CONFIG' && err.exitCode === 2 && err.details.some((d) => d.path === 'sinks[1].producerProperties'),
  );
});

test('two relays on one SQLite file: one owns the sink, nothing is sent twice', async (t) => {
  const { store, outbox, made, dir } = await setup(t, [kafka('main', { batchSize: 5 })], { main: () => () => OK });
  const store2 = await openStore(`sqlite:${join(dir, 'h.db')}`);
  const second = new ScriptedSink('main', () => () => OK);
  const outbox2 = await createOutbox({ store: store2, bindings: createBindings([kafka('main', { batchSize: 5 })]), streaming: true, logger: silentLogger, relay: { idleMs: 10 }, createSink: () => second });
  t.after(async () => { await outbox2.close(); await store2.close(); });
  await append(store, outbox, Array.from({ length: 40 }, (_, i) => ev(i, `k${i % 3}`)));
  await outbox.drain(10_000);
  const all = [...made.main!.sent, ...second.sent].map((m) => m.eventId);
  assert.equal(all.length, 40, `sent ${all.length}`);
  assert.equal(new Set(all).size, 40);
  assert.ok(made.main!.sent.length === 0 || second.sent.length === 0, 'only one relay sends on SQLite');
});

test('profile.onStart: the aliecs empty list goes out when the relay starts, before any outbox entry, retried until it is', async (t) => {
  let down = 3;
  const { store, outbox, made } = await setup(t, [kafka('ecs', { profile: 'aliecs' })], {
    ecs: () => () => (down-- > 0 ? 'reject' : OK),
  });
  await append(store, outbox, [createEvent({ source: 's', type: 't', entity: { kind: 'environment', id: 'env1' } })]);
  await waitFor('the start-up list', () => made.ecs!.sent.length > 0, 10_000);
  assert.equal(made.ecs!.sent[0]!.topic, 'aliecs.env_list.RUNNING');
  // AliECS's Init sends the list without a key (AliceO2Group/Control core/integration/kafka/plugin.go, produceMessage).
  assert.equal(made.ecs!.sent[0]!.key, undefined);
});

test('timeout messages name where the sink sends, never its credentials', () => {
  assert.equal(destinationOf({ type: 'kafka', brokers: ['b1:9092', 'b2:9092'] }), 'b1:9092,b2:9092');
  assert.equal(destinationOf({ type: 'amqp', url: 'amqp://guest:s3cret@127.0.0.1:5672/vh' }), 'amqp://127.0.0.1:5672/vh');
  assert.equal(destinationOf({ type: 'nats', url: 'nats://tok3n@n1:4222,nats://n2:4222' }), 'nats://n1:4222,nats://n2:4222');
  assert.equal(destinationOf({ type: 'webhook', url: 'https://u:p4ss@hooks.example/in?token=t0ken#x' }), 'https://hooks.example/in');
  for (const c of [{ url: 'amqp://guest:s3cret@h' }, { url: 'nats://tok3n@n1:4222' }, { url: 'https://u:p4ss@h/p?token=t0ken' }, { url: 'not a url, user:pw@host?key=k3y' }, { url: 'amqp://u:pa/s3cret@h:5672' }]) {
    assert.doesNotMatch(destinationOf(c) ?? '', /s3cret|tok3n|p4ss|t0ken|pw|k3y/, JSON.stringify(c));
  }
  assert.equal(destinationOf({ type: 'x' }), undefined);
});
