/**
 * Group commit and hand-off of the durable pipeline, on SQLite and PostgreSQL:
 * - concurrent durable ingests share one transaction (the commits are counted at the store and
 *   by herald_ingest_commits_total), and each caller resolves only once the transaction that
 *   holds its own events has committed (a commit held back holds its callers back);
 * - an error in a shared transaction fails only the callers whose events fail (a refused
 *   event: the others are retried alone and stored) or, for a store outage, every caller of
 *   that transaction and none of another — never resolving a caller whose event did not commit;
 * - the committed entries reach the sink from memory, in order per key, and the outbox ends empty.
 * The sink is an in-memory recorder (the Kafka paths are covered by the durable-* tests).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { HeraldError } from '../../src/errors.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import type { EventStore } from '../../src/store/types.js';
import type { PublishOutcome, Sink } from '../../src/transports/types.js';
import { uniqueName } from '../helpers/env.js';
import { openTestPipeline, outboxTables, TEST_DIALECTS, type TestPipeline } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/** Records what it was asked to publish; every message is acknowledged (once `gate`, when set, opens). */
class RecordingSink implements Sink {
  readonly type = 'kafka';
  connected = false;
  readonly sent: OutgoingMessage[] = [];
  gate: Promise<void> | undefined;
  constructor(readonly name: string) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (this.gate !== undefined) await this.gate;
    this.sent.push(...messages);
    return messages.map(() => ({ ok: true }));
  }
  async close(): Promise<void> {}
}

/** A store whose append (one call = one transaction) is counted, can be held back, and can be made to fail. */
interface Probe {
  /** Appends begun (held at the gate or not) and committed. */
  started: number;
  commits: number;
  /** Ids of every event whose append has committed. */
  committed: Set<string>;
  /** While set, appends wait for it before writing. */
  gate: Promise<void> | undefined;
  /** Decides a failure for an append of these events (before anything is written). */
  fail: ((events: readonly HeraldEvent[]) => Error | undefined) | undefined;
}

function probe(store: EventStore): Probe {
  const p: Probe = { started: 0, commits: 0, committed: new Set(), gate: undefined, fail: undefined };
  const append = store.append.bind(store);
  store.append = async (events, options) => {
    p.started += 1;
    if (p.gate !== undefined) await p.gate;
    const err = p.fail?.(events);
    if (err !== undefined) throw err;
    const r = await append(events, options);
    p.commits += 1;
    for (const e of events) p.committed.add(e.id);
    return r;
  };
  return p;
}

async function setup(dialect: (typeof TEST_DIALECTS)[number], label: string, relay: { idleMs?: number; maxHanded?: number } = {}): Promise<TestPipeline & { sink: RecordingSink; registry: Registry; p: Probe }> {
  const sink = new RecordingSink('rec');
  const registry = new Registry();
  const t = await openTestPipeline(dialect, label, {
    sinks: [{ name: 'rec', type: 'kafka', brokers: ['127.0.0.1:1'] }],
    registry,
    relay: { idleMs: 60_000, ...relay },
    createSink: () => sink,
  });
  return { ...t, sink, registry, p: probe(t.store) };
}

const input = (run: string, i: number, key = `k${i % 5}`) => ({ id: `${run}-${i}`, source: 'group-commit-test', type: 'com.example.tick', entity: { kind: 'cluster', id: key }, data: { i } });

async function counterValue(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.reduce((s, v) => s + v.value, 0);
}
const commitsMetric = (registry: Registry) => counterValue(registry, 'herald_ingest_commits_total');
const tableReads = (registry: Registry) => counterValue(registry, 'herald_outbox_table_reads_total');

/** Holds the sink's publishes until the returned function is called. */
function hold(sink: RecordingSink): () => void {
  let open!: () => void;
  sink.gate = new Promise<void>((r) => (open = r));
  return () => {
    sink.gate = undefined;
    open();
  };
}

