/**
 * One suite every store dialect passes: SQLite in a temporary file and PostgreSQL in a schema
 * of its own (the real server from test/helpers/env.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Migrator, sql } from 'kysely';
import { openStore, type EventQuery, type EventStore } from '../../src/store/index.js';
import { migrationProvider } from '../../src/store/migrations.js';
import { eventRow } from '../../src/store/sql-store.js';
import { deleteEventsBefore } from '../../src/outbox/housekeeping.js';
import { outboxSchema, type OutboxDb, type OutboxTables } from '../../src/outbox/schema.js';
import { fetchBatch } from '../../src/outbox/sql.js';
import { DurableHandover } from '../../src/pipeline/durable-handover.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { silentLogger } from '../../src/log.js';
import type { StateRequest } from '../../src/events/entity-states.js';
import { abilities as sqliteAbilities } from '../../src/store/dialects/sqlite/dialect.js';
import { abilities as postgresAbilities } from '../../src/store/dialects/postgres/dialect.js';
import { createEvent, ENTITY_EVENT_TYPES, SEVERITIES, type EntityListData, type EntityTransitionData, type HeraldEvent, type Severity } from '../../src/events/index.js';
import { pgUrl, uniqueName } from '../helpers/env.js';
import { appendTo, outboxOf } from '../helpers/stores.js';

interface Dialect {
  name: string;
  open(clock?: () => Date): Promise<EventStore>;
  cleanup(): Promise<void>;
}

const schemaName = () => uniqueName('store').replace(/-/g, '_');

const DIALECTS: Dialect[] = [
  (() => {
    let dir: string | undefined;
    return {
      name: 'sqlite',
      async open(clock) {
        dir ??= mkdtempSync(join(tmpdir(), 'herald-store-'));
        return openStore(`sqlite:${join(dir, uniqueName('db'), 'herald.db')}`, clock ? { clock } : {});
      },
      async cleanup() {
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  })(),
  (() => {
    const schemas: string[] = [];
    return {
      name: 'postgres',
      async open(clock) {
        const schema = schemaName();
        schemas.push(schema);
        return openStore(pgUrl(), { schema, ...(clock && { clock }) });
      },
      async cleanup() {
        const client = new pg.Client({ connectionString: pgUrl() });
        await client.connect();
        for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
        await client.end();
      },
    };
  })(),
];

/** State changes through the real ingest and durable hand-over, with entries for the sink `aliecs`. */
async function stateChanger(store: EventStore, watchedStates?: string[]) {
  const outbox = await outboxOf(store, ['aliecs']);
  const ingest = new Ingest({ handover: new DurableHandover(store, outbox), ...(watchedStates !== undefined && { watchedStates }) });
  return (r: StateRequest) => ingest.state(r);
}

/** The store's database with the outbox's tables. */
const ob = (store: EventStore): OutboxDb => store.db.withTables<OutboxTables>() as unknown as OutboxDb;

/** Retention's batched delete, as the outbox's housekeeping runs it. */
const retainBefore = (store: EventStore, iso: string) => deleteEventsBefore(store, Date.parse(iso), { pauseMs: 0 });

const ev = (over: Record<string, unknown> = {}): HeraldEvent =>
  createEvent({ source: 'test/src', type: 'com.example.thing', ...over });

const Q = { limit: 100, offset: 0, order: 'ascending' as const };

type Counts = Record<string, number>;
const countKey = (r: { source: string; type: string; entity_kind: string | null; severity: string }) =>
  `${r.source} ${r.type} ${r.entity_kind ?? ''} ${r.severity}`;