for (const dialect of TEST_DIALECTS) {
  describe(`group commit (${dialect})`, () => {
    test('concurrent durable ingests share a transaction; each resolves only after its own commit; all are relayed in key order', async () => {
      const t = await setup(dialect, 'gc-share');
      try {
        const run = uniqueName('gc');
        const { p, pipeline } = t;
        // Wave 1 arrives in one tick; its transaction is held back until the gate opens.
        let open!: () => void;
        p.gate = new Promise<void>((r) => (open = r));
        const resolvedEarly: string[] = [];
        const check = (id: string, wave: number) => () => {
          // Resolved: its own transaction must have committed already.
          if (!p.committed.has(id)) resolvedEarly.push(id);
          return wave;
        };
        const wave1 = Array.from({ length: 40 }, (_, i) => pipeline.ingest.events(input(run, i)).then(check(`${run}-${i}`, 1)));
        await waitFor('the first transaction to start', () => p.started === 1, 5000, 5);
        // Wave 2 arrives while wave 1's transaction is being written: it goes into the next one.
        const wave2 = Array.from({ length: 40 }, (_, i) => pipeline.ingest.events(input(run, 40 + i)).then(check(`${run}-${40 + i}`, 2)));
        let settled = 0;
        for (const x of [...wave1, ...wave2]) void x.then(() => settled++, () => settled++);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(settled, 0, 'no caller may resolve while its transaction has not committed');
        assert.equal(p.commits, 0);
        assert.equal(p.started, 1, 'the second wave waits for the next transaction');
        p.gate = undefined;
        open();
        const waves = await Promise.all([...wave1, ...wave2]);
        assert.deepEqual(resolvedEarly, [], 'callers resolved before their events were committed');
        assert.deepEqual(waves, [...Array(40).fill(1), ...Array(40).fill(2)]);
        assert.equal(p.commits, 2, '80 concurrent ingests in two waves: two transactions');
        assert.equal(await commitsMetric(t.registry), 2);
        for (let i = 0; i < 80; i++) assert.ok(await t.store.get(`${run}-${i}`), `event ${i} stored`);

        // The relay gets them from memory (its poll is a minute here), in order per key.
        await waitFor('80 messages relayed', () => t.sink.sent.length >= 80, 20_000);
        const ids = t.sink.sent.map((m) => m.eventId);
        for (let k = 0; k < 5; k++) {
          const ofKey = ids.filter((id) => Number(id.split('-').pop()) % 5 === k).map((id) => Number(id.split('-').pop()));
          assert.deepEqual(ofKey, [...ofKey].sort((a, b) => a - b), `key k${k} in order`);
        }
        assert.equal(new Set(ids).size, 80, 'each event sent once');
        await waitFor('the outbox to be empty', async () => (await outboxTables(t.store).selectFrom('herald_outbox').select('seq').execute()).length === 0, 20_000);

        // Entries written without a hand-off (a replay's requeue) are read from the table at once
        // (notify), not at the next poll a minute later.
        const again = (await t.store.tail({}, 0, 1000)).filter((x) => x.event.id.startsWith(`${run}-`)).slice(0, 3);
        assert.equal(await pipeline.outbox.requeue('rec', again), 3);
        await waitFor('the 3 requeued entries relayed', () => t.sink.sent.length >= 83, 20_000);
        assert.deepEqual(t.sink.sent.slice(80).map((m) => m.eventId), again.map((x) => x.event.id));
      } finally {
        await t.dispose();
      }
    });

    test('a transaction that commits late is not overtaken by entries of its key handed after it', { skip: dialect === 'sqlite' ? 'SQLite runs one write transaction at a time: no transaction commits after a later one' : false }, async () => {
      const t = await setup(dialect, 'gc-late');
      try {
        const run = uniqueName('gcl');
        const { pipeline, sink } = t;
        // Its outbox seq is taken inside its transaction, which is then held open...
        let commitLate!: () => void;
        const late = new Promise<void>((r) => (commitLate = r));
        const append = t.store.append.bind(t.store);
        let hold = true;
        t.store.append = (events, options) => append(events, {
          ...options,
          within: async (tx, stored) => {
            await options?.within?.(tx, stored);
            if (hold) {
              hold = false;
              await late;
            }
          },
        });
        // ...while a state change of the same key (its own transaction, a higher seq) commits
        // first and reaches the sink, whose publish is held so that what follows queues up.
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const publish = sink.publish.bind(sink);
        let first = true;
        sink.publish = async (messages) => {
          if (first) {
            first = false;
            await held;
          }
          return publish(messages);
        };
        const a1 = pipeline.ingest.events({ id: `${run}-a1`, source: 'group-commit-test', type: 'com.example.tick', entity: { kind: 'environment', id: run } });
        await waitFor('the held transaction to start', () => !hold, 5000, 5);
        const change = await pipeline.ingest.state({ kind: 'environment', id: run, state: 'RUNNING' });
        assert.ok(change.events.length > 0, 'the state change announces itself');
        await waitFor('the state change at the sink', () => !first, 5000, 5);
        commitLate();
        await a1;
        await pipeline.ingest.events({ id: `${run}-a2`, source: 'group-commit-test', type: 'com.example.tick', entity: { kind: 'environment', id: run } });
        release();
        const expected = [...change.events.map((e) => e.id), `${run}-a1`, `${run}-a2`];
        await waitFor('every message relayed', () => sink.sent.length >= expected.length, 20_000);
        // a1 committed before a2 was accepted: it goes first, though a2 was handed over from memory.
        assert.deepEqual(sink.sent.map((m) => m.eventId), expected);
      } finally {
        await t.dispose();
      }
    });

    test('a relay pages behind goes on from memory; past maxHanded the rest comes from the table; every entry once, in commit order', async () => {
      // The relay polls the table every second (idleMs 1000). Before, a poll that found it a
      // page behind read the table until caught up, every later entry's event parsed back
      // from its JSON; now it compares seqs and goes on from memory.
      const t = await setup(dialect, 'gc-behind', { idleMs: 1000, maxHanded: 2500 });
      try {
        const run = uniqueName('gcb');
        const { pipeline, sink, registry } = t;
        await waitFor('the relay to start', async () => (await tableReads(registry)) >= 1, 10_000, 10);
        // 2,000 entries (4 pages) handed while the sink holds the first publish for 1.5 s,
        // so the poll is due when it lets go.
        const release = hold(sink);
        let n = 0;
        for (let b = 0; b < 10; b++) await pipeline.ingest.events(Array.from({ length: 200 }, () => input(run, n++)));
        await new Promise((r) => setTimeout(r, 1500));
        const readsBefore = await tableReads(registry);
        release();
        await waitFor('2,000 messages relayed', () => sink.sent.length >= 2000, 20_000, 2);
        assert.equal(await tableReads(registry), readsBefore, 'the 4 pages went from memory: no page was read back from the table');
        // Past maxHanded (2,500): 4,000 more while the sink is held; 2,500 stay in memory, the rest is left to the table.
        const release2 = hold(sink);
        for (let b = 0; b < 20; b++) await pipeline.ingest.events(Array.from({ length: 200 }, () => input(run, n++)));
        const readsHeld = await tableReads(registry);
        release2();
        await waitFor('6,000 messages relayed', () => sink.sent.length >= 6000, 30_000);
        assert.ok(await tableReads(registry) > readsHeld, 'what was left to the table was read from it');
        const ids = sink.sent.map((m) => Number(m.eventId.split('-').pop()));
        assert.equal(new Set(ids).size, 6000, 'each event sent once');
        assert.deepEqual(ids, Array.from({ length: 6000 }, (_, i) => i), 'in commit order, across memory and table');
        await waitFor('the outbox to be empty', async () => (await outboxTables(t.store).selectFrom('herald_outbox').select('seq').execute()).length === 0, 20_000);
      } finally {
        await t.dispose();
      }
    });

    test('a refused event in a shared transaction fails its caller only; a store outage fails every caller of its transaction', async () => {
      const t = await setup(dialect, 'gc-errors');
      try {
        const run = uniqueName('gce');
        const { p, pipeline } = t;
        const poison = `${run}-3`;
        p.fail = (events) => (events.some((e) => e.id === poison) ? new HeraldError('INVALID_EVENT', `the ${dialect} store refuses this data: test`) : undefined);
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => pipeline.ingest.events(input(run, i))));
        outcomes.forEach((o, i) => assert.equal(o.status, i === 3 ? 'rejected' : 'fulfilled', `caller ${i}`));
        assert.equal(((outcomes[3] as PromiseRejectedResult).reason as HeraldError).code, 'INVALID_EVENT');
        for (let i = 0; i < 10; i++) assert.equal((await t.store.get(`${run}-${i}`)) !== undefined, i !== 3, `event ${i} stored?`);

        // An outage: every caller of that transaction gets it, nothing of theirs is stored.
        p.fail = () => new HeraldError('STORE_UNAVAILABLE', 'event store append failed: test outage');
        const down = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => pipeline.ingest.events(input(run, 100 + i))));
        assert.ok(down.every((o) => o.status === 'rejected' && (o.reason as HeraldError).code === 'STORE_UNAVAILABLE'));
        for (let i = 0; i < 10; i++) assert.equal(await t.store.get(`${run}-${100 + i}`), undefined);
        p.fail = undefined;
        const back = await pipeline.ingest.events(input(run, 200));
        assert.equal(back.inserted, 1);
        await waitFor('10 messages relayed', () => t.sink.sent.length >= 10, 20_000);
        assert.equal(t.sink.sent.length, 10, 'the 9 stored events and the one after the outage');
      } finally {
        await t.dispose();
      }
    });
  });
}