const sorted = (c: Counts): Counts => Object.fromEntries(Object.entries(c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** herald_event_counts as stored. */
async function countsTable(s: EventStore): Promise<Counts> {
  const rows = await s.db.selectFrom('herald_event_counts').selectAll().execute();
  return sorted(Object.fromEntries(rows.map((r) => [countKey(r), Number(r.n)])));
}

/** The same counts by a GROUP BY over herald_events. */
async function countsScanned(s: EventStore): Promise<Counts> {
  const rows = await s.db.selectFrom('herald_events')
    .select(['source', 'type', 'entity_kind', 'severity', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['source', 'type', 'entity_kind', 'severity'])
    .execute();
  const out: Counts = {};
  // NULL and '' kinds share a count key.
  for (const r of rows) out[countKey(r)] = (out[countKey(r)] ?? 0) + Number(r.n);
  return sorted(out);
}

/** Per-severity counts of a query (severities ignored) and its total, counted in JS. */
function bruteForce(events: readonly HeraldEvent[], q: Omit<EventQuery, 'limit' | 'offset' | 'order'>) {
  const severityCounts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const e of events) {
    if (q.source !== undefined && e.source !== q.source) continue;
    if (q.types !== undefined && q.types.length > 0 && !q.types.includes(e.type)) continue;
    if (q.entityKind !== undefined && e.entity?.kind !== q.entityKind) continue;
    if (q.entityIds !== undefined && q.entityIds.length > 0 && !q.entityIds.includes(e.entity?.id ?? '')) continue;
    if (q.message !== undefined && !(e.message ?? '').toLowerCase().includes(q.message.toLowerCase())) continue;
    if (q.since !== undefined && Date.parse(e.time) < Date.parse(q.since)) continue;
    if (q.until !== undefined && Date.parse(e.time) >= Date.parse(q.until)) continue;
    severityCounts[e.severity]++;
  }
  const wanted: readonly Severity[] = q.severities !== undefined && q.severities.length > 0 ? q.severities : SEVERITIES;
  return { total: wanted.reduce<number>((n, s) => n + severityCounts[s], 0), severityCounts };
}

/** A mix of sources, types, entity kinds (and none), severities, entity ids, messages and times. */
function mixedEvents(tag: string, n: number, start: string): HeraldEvent[] {
  const base = Date.parse(start);
  return Array.from({ length: n }, (_, i) => ev({
    id: `${tag}-${i}`,
    source: `${tag}/src${i % 3}`,
    type: `${tag}.t${i % 4}`,
    severity: SEVERITIES[(i * 7) % SEVERITIES.length],
    time: new Date(base + i * 60_000).toISOString(),
    ...(i % 5 !== 0 && { entity: { kind: i % 2 === 0 ? `${tag}-ka` : `${tag}-kb`, id: `e${i % 6}` } }),
    message: i % 9 === 0 ? `Needle ${i}` : `message ${i}`,
  }));
}

/** The statements the store sends while `fn` runs. */
async function sentQueries(store: EventStore, fn: () => Promise<void>): Promise<Array<{ sql: string; parameters: readonly unknown[] }>> {
  const executor = store.db.getExecutor() as { executeQuery: (...a: unknown[]) => Promise<unknown> };
  const original = executor.executeQuery;
  const seen: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  executor.executeQuery = function (this: unknown, ...a: unknown[]) {
    seen.push(a[0] as { sql: string; parameters: readonly unknown[] });
    return original.apply(this, a);
  };
  try {
    await fn();
  } finally {
    executor.executeQuery = original;
  }
  return seen;
}

/** The plan of a statement as the store sent it (parameters inlined as literals). */
async function explainPlan(store: EventStore, q: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  const literal = (v: unknown) => (typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));
  if (store.dialect === 'sqlite') {
    const params = [...q.parameters];
    const text = q.sql.replace(/\?/g, () => literal(params.shift()));
    return (await sql.raw<{ detail: string }>(`explain query plan ${text}`).execute(store.db)).rows.map((r) => r.detail).join('\n');
  }
  const text = q.sql.replace(/\$(\d+)/g, (_, i: string) => literal(q.parameters[Number(i) - 1]));
  return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${text}`).execute(store.db)).rows.map((r) => r['QUERY PLAN']).join('\n');
}

for (const dialect of DIALECTS) {
  describe(`store conformance: ${dialect.name}`, () => {
    let store: EventStore;
    before(async () => {
      store = await dialect.open();
      await store.migrate([outboxSchema]);
      await store.migrate([outboxSchema]); // idempotent
    });
    after(async () => {
      await store.close();
      await store.close(); // idempotent
      await dialect.cleanup();
    });

    test('append stores events and get returns them unchanged', async () => {
      const e = ev({ id: uniqueName('e'), entity: { kind: 'cluster', id: 'c-get' }, message: 'hello', data: { a: [1, { b: 2 }] } });
      assert.equal((await store.append([e])).inserted, 1);
      assert.deepEqual(await store.get(e.id), e);
      assert.equal(await store.get('no-such-id'), undefined);
    });

    test('duplicate ids are ignored and get no outbox rows', async () => {
      const id = uniqueName('dup');
      const a = ev({ id, message: 'first' });
      const b = ev({ id, message: 'second' });
      assert.deepEqual(await appendTo(store, [a], ['s-dup']), { inserted: 1 });
      assert.deepEqual(await appendTo(store, [b, ev({ id: id + 'x' })], ['s-dup']), { inserted: 1 });
      assert.equal((await store.get(id))?.message, 'first');
      const rows = await ob(store).selectFrom('herald_outbox').selectAll().where('sink', '=', 's-dup').orderBy('seq').execute();
      assert.deepEqual(rows.map((r) => r.event_id), [id, id + 'x']);
    });

    test('a batch is all-or-nothing', async () => {
      const kind = uniqueName('atom');
      const good = ev({ entity: { kind, id: 'x' } });
      // An unparsable time makes the second row fail inside the transaction.
      const bad = { ...ev({ entity: { kind, id: 'y' } }), time: 'not a time' } as HeraldEvent;
      await assert.rejects(appendTo(store, [good, bad], ['s-atom']));
      assert.equal(await store.get(good.id), undefined);
      assert.equal((await store.query({ ...Q, entityKind: kind })).total, 0);
      const outbox = await ob(store).selectFrom('herald_outbox').select('seq').where('sink', '=', 's-atom').execute();
      assert.equal(outbox.length, 0);
    });

    test('outbox rows per sink, and per event with a sink function', async () => {
      const kind = uniqueName('ob');
      const a = ev({ entity: { kind, id: 'a' }, severity: 'error' });
      const b = ev({ subject: 'subj-b', severity: 'info' });
      await appendTo(store, [a, b], ['ob-k', 'ob-n']);
      const rows = await ob(store).selectFrom('herald_outbox').selectAll().where('sink', 'in', ['ob-k', 'ob-n']).orderBy('seq').execute();
      assert.equal(rows.length, 4);
      const forA = rows.filter((r) => r.event_id === a.id);
      assert.deepEqual(forA.map((r) => r.sink).sort(), ['ob-k', 'ob-n']);
      for (const r of rows) {
        assert.equal(r.status, 'pending');
        assert.equal(r.attempts, 0);
        assert.equal(typeof r.event_seq, 'number');
        assert.equal(typeof r.next_attempt_ms, 'number');
        assert.ok(r.next_attempt_ms > 0);
      }
      assert.equal(forA[0]!.partition_key, `${kind}:a`);
      assert.equal(rows.find((r) => r.event_id === b.id)!.partition_key, 'subj-b');

      const c = ev({ severity: 'error' });
      const d = ev({ severity: 'info' });
      await appendTo(store, [c, d], (e) => (e.severity === 'error' ? ['ob-f1', 'ob-f2'] : []));
      const frows = await ob(store).selectFrom('herald_outbox').selectAll().where('sink', 'in', ['ob-f1', 'ob-f2']).execute();
      assert.deepEqual(frows.map((r) => r.event_id), [c.id, c.id]);
      // event_seq points at the stored event
      const evrow = await store.db.selectFrom('herald_events').select('seq').where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.equal(frows[0]!.event_seq, Number(evrow.seq));
    });

    test('a batch of 1000 in one append', async () => {
      const kind = uniqueName('bulk');
      const batch = Array.from({ length: 1000 }, (_, i) => ev({ entity: { kind, id: `h${i % 10}` }, message: `m${i}` }));
      const t0 = performance.now();
      assert.deepEqual(await appendTo(store, batch, ['bulk-a', 'bulk-b']), { inserted: 1000 });
      console.log(`# ${dialect.name}: append of 1000 events with 2 sinks took ${(performance.now() - t0).toFixed(1)} ms`);
      assert.equal((await store.query({ ...Q, entityKind: kind })).total, 1000);
      const n = await ob(store).selectFrom('herald_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('sink', 'in', ['bulk-a', 'bulk-b']).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 2000);
    });

    describe('query filters, paging, order and counts', () => {
      const kind = uniqueName('q');
      const base = Date.parse('2024-05-01T00:00:00Z');
      const events: HeraldEvent[] = [];
      before(async () => {
        const sev = ['info', 'warning', 'error', 'critical', 'debug'] as const;
        for (let i = 0; i < 20; i++) {
          events.push(ev({
            id: `${kind}-${i}`,
            source: i % 2 === 0 ? 'svc/even' : 'svc/odd',
            type: `com.example.t${i % 3}`,
            severity: sev[i % 5],
            time: new Date(base + i * 60_000).toISOString(),
            entity: { kind, id: `e${i % 4}` },
            message: i === 7 ? 'Disk 50% FULL on host' : `message number ${i}`,
          }));
        }
        // Same time as event 5: order falls back to insertion order.
        events.push(ev({ id: `${kind}-tie`, time: new Date(base + 5 * 60_000).toISOString(), entity: { kind, id: 'e1' }, severity: 'info', source: 'svc/odd', type: 'com.example.t2', message: 'tie' }));
        await store.append(events);
      });
      const ids = (p: { events: HeraldEvent[] }) => p.events.map((e) => e.id.slice(kind.length + 1));

      test('entity kind and ids', async () => {
        const p = await store.query({ ...Q, entityKind: kind, entityIds: ['e1'] });
        assert.deepEqual(ids(p), ['1', '5', 'tie', '9', '13', '17']);
        assert.equal(p.total, 6);
        const p2 = await store.query({ ...Q, entityKind: kind, entityIds: ['e0', 'e2'] });
        assert.equal(p2.total, 10);
      });

      test('severities, with counts ignoring the severity filter', async () => {
        const p = await store.query({ ...Q, entityKind: kind, severities: ['error', 'critical'] });
        assert.deepEqual(ids(p), ['2', '3', '7', '8', '12', '13', '17', '18']);
        assert.equal(p.total, 8);
        assert.deepEqual(p.severityCounts, { debug: 4, info: 5, warning: 4, error: 4, critical: 4 });
      });

      test('types and source', async () => {
        const p = await store.query({ ...Q, entityKind: kind, types: ['com.example.t0'] });
        assert.deepEqual(ids(p), ['0', '3', '6', '9', '12', '15', '18']);
        const p2 = await store.query({ ...Q, entityKind: kind, types: ['com.example.t0', 'com.example.t1'], source: 'svc/even' });
        assert.deepEqual(ids(p2), ['0', '4', '6', '10', '12', '16', '18']);
      });

      test('message: case-insensitive substring, wildcards literal', async () => {
        assert.deepEqual(ids(await store.query({ ...Q, entityKind: kind, message: 'disk 50% full' })), ['7']);
        assert.deepEqual(ids(await store.query({ ...Q, entityKind: kind, message: '50%' })), ['7']);
        assert.deepEqual(ids(await store.query({ ...Q, entityKind: kind, message: '5_%' })), []);
        assert.equal((await store.query({ ...Q, entityKind: kind, message: 'NUMBER 1' })).total, 11); // 1, 10..19
      });

      test('since inclusive, until exclusive', async () => {
        const p = await store.query({ ...Q, entityKind: kind, since: new Date(base + 17 * 60_000).toISOString(), until: new Date(base + 19 * 60_000).toISOString() });
        assert.deepEqual(ids(p), ['17', '18']);
        assert.equal(p.total, 2);
      });

      test('order and paging', async () => {
        const asc = await store.query({ ...Q, entityKind: kind, limit: 3, offset: 4 });
        assert.deepEqual(ids(asc), ['4', '5', 'tie']);
        assert.equal(asc.total, 21);
        const desc = await store.query({ ...Q, entityKind: kind, limit: 4, offset: 0, order: 'descending' });
        assert.deepEqual(ids(desc), ['19', '18', '17', '16']);
        const tail = await store.query({ ...Q, entityKind: kind, limit: 100, offset: 14, order: 'descending' });
        assert.deepEqual(ids(tail), ['tie', '5', '4', '3', '2', '1', '0']);
        const empty = await store.query({ ...Q, entityKind: kind, offset: 500 });
        assert.deepEqual(empty.events, []);
        assert.equal(empty.total, 21);
        const none = await store.query({ ...Q, entityKind: kind, limit: 0 });
        assert.equal(none.events.length, 0);
        assert.equal(none.total, 21);
      });

      test('tail and tailDocs: the same events after a position, in insertion order; docs are the events\' JSON', async () => {
        const all = await store.tail({ entityKind: kind }, 0, 100);
        assert.deepEqual(all.map((t) => t.event.id.slice(kind.length + 1)), [...Array.from({ length: 20 }, (_, i) => String(i)), 'tie']);
        const after = all[9]!.seq;
        const tail = await store.tail({ entityKind: kind, severities: ['error', 'critical'] }, after, 3);
        const docs = await store.tailDocs({ entityKind: kind, severities: ['error', 'critical'] }, after, 3);
        assert.deepEqual(tail.map((t) => t.event.id.slice(kind.length + 1)), ['12', '13', '17']);
        assert.deepEqual(docs.map((d) => ({ seq: d.seq, id: d.id })), tail.map((t) => ({ seq: t.seq, id: t.event.id })));
        docs.forEach((d, i) => {
          assert.equal(d.doc, JSON.stringify(tail[i]!.event), 'the stored text is what JSON.stringify of the event gives');
          assert.deepEqual(JSON.parse(d.doc), events.find((e) => e.id === d.id));
        });
      });

      test('no match gives zero counts', async () => {
        const p = await store.query({ ...Q, entityKind: kind, source: 'nobody' });
        assert.equal(p.total, 0);
        assert.deepEqual(p.severityCounts, { debug: 0, info: 0, warning: 0, error: 0, critical: 0 });
      });
    });

    test('entity transitions: enter, leave, list, DESTROY -> UNKNOWN', async () => {
      let now = Date.parse('2025-01-01T00:00:00Z');
      const s = await dialect.open(() => new Date(now));
      await s.migrate([outboxSchema]);
      const setState = await stateChanger(s);
      try {
        const kind = 'environment';
        const c1 = await setState({ kind, id: 'env-b', state: 'configured', attributes: { runNumber: 0 } });
        assert.equal(c1.previous, null);
        assert.equal(c1.current.state, 'CONFIGURED');
        assert.equal(c1.current.enteredAt, '2025-01-01T00:00:00.000Z');
        // Every enter is followed by the list of the watched state (AliECS publishes its active list after each enter).
        assert.deepEqual(c1.events.map((e) => e.type), [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
        assert.equal((c1.events[0]!.data as EntityTransitionData).previous, null);
        assert.equal((c1.events[0]!.data as EntityTransitionData).changed, true);
        assert.deepEqual((c1.events[1]!.data as EntityListData).entities, []);

        now += 1000;
        const c2 = await setState({ kind, id: 'env-b', state: 'RUNNING', attributes: { runNumber: 42, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] } });
        assert.equal(c2.previous?.state, 'CONFIGURED');
        assert.deepEqual(c2.events.map((e) => e.type), [ENTITY_EVENT_TYPES.leave, ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
        const leave = c2.events[0]!.data as EntityTransitionData;
        assert.equal(leave.state, 'CONFIGURED');
        assert.equal(leave.next, 'RUNNING');
        assert.equal(leave.enteredAt, '2025-01-01T00:00:00.000Z');
        const enter = c2.events[1]!.data as EntityTransitionData;
        assert.equal(enter.state, 'RUNNING');
        assert.equal(enter.previous, 'CONFIGURED');
        assert.deepEqual(enter.attributes, { runNumber: 42, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] });
        const list = c2.events[2]!;
        assert.deepEqual(list.entity, { kind, id: '*' });
        assert.equal(list.partitionkey, `${kind}:list`);
        assert.deepEqual((list.data as EntityListData).entities.map((e) => e.id), ['env-b']);

        now += 1000;
        await setState({ kind, id: 'env-a', state: 'RUNNING', attributes: { runNumber: 43 } });
        // Another kind in RUNNING never shows in this kind's list.
        await setState({ kind: 'other', id: 'o1', state: 'RUNNING' });
        now += 1000;
        const c3 = await setState({ kind, id: 'env-b', state: 'Destroy' });
        assert.equal(c3.current.state, 'UNKNOWN');
        assert.deepEqual(c3.events.map((e) => e.type), [ENTITY_EVENT_TYPES.leave, ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
        assert.equal((c3.events[0]!.data as EntityTransitionData).state, 'RUNNING');
        assert.deepEqual((c3.events[0]!.data as EntityTransitionData).attributes, { runNumber: 42, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] });
        assert.deepEqual((c3.events[2]!.data as EntityListData).entities.map((e) => e.id), ['env-a']);
        // Attributes are kept when a PUT gives none.
        assert.deepEqual(c3.current.attributes, { runNumber: 42, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] });

        const empty = await setState({ kind, id: 'env-c', state: '' });
        assert.equal(empty.current.state, 'UNKNOWN');
        assert.deepEqual(empty.events.map((e) => e.type), [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);

        // The same state again: nothing to announce; with new attributes, one enter (+ list when watched).
        now += 1000;
        const same = await setState({ kind, id: 'env-a', state: 'running', attributes: { runNumber: 43 } });
        assert.deepEqual(same.events, []);
        assert.equal(same.current.enteredAt, same.previous!.enteredAt);
        const upd = await setState({ kind, id: 'env-a', state: 'RUNNING', attributes: { runNumber: 44 } });
        assert.deepEqual(upd.events.map((e) => e.type), [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
        assert.equal(upd.current.enteredAt, same.previous!.enteredAt);
        assert.equal((upd.events[0]!.data as EntityTransitionData).changed, false);

        // The events are stored, in order, with outbox rows.
        const stored = await s.query({ ...Q, entityKind: kind, types: [ENTITY_EVENT_TYPES.leave] });
        assert.equal(stored.total, 2);
        const outbox = await ob(s).selectFrom('herald_outbox').select(['event_id', 'partition_key']).where('sink', '=', 'aliecs').orderBy('seq').execute();
        assert.equal(outbox.length, 2 + 3 + 2 + 2 + 3 + 2 + 2);
        assert.ok(outbox.some((r) => r.partition_key === `${kind}:list`));

        const entities = await s.listEntities({ kind });
        assert.deepEqual(entities.map((e) => [e.id, e.state]), [['env-a', 'RUNNING'], ['env-b', 'UNKNOWN'], ['env-c', 'UNKNOWN']]);
        assert.equal(entities[1]!.previous, 'RUNNING');
        assert.deepEqual((await s.listEntities({ state: 'running' })).map((e) => `${e.kind}/${e.id}`), ['environment/env-a', 'other/o1']);
        assert.equal((await s.listEntities()).length, 4);

        // Custom watched states
        const w = await (await stateChanger(s, ['error']))({ kind: 'host', id: 'h1', state: 'ERROR' });
        assert.deepEqual(w.events.map((e) => e.type), [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
      } finally {
        await s.close();
      }
    });

    test('concurrent state changes of one kind: the last list notification holds every entity', async () => {
      const kind = uniqueName('conc').replace(/-/g, '_');
      const ids = Array.from({ length: 20 }, (_, i) => `n${String(i).padStart(2, '0')}`);
      const setState = await stateChanger(store);
      await Promise.all(ids.map((id) => setState({ kind, id, state: 'RUNNING' })));
      const lists = await store.query({ ...Q, entityKind: kind, types: [ENTITY_EVENT_TYPES.list], order: 'descending', limit: 1 });
      assert.equal(lists.total, 20);
      assert.deepEqual((lists.events[0]!.data as EntityListData).entities.map((e) => e.id), ids);
      const sizes = (await store.query({ ...Q, entityKind: kind, types: [ENTITY_EVENT_TYPES.list] })).events
        .map((e) => (e.data as EntityListData).entities.length);
      assert.deepEqual(sizes, ids.map((_, i) => i + 1));
    });

    test('retention keeps newer events and those still in the outbox', async () => {
      const kind = uniqueName('ret');
      const old1 = ev({ entity: { kind, id: 'a' }, time: '2020-01-01T00:00:00Z' });
      const old2 = ev({ entity: { kind, id: 'b' }, time: '2020-01-02T00:00:00Z' });
      const pending = ev({ entity: { kind, id: 'c' }, time: '2020-01-03T00:00:00Z' });
      const fresh = ev({ entity: { kind, id: 'd' }, time: '2030-01-01T00:00:00Z' });
      await store.append([old1, old2, fresh]);
      await appendTo(store, [pending], ['ret-sink']);
      const before = (await store.query({ ...Q, until: '2021-01-01T00:00:00Z' })).total;
      const n = await retainBefore(store, '2021-01-01T00:00:00Z');
      assert.equal(n, before - 1);
      assert.equal(await store.get(old1.id), undefined);
      assert.ok(await store.get(pending.id));
      assert.ok(await store.get(fresh.id));
    });

    test('herald_event_counts equals a GROUP BY scan after appends, notifications, failed batches and deletes', async () => {
      const tag = uniqueName('cnt');
      const events = mixedEvents(tag, 240, '2010-06-01T00:00:00Z');
      await store.append(events.slice(0, 100));
      // Duplicates (within a batch and of stored events) are counted once.
      await appendTo(store, [...events.slice(50, 240), ...events.slice(200, 240)], (e) => (e.severity === 'critical' ? ['cnt-sink'] : []));
      assert.deepEqual(await countsTable(store), await countsScanned(store));

      await assert.rejects(store.append([ev({ source: `${tag}/bad` }), { ...ev({ source: `${tag}/bad` }), time: 'not a time' } as HeraldEvent]));
      const setState = await stateChanger(store);
      for (const [id, state] of [['a', 'RUNNING'], ['b', 'RUNNING'], ['a', 'DONE'], ['b', 'ERROR']] as const) {
        await setState({ kind: `${tag}-env`, id, state });
      }
      assert.deepEqual(await countsTable(store), await countsScanned(store));
      assert.ok(Object.keys(await countsTable(store)).some((k) => k.includes(`${tag}-env`)));

      // Retention in batches, then a DELETE of its own (any delete keeps the counts).
      assert.ok(await retainBefore(store, '2010-06-01T02:00:00Z') > 0);
      assert.deepEqual(await countsTable(store), await countsScanned(store));
      await sql`delete from herald_events where seq in (
        select e.seq from herald_events e
        where e.time_ms < ${Date.parse('2010-06-01T03:00:00Z')}
          and not exists (select 1 from herald_outbox o where o.event_seq = e.seq)
        order by e.time_ms limit 7)`.execute(store.db);
      assert.deepEqual(await countsTable(store), await countsScanned(store));
      await retainBefore(store, '2011-01-01T00:00:00Z');
      assert.deepEqual(await countsTable(store), await countsScanned(store));
      // The events still in the outbox remain, and so do their counts; keys at zero are dropped.
      const left = await store.query({ ...Q, source: `${tag}/src0` });
      assert.ok(left.total > 0 && left.events.every((e) => e.severity === 'critical'));
      assert.ok(!Object.entries(await countsTable(store)).some(([k, n]) => k.startsWith(`${tag}/src`) && (n <= 0 || !k.endsWith(' critical'))));
    });

    test('severity counts from the counts table and from a scan equal a brute-force count', async () => {
      const tag = uniqueName('agg');
      let events = mixedEvents(tag, 300, '2012-03-01T00:00:00Z');
      await store.append(events);
      const setState = await stateChanger(store);
      for (const [id, state] of [['x', 'RUNNING'], ['y', 'RUNNING'], ['x', 'UNKNOWN']] as const) {
        events = events.concat((await setState({ kind: `${tag}-ka`, id, state, source: `${tag}/src1` })).events);
      }
      const since = '2012-03-01T01:00:00Z';
      const until = '2012-03-01T03:30:00Z';
      const queries: Array<Omit<EventQuery, 'limit' | 'offset' | 'order'>> = [
        // Counts from herald_event_counts
        { source: `${tag}/src0` },
        { source: `${tag}/src1`, severities: ['error', 'critical'] },
        { types: [`${tag}.t1`, `${tag}.t2`] },
        { entityKind: `${tag}-ka` },
        { entityKind: `${tag}-kb`, source: `${tag}/src2`, types: [`${tag}.t0`, `${tag}.t2`, `${tag}.t3`], severities: ['warning'] },
        { entityKind: `${tag}-ka`, types: [ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list] },
        { source: `${tag}/none` },
        // Counts by scanning the events
        { source: `${tag}/src0`, since },
        { types: [`${tag}.t1`], until },
        { entityKind: `${tag}-ka`, entityIds: ['e0', 'e2', 'x'] },
        { source: `${tag}/src2`, message: 'needle', severities: ['info'] },
        { entityKind: `${tag}-kb`, since, until, severities: ['debug', 'critical'] },
      ];
      const check = async () => {
        for (const q of queries) {
          const p = await store.query({ ...Q, ...q, limit: 0 });
          assert.deepEqual({ total: p.total, severityCounts: p.severityCounts }, bruteForce(events, q), JSON.stringify(q));
        }
      };
      await check();
      assert.ok(await retainBefore(store, '2012-03-01T02:00:00Z') >= 120);
      events = events.filter((e) => Date.parse(e.time) >= Date.parse('2012-03-01T02:00:00Z'));
      await check();
    });

    test('concurrent appends and deletes keep herald_event_counts exact', async () => {
      const tag = uniqueName('race');
      const batches = Array.from({ length: 12 }, (_, b) => {
        const batch = mixedEvents(`${tag}-${b}`, 60, b % 2 === 0 ? '2013-01-01T00:00:00Z' : '2031-01-01T00:00:00Z')
          .map((e, i) => ({ ...e, source: `${tag}/s${i % 4}`, type: `${tag}.t${i % 3}`, entity: { kind: `${tag}-k`, id: 'e' } }));
        return b % 3 === 0 ? batch.reverse() : batch; // keys arrive in different orders
      });
      await Promise.all([
        ...batches.map((batch) => store.append(batch)),
        retainBefore(store, '2013-01-01T00:30:00Z'),
        retainBefore(store, '2013-01-01T00:45:00Z'),
      ]);
      await retainBefore(store, '2014-01-01T00:00:00Z');
      assert.deepEqual(await countsTable(store), await countsScanned(store));
      const p = await store.query({ ...Q, entityKind: `${tag}-k`, limit: 0 });
      assert.equal(p.total, 6 * 60);
    });

    /** An empty database of this dialect (a file, or a schema of its own), removed after the test: for a store opened at an old schema version. */
    const emptyDatabase = (prefix: string): { url: string; options: { schema?: string } } => {
      if (dialect.name === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), prefix));
        after(() => rmSync(dir, { recursive: true, force: true }));
        return { url: `sqlite:${join(dir, 'old.db')}`, options: {} };
      }
      const schema = schemaName();
      after(async () => {
        const c = new pg.Client({ connectionString: pgUrl() });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      });
      return { url: pgUrl(), options: { schema } };
    };

    test('migration 0002 counts the events of a database created with 0001 only', async () => {
      const { url, options } = emptyDatabase('herald-mig2-');
      const tag = uniqueName('mig');
      const events = mixedEvents(tag, 500, '2015-01-01T00:00:00Z');
      const old = await openStore(url, options);
      try {
        const migrator = new Migrator({
          db: old.db,
          provider: migrationProvider(dialect.name === 'sqlite' ? sqliteAbilities : postgresAbilities),
          ...(options.schema !== undefined && { migrationTableSchema: options.schema }),
        });
        const { error } = await migrator.migrateTo('0001_init');
        assert.equal(error, undefined);
        // What a version without herald_event_counts wrote.
        for (let i = 0; i < events.length; i += 100) await old.db.insertInto('herald_events').values(events.slice(i, i + 100).map((e) => eventRow(e, Date.now()))).execute();
        await assert.rejects(old.db.selectFrom('herald_event_counts').selectAll().execute());
      } finally {
        await old.close();
      }

      const s = await openStore(url, options);
      try {
        await s.migrate([outboxSchema]);
        assert.deepEqual(await countsTable(s), await countsScanned(s));
        assert.equal(Object.values(await countsTable(s)).reduce((a, b) => a + b, 0), events.length);
        const q = { source: `${tag}/src1`, types: [`${tag}.t1`, `${tag}.t3`] };
        const p = await s.query({ ...Q, ...q, limit: 0 });
        assert.deepEqual({ total: p.total, severityCounts: p.severityCounts }, bruteForce(events, q));
        // Appends and deletes after the upgrade keep them exact.
        await s.append(mixedEvents(`${tag}-new`, 50, '2016-01-01T00:00:00Z'));
        await retainBefore(s, '2015-01-01T04:00:00Z');
        assert.deepEqual(await countsTable(s), await countsScanned(s));
        // Applying 0002 again (a racing process, or a crash before it was recorded) recounts.
        await s.db.updateTable('herald_event_counts').set({ n: 999 }).execute();
        await (await migrationProvider(dialect.name === 'sqlite' ? sqliteAbilities : postgresAbilities).getMigrations())['0002_event_counts']!.up(s.db);
        assert.deepEqual(await countsTable(s), await countsScanned(s));
      } finally {
        await s.close();
      }
    });

    test('several processes migrating the same database at once apply migrations once', async () => {
      const url = dialect.name === 'sqlite' ? undefined : schemaName();
      let stores: EventStore[];
      if (url === undefined) {
        const dir = mkdtempSync(join(tmpdir(), 'herald-mig-'));
        stores = await Promise.all([1, 2, 3].map(() => openStore(`sqlite:${join(dir, 'same.db')}`)));
        after(() => rmSync(dir, { recursive: true, force: true }));
      } else {
        stores = await Promise.all([1, 2, 3].map(() => openStore(pgUrl(), { schema: url })));
        after(async () => {
          const c = new pg.Client({ connectionString: pgUrl() });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS "${url}" CASCADE`);
          await c.end();
        });
      }
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        await stores[0]!.append([ev({ id: 'mig-1' })]);
        assert.ok(await stores[2]!.get('mig-1'));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    test('the relay claim skips every later entry of a key that waits for a retry, and the key index is gone', async () => {
      const sink = uniqueName('claim');
      const events = [0, 1, 2, 3, 4, 5, 6].map((i) => ev({ id: uniqueName(`claim${i}`), ...(i !== 6 && { entity: { kind: 'job', id: `k${i % 3}` } }) }));
      await appendTo(store, events, [sink]);
      const db = ob(store);
      const now = Date.now() + 1000;
      // The first entry of key k0 failed and waits for its retry: k0's later entries must wait too.
      await sql`update herald_outbox set next_attempt_ms = ${now + 60_000}, attempts = 1 where sink = ${sink} and event_id = ${events[0]!.id}`.execute(db);
      const claimed = await fetchBatch(db, { sink, now, limit: 100 });
      assert.deepEqual(claimed.map((e) => e.eventId), [1, 2, 4, 5, 6].map((i) => events[i]!.id), 'k1, k2 and the key-less entry, in order; nothing of k0');
      const all = await fetchBatch(db, { sink, now: now + 120_000, limit: 100 });
      assert.deepEqual(all.map((e) => e.eventId), events.map((e) => e.id), 'once the retry is due, everything in order');
      const index = store.dialect === 'sqlite'
        ? await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'herald_outbox_sink_key_seq'`.execute(db)
        : await sql<{ n: number }>`select count(*)::int as n from pg_indexes where indexname = 'herald_outbox_sink_key_seq' and schemaname = current_schema()`.execute(db);
      assert.equal(Number(index.rows[0]!.n), 0, 'migration 0003 dropped the outbox key index');
    });

    describe('refs: the entities events refer to (herald_event_refs)', () => {
      // The Assisted Installer's list selects "events of cluster C, its hosts' included" and
      // "cluster-level or of host H" (openshift/assisted-service @ 063b2579 internal/events/event.go
      // filterEvents / buildDisjunctiveQuery); the store answers such ref conditions from its index.
      const tag = uniqueName('refs');
      const C = `${tag}-c`;
      const C2 = `${tag}-c2`;
      const H1 = `${tag}-h1`;
      const H2 = `${tag}-h2`;
      const IE = `${tag}-ie`;
      const events: HeraldEvent[] = [];
      const at = (i: number) => new Date(Date.parse('2019-03-01T00:00:00Z') + i * 60_000).toISOString();
      before(async () => {
        const specs: Array<Record<string, unknown>> = [
          { entity: { kind: 'cluster', id: C }, severity: 'info', message: 'Cluster prepared' },
          { entity: { kind: 'host', id: H1 }, data: { cluster_id: C, infra_env_id: IE }, severity: 'warning', message: 'Host 1 failed' },
          { entity: { kind: 'host', id: H2 }, data: { cluster_id: C, infra_env_id: IE }, severity: 'error', message: 'Host 2 canceled' },
          { entity: { kind: 'host', id: H2 }, data: { cluster_id: C, infra_env_id: IE, category: 'metrics' }, severity: 'info', message: 'Host 2 metric' },
          { entity: { kind: 'infra-env', id: IE }, data: { cluster_id: C }, severity: 'critical', message: 'Image failed' },
          { entity: { kind: 'cluster', id: C2 }, severity: 'critical', message: 'Other cluster failed' },
          { entity: { kind: 'host', id: `${tag}-h9` }, data: { infra_env_id: IE }, severity: 'debug', message: 'Unbound host' },
          { entity: { kind: 'node', id: 'n1' }, data: { host_id: H1 }, severity: 'info', message: 'A node naming host 1' },
        ];
        specs.forEach((spec, i) => events.push(ev({ id: `${tag}-${i}`, type: `${tag}.t`, time: at(i), ...spec })));
        // A repeated id adds no refs; a failed batch leaves none.
        await store.append(events.slice(0, 4));
        await store.append([...events.slice(2), events[0]!]);
        await assert.rejects(store.append([ev({ id: `${tag}-bad`, entity: { kind: 'cluster', id: C } }), { ...ev({ entity: { kind: 'cluster', id: C } }), time: 'nope' } as HeraldEvent]));
      });
      const nums = (p: { events: HeraldEvent[] }) => p.events.map((e) => Number(e.id.slice(tag.length + 1)));
      const cluster = { kind: 'cluster', ids: [C] } as const;

      test('one kind: every event of cluster C, its hosts\' and infra-env\'s included', async () => {
        const p = await store.query({ ...Q, refs: [[cluster]] });
        assert.deepEqual(nums(p), [0, 1, 2, 3, 4]);
        assert.equal(p.total, 5);
        assert.deepEqual(p.severityCounts, { debug: 0, info: 2, warning: 1, error: 1, critical: 1 });
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[{ kind: 'host', ids: [H1] }]] })), [1, 7]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[{ kind: 'infra-env', ids: [IE] }]] })), [1, 2, 3, 4, 6]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[{ kind: 'cluster', ids: [C, C2] }]], order: 'descending' })), [5, 4, 3, 2, 1, 0]);
      });

      test('groups: AND of ORs; none = no ref of the kind; an empty group matches nothing', async () => {
        // cluster_level: the cluster's events without a host.
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[cluster], [{ kind: 'host', none: true }]] })), [0, 4]);
        // cluster_level OR host H1 (upstream: a union, not an intersection).
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[cluster], [{ kind: 'host', none: true }, { kind: 'host', ids: [H1] }]] })), [0, 1, 4]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[cluster], [{ kind: 'host', ids: [H1, H2] }]] })), [1, 2, 3]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[cluster], [{ kind: 'category', none: true }]] })), [0, 1, 2, 4]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[cluster], [{ kind: 'category', ids: ['metrics'] }]] })), [3]);
        const none = await store.query({ ...Q, refs: [[cluster], []] });
        assert.deepEqual([none.events, none.total], [[], 0]);
        assert.equal((await store.query({ ...Q, refs: [[{ kind: 'host', ids: [] }]] })).total, 0);
      });

      test('with the other filters, counts ignoring severities, paging, excluded types and tail', async () => {
        const p = await store.query({ ...Q, refs: [[cluster]], message: 'FAILED', severities: ['warning'] });
        assert.deepEqual(nums(p), [1]);
        assert.equal(p.total, 1);
        assert.deepEqual(p.severityCounts, { debug: 0, info: 0, warning: 1, error: 0, critical: 1 });
        const page = await store.query({ ...Q, refs: [[cluster]], limit: 2, offset: 1 });
        assert.deepEqual([nums(page), page.total], [[1, 2], 5]);
        assert.equal((await store.query({ ...Q, refs: [[cluster]], excludeTypes: [`${tag}.t`] })).total, 0);
        assert.equal((await store.query({ ...Q, refs: [[cluster]], excludeTypes: ['other'] })).total, 5);
        const tail = await store.tail({ refs: [[cluster], [{ kind: 'host', none: true }]] }, 0, 100);
        assert.deepEqual(tail.map((t) => Number(t.event.id.slice(tag.length + 1))), [0, 4]);
      });

      test('a rewrite replaces an event\'s refs; deletes remove them (retention and a DELETE of its own)', async () => {
        const seqOf = async (i: number) => (await store.seqOf(`${tag}-${i}`))!;
        const refsOf = async (seq: number) => (await store.db.selectFrom('herald_event_refs').select(['kind', 'id']).where('seq', '=', seq).orderBy('kind').execute()).map((r) => `${r.kind}:${r.id}`);
        const s7 = await seqOf(7);
        assert.deepEqual(await refsOf(s7), [`host:${H1}`]);
        await store.rewrite([{ seq: s7, event: { ...events[7]!, data: { host_id: H2, cluster_id: C2 } } }]);
        assert.deepEqual(await refsOf(s7), [`cluster:${C2}`, `host:${H2}`]);
        assert.deepEqual(nums(await store.query({ ...Q, refs: [[{ kind: 'host', ids: [H1] }]] })), [1]);
        const s6 = await seqOf(6);
        assert.ok(await retainBefore(store, at(7)) >= 7);
        assert.deepEqual(await refsOf(s6), [], 'retention took the refs of the deleted events');
        await sql`delete from herald_events where seq = ${s7}`.execute(store.db);
        assert.deepEqual(await refsOf(s7), []);
        const left = await store.db.selectFrom('herald_event_refs').select((eb) => eb.fn.countAll<number>().as('n')).where('id', 'in', [C, C2, H1, H2, IE]).executeTakeFirstOrThrow();
        assert.equal(Number(left.n), 0);
      });
    });

    test('the refs queries read the refs index, not every event', async () => {
      // Enough rows that a scan would show; the plan must search herald_event_refs by (kind, id).
      const tag = uniqueName('plan');
      const batch = Array.from({ length: 3000 }, (_, i) => ev({ entity: { kind: 'host', id: `${tag}-h${i % 300}` }, data: { cluster_id: `${tag}-c${i % 100}` } }));
      await store.append(batch);
      await store.functions.analyze?.(store.db, 'herald_events');
      await store.functions.analyze?.(store.db, 'herald_event_refs');
      const seen = await sentQueries(store, async () => {
        const p = await store.query({ ...Q, refs: [[{ kind: 'cluster', ids: [`${tag}-c7`] }], [{ kind: 'host', none: true }, { kind: 'host', ids: [`${tag}-h7`] }]] });
        assert.equal(p.total, 10);
      });
      const page = seen.find((q) => q.sql.startsWith('select "doc"'));
      assert.ok(page, seen.map((q) => q.sql).join('\n'));
      const text = await explainPlan(store, page);
      assert.match(text, /herald_event_refs_kind_id/, text);
      assert.doesNotMatch(text, /SCAN herald_events\b|Seq Scan on herald_events\b/, text);
    });

    test('per-severity counts of an entity id and of a type in a time range read the index alone (migration 0007)', async () => {
      const tag = uniqueName('sevplan');
      const t0 = Date.parse('2024-07-01T00:00:00Z');
      await store.append(Array.from({ length: 3000 }, (_, i) => ev({
        type: `${tag}.t${i % 30}`, severity: i % 7 === 0 ? 'error' : 'info', time: new Date(t0 + i * 1000).toISOString(),
        entity: { kind: 'cluster', id: `${tag}-c${i % 300}` },
      })));
      await store.functions.analyze?.(store.db, 'herald_events');
      const cases = [
        { q: { ...Q, entityKind: 'cluster', entityIds: [`${tag}-c7`] }, total: 10, index: 'herald_events_entity_time_sev' },
        { q: { ...Q, types: [`${tag}.t3`], since: new Date(t0).toISOString(), until: new Date(t0 + 600_000).toISOString() }, total: 20, index: 'herald_events_type_time_sev' },
      ];
      for (const c of cases) {
        const seen = await sentQueries(store, async () => {
          assert.equal((await store.query(c.q)).total, c.total);
        });
        const counts = seen.find((x) => /^select "severity", count\(\*\)/.test(x.sql));
        assert.ok(counts, seen.map((x) => x.sql).join('\n'));
        const text = await explainPlan(store, counts);
        assert.match(text, new RegExp(c.index), text);
        if (store.dialect === 'sqlite') assert.match(text, /USING COVERING INDEX/, `SQLite reads no row: ${text}`);
      }
    });

    test('migration 0006 fills the refs of the events stored before it', async () => {
      const { url, options } = emptyDatabase('herald-mig6-');
      const tag = uniqueName('mig6');
      // 2500 events (several backfill batches): host events naming their cluster, cluster events, and others.
      const old = Array.from({ length: 2500 }, (_, i) => ev({
        id: `${tag}-${i}`, time: new Date(Date.parse('2018-01-01T00:00:00Z') + i * 1000).toISOString(),
        ...(i % 5 === 0 ? { entity: { kind: 'cluster', id: `${tag}-c${i % 10}` } }
          : i % 5 === 1 ? { entity: { kind: 'host', id: `${tag}-h${i % 20}` }, data: { cluster_id: `${tag}-c${i % 10}`, category: i % 2 === 1 ? 'metrics' : 'user' } }
          : { entity: { kind: 'node', id: 'n' }, data: { note: 'cluster_id mentioned in text only' } }),
      }));
      const abilities = dialect.name === 'sqlite' ? sqliteAbilities : postgresAbilities;
      const before = await openStore(url, options);
      try {
        const migrator = new Migrator({ db: before.db, provider: migrationProvider(abilities), ...(options.schema !== undefined && { migrationTableSchema: options.schema }) });
        assert.equal((await migrator.migrateTo('0002_event_counts')).error, undefined);
        for (let i = 0; i < old.length; i += 500) await before.db.insertInto('herald_events').values(old.slice(i, i + 500).map((e) => eventRow(e, Date.now()))).execute();
        await assert.rejects(before.db.selectFrom('herald_event_refs').selectAll().execute());
      } finally {
        await before.close();
      }
      const s = await openStore(url, options);
      try {
        await s.migrate([outboxSchema]);
        const rows = await s.db.selectFrom('herald_event_refs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        // clusters: 500 events × 1; hosts: 500 × (host + cluster) + 250 metrics.
        assert.equal(Number(rows.n), 500 + 500 * 2 + 250);
        // c0: the cluster's own events (i % 10 = 0); c1: its hosts' events (i % 10 = 1), found through data.cluster_id.
        for (const k of [0, 1]) {
          const p = await s.query({ ...Q, limit: 0, refs: [[{ kind: 'cluster', ids: [`${tag}-c${k}`] }]] });
          assert.equal(p.total, 250, `c${k}`);
        }
        assert.equal((await s.query({ ...Q, limit: 0, refs: [[{ kind: 'category', ids: ['metrics'] }]] })).total, 250);
        // Running 0006 again (a racing process, or a crash before it was recorded) keeps the rows exact.
        await (await migrationProvider(abilities).getMigrations())['0006_event_refs']!.up(s.db);
        const again = await s.db.selectFrom('herald_event_refs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(again.n), Number(rows.n));
      } finally {
        await s.close();
      }
    });

    test('ping, and use after close fails clearly', async () => {
      const s = await dialect.open();
      await s.migrate();
      assert.equal(await s.ping(), true);
      await s.close();
      assert.equal(await s.ping(), false);
      await assert.rejects(s.query(Q), (err: Error & { code?: string }) => err.code === 'CLOSED');
    });
  });
}
