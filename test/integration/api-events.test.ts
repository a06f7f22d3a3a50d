/**
 * The REST API end to end through app.inject(), on both store dialects: ingest, every list
 * filter, paging, order, count headers, the Assisted Installer aliases, get by id,
 * entity transitions and redaction.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/index.js';
import { loadConfig } from '../../src/config/index.js';
import { ENTITY_EVENT_TYPES, type HeraldEvent } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/index.js';
import { uniqueName } from '../helpers/env.js';
import { openTestPipeline, outboxTables, TEST_DIALECTS, type TestPipeline } from '../helpers/stores.js';


for (const dialect of TEST_DIALECTS) {
  describe(`REST API events on ${dialect}`, () => {
    let store: EventStore;
    let opened: TestPipeline | undefined;
    let app: FastifyInstance;

    before(async () => {
      const config = loadConfig({ env: { HERALD_REDACT_KEYS: 'bmc_address' } });
      // Two sinks whose filters route critical events to the pager and the rest to main; no
      // relays run, so the entries stay for the assertions.
      opened = await openTestPipeline(dialect, 'api', {
        sinks: [
          { name: 'main', type: 'stdout', filter: { severities: ['debug', 'info', 'warning', 'error'] } },
          { name: 'pager', type: 'stdout', filter: { severities: ['critical'] } },
        ],
        startRelays: false,
        redactKeys: config.redact.keys,
      });
      store = opened.store;
      app = await buildApp({ store, ingest: opened.pipeline.ingest, sinks: opened.pipeline.outbox, config });
    });
    after(async () => {
      await app?.close();
      await opened?.dispose();
    });

    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v2/events', payload: payload as object });
    const list = async (qs: string) => {
      const r = await app.inject({ url: `/v2/events?${qs}` });
      assert.equal(r.statusCode, 200, r.body);
      return { events: r.json() as HeraldEvent[], headers: r.headers };
    };

    test('POST one event: 202 after it is stored, with outbox rows for the routed sinks', async () => {
      const r = await post({ source: 'svc/a', type: 'com.example.one', entity: { kind: 'cluster', id: 'c-one' }, severity: 'critical' });
      assert.equal(r.statusCode, 202, r.body);
      const body = r.json() as { accepted: number; ids: string[] };
      assert.equal(body.accepted, 1);
      const stored = await store.get(body.ids[0]!);
      assert.equal(stored?.type, 'com.example.one');
      const outbox = await outboxTables(store).selectFrom('herald_outbox').select('sink').where('event_id', '=', body.ids[0]!).execute();
      assert.deepEqual(outbox.map((o) => o.sink), ['pager']);
      const got = await app.inject({ url: `/v2/events/${encodeURIComponent(body.ids[0]!)}` });
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.json(), stored);
    });

    test('POST accepts application/cloudevents+json', async () => {
      const r = await app.inject({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify({ specversion: '1.0', source: 's', type: 't.ce', entitykind: 'host', entityid: 'h-ce' }) });
      assert.equal(r.statusCode, 202, r.body);
      const { events } = await list('entity_kind=host&entity_id=h-ce');
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]!.entity, { kind: 'host', id: 'h-ce' });
    });

    test('a batch is all or nothing; a bad one names the index and field', async () => {
      const kind = uniqueName('batch');
      const bad = await post([{ source: 's', type: 't', entity: { kind, id: '1' } }, { source: 's', type: 't', entity: { kind, id: '2' } }, { source: 's', entity: { kind, id: '3' } }, { source: 's', type: 't', severity: 'loud' }]);
      assert.equal(bad.statusCode, 400);
      const err = bad.json() as { error: string; code: string; details: Array<{ path: string; message: string }> };
      assert.equal(err.code, 'INVALID_EVENT');
      assert.deepEqual(err.details.map((d) => d.path), ['[2].type', '[3].severity']);
      assert.match(err.error, /\[2\]\.type/);
      assert.equal((await list(`entity_kind=${kind}`)).headers['event-count'], '0');
      const good = await post(Array.from({ length: 1000 }, (_, i) => ({ source: 's', type: 't', entity: { kind, id: String(i % 7) } })));
      assert.equal(good.statusCode, 202, good.body);
      assert.equal((good.json() as { accepted: number }).accepted, 1000);
      assert.equal((await list(`entity_kind=${kind}&limit=0`)).headers['event-count'], '1000');
      const tooMany = await post(Array.from({ length: 1001 }, () => ({ source: 's', type: 't' })));
      assert.equal(tooMany.statusCode, 400);
      assert.match((tooMany.json() as { error: string }).error, /at most 1000/);
    });

    test('a retried event (same id) is accepted and stored once', async () => {
      const id = uniqueName('retry');
      for (let i = 0; i < 2; i++) assert.equal((await post({ id, source: 's', type: 't' })).statusCode, 202);
      const rows = await store.db.selectFrom('herald_events').select('seq').where('id', '=', id).execute();
      assert.equal(rows.length, 1);
    });

    describe('list filters, paging, order and count headers', () => {
      const kind = uniqueName('k');
      const base = Date.parse('2024-06-01T00:00:00Z');
      before(async () => {
        const sev = ['info', 'warning', 'error', 'critical', 'info', 'debug'];
        const events = Array.from({ length: 30 }, (_, i) => ({
          id: `${kind}-${String(i).padStart(2, '0')}`,
          source: i % 3 === 0 ? 'svc/x' : 'svc/y',
          type: `t.${i % 2}`,
          severity: sev[i % 6],
          time: new Date(base + i * 1000).toISOString(),
          entity: { kind, id: `e${i % 3}` },
          message: i === 11 ? 'Host DISK almost full' : `event ${i}`,
        }));
        assert.equal((await post(events)).statusCode, 202);
      });
      const nums = (events: HeraldEvent[]) => events.map((e) => Number(e.id.slice(-2)));

      test('entity_kind and entity_id (single, repeated, comma list)', async () => {
        const a = await list(`entity_kind=${kind}&entity_id=e1`);
        assert.deepEqual(nums(a.events), [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
        assert.equal(a.headers['event-count'], '10');
        const b = await list(`entity_kind=${kind}&entity_id=e1&entity_id=e2`);
        assert.equal(b.events.length, 20);
        const c = await list(`entity_kind=${kind}&entity_id=e1,e2`);
        assert.equal(c.events.length, 20);
      });

      test('severities (repeatable or comma list) and severity count headers', async () => {
        const a = await list(`entity_kind=${kind}&severities=error,critical`);
        assert.deepEqual(nums(a.events), [2, 3, 8, 9, 14, 15, 20, 21, 26, 27]);
        assert.equal(a.headers['event-count'], '10');
        // Counts per severity within the other filters (the severity filter does not narrow them).
        assert.equal(a.headers['severity-count-info'], '10');
        assert.equal(a.headers['severity-count-warning'], '5');
        assert.equal(a.headers['severity-count-error'], '5');
        assert.equal(a.headers['severity-count-critical'], '5');
        const b = await list(`entity_kind=${kind}&severities=error&severities=critical`);
        assert.deepEqual(nums(b.events), nums(a.events));
      });

      test('types, source, message', async () => {
        assert.equal((await list(`entity_kind=${kind}&types=t.0`)).events.length, 15);
        assert.equal((await list(`entity_kind=${kind}&types=t.0,t.1`)).events.length, 30);
        assert.deepEqual(nums((await list(`entity_kind=${kind}&types=t.1&source=svc/x`)).events), [3, 9, 15, 21, 27]);
        assert.deepEqual(nums((await list(`entity_kind=${kind}&message=disk%20ALMOST`)).events), [11]);
      });

      test('since (inclusive) and until (exclusive)', async () => {
        const since = new Date(base + 10_000).toISOString();
        const until = new Date(base + 13_000).toISOString();
        const a = await list(`entity_kind=${kind}&since=${since}&until=${until}`);
        assert.deepEqual(nums(a.events), [10, 11, 12]);
      });

      test('limit, offset and order', async () => {
        const a = await list(`entity_kind=${kind}&limit=5&offset=5`);
        assert.deepEqual(nums(a.events), [5, 6, 7, 8, 9]);
        assert.equal(a.headers['event-count'], '30');
        const b = await list(`entity_kind=${kind}&limit=3&order=descending`);
        assert.deepEqual(nums(b.events), [29, 28, 27]);
        const c = await list(`entity_kind=${kind}&limit=3&offset=28&order=ascending`);
        assert.deepEqual(nums(c.events), [28, 29]);
        const d = await list(`entity_kind=${kind}`);
        assert.equal(d.events.length, 30); // default limit 100
      });
    });

    // The Assisted aliases with the Assisted Installer's scope (openshift/assisted-service @ 063b2579
    // internal/events/event.go filterEvents / buildDisjunctiveQuery, internal/events/events_api.go):
    // cluster_id includes the cluster's hosts' events, host_id joins host_ids, cluster_level selects
    // the events without a host (OR the host_ids' events). This test used to expect cluster_id to
    // give only events whose entity is the cluster, and host_ids to win over cluster_id.
    test('aliases cluster_id, host_ids, host_id, infra_env_id, cluster_level (upstream scope)', async () => {
      const c = uniqueName('c');
      const ie = `${c}-ie`;
      await post([
        { source: 's', type: 't', message: 'cluster', entity: { kind: 'cluster', id: c } },
        { source: 's', type: 't', message: 'h1', entity: { kind: 'host', id: `${c}-h1` }, data: { cluster_id: c, infra_env_id: ie } },
        { source: 's', type: 't', message: 'h2', entity: { kind: 'host', id: `${c}-h2` }, data: { cluster_id: c, infra_env_id: ie } },
        { source: 's', type: 't', message: 'h3', entity: { kind: 'host', id: `${c}-h3` } },
        { source: 's', type: 't', message: 'ie', entity: { kind: 'infra-env', id: ie }, data: { cluster_id: c } },
      ]);
      const msgs = async (qs: string) => (await list(qs)).events.map((e) => e.message);
      assert.deepEqual(await msgs(`cluster_id=${c}`), ['cluster', 'h1', 'h2', 'ie']);
      assert.equal((await list(`cluster_id=${c}`)).headers['event-count'], '4');
      assert.deepEqual(await msgs(`cluster_id=${c}&host_ids=${c}-h1`), ['h1']);
      assert.deepEqual(await msgs(`cluster_id=${c}&cluster_level=true`), ['cluster', 'ie']);
      assert.deepEqual(await msgs(`cluster_id=${c}&cluster_level=true&host_ids=${c}-h2`), ['cluster', 'h2', 'ie']);
      assert.deepEqual(await msgs(`cluster_id=${c}&host_id=${c}-h2&host_ids=${c}-h1`), ['h1', 'h2']);
      assert.deepEqual(await msgs(`host_ids=${c}-h1,${c}-h2`), ['h1', 'h2']);
      assert.deepEqual(await msgs(`host_ids=${c}-h1&host_ids=${c}-h3`), ['h1', 'h3']);
      assert.deepEqual(await msgs(`host_id=${c}-h3`), ['h3']);
      assert.deepEqual(await msgs(`infra_env_id=${ie}`), ['h1', 'h2', 'ie']);
      // Herald's own list keeps its message filter (applied with any scope) and its counts.
      const m = await list(`infra_env_id=${ie}&message=H2`);
      assert.deepEqual([m.events.map((e) => e.message), m.headers['severity-count-info']], [['h2'], '1']);
      const clash = await app.inject({ url: `/v2/events?cluster_id=${c}&entity_kind=host` });
      assert.equal(clash.statusCode, 400);
      assert.equal((clash.json() as { details: Array<{ path: string }> }).details[0]!.path, 'cluster_id');
      const badLevel = await app.inject({ url: `/v2/events?cluster_id=${c}&cluster_level=maybe` });
      assert.equal(badLevel.statusCode, 400);
    });

    test('GET /v2/events/{id}: 404 for an unknown id', async () => {
      const r = await app.inject({ url: '/v2/events/does-not-exist' });
      assert.equal(r.statusCode, 404);
      assert.deepEqual(r.json(), { error: 'no event with id "does-not-exist"', code: 'NOT_FOUND' });
    });

    test('redaction before storing: secret keys, URL credentials, extra keys', async () => {
      const r = await post({
        source: 's', type: 't.secret', message: 'proxy http://u:hunter2@proxy:3128 down',
        data: { cluster: { name: 'c', pull_secret: 'PS', bmc_address: 'redfish://10.0.0.1', hosts: [{ bmc: { password: 'pw' } }] } },
      });
      const id = (r.json() as { ids: string[] }).ids[0]!;
      const stored = await store.get(id);
      const text = JSON.stringify(stored);
      for (const secret of ['hunter2', '"PS"', 'redfish', '"pw"']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
      assert.match(stored!.message!, /u:\[REDACTED\]@proxy/);
      const entity = await app.inject({ method: 'PUT', url: '/v2/entities/cluster/redact-c/state', payload: { state: 'READY', attributes: { api_token: 'tok123', ok: 1 } } });
      assert.equal(entity.statusCode, 200);
      assert.ok(!entity.body.includes('tok123'));
      const enter = await store.query({ entityKind: 'cluster', entityIds: ['redact-c'], limit: 10, offset: 0, order: 'ascending' });
      assert.ok(!JSON.stringify(enter.events).includes('tok123'));
    });

    test('entity state: PUT produces leave/enter/list, GET /v2/entities filters', async () => {
      const kind = uniqueName('env').replace(/-/g, '_');
      const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v2/entities/${kind}/${id}/state`, payload: body as object });
      const first = await put('e1', { state: 'CONFIGURED', attributes: { runNumber: 0 } });
      assert.equal(first.statusCode, 200, first.body);
      const f = first.json() as { previous: unknown; current: { state: string }; events: string[] };
      assert.equal(f.previous, null);
      assert.equal(f.current.state, 'CONFIGURED');
      assert.equal(f.events.length, 2); // enter + the list of the watched state

      const run = await put('e1', { state: 'running', attributes: { runNumber: 7, runType: 'PHYSICS', detectors: ['TPC'] } });
      const r = run.json() as { previous: { state: string }; current: { state: string; attributes: Record<string, unknown> }; events: string[] };
      assert.equal(r.previous.state, 'CONFIGURED');
      assert.equal(r.current.state, 'RUNNING');
      assert.deepEqual(r.current.attributes, { runNumber: 7, runType: 'PHYSICS', detectors: ['TPC'] });
      const types = await Promise.all(r.events.map(async (id) => (await store.get(id))!.type));
      assert.deepEqual(types, [ENTITY_EVENT_TYPES.leave, ENTITY_EVENT_TYPES.enter, ENTITY_EVENT_TYPES.list]);
      // Every notification was queued for the routed sink.
      const outbox = await outboxTables(store).selectFrom('herald_outbox').select('event_id').where('event_id', 'in', r.events).execute();
      assert.equal(outbox.length, 3);

      const destroy = await put('e1', { state: 'DESTROY' });
      assert.equal((destroy.json() as { current: { state: string } }).current.state, 'UNKNOWN');
      await put('e2', { state: 'RUNNING' });

      const all = await app.inject({ url: `/v2/entities?kind=${kind}` });
      assert.deepEqual((all.json() as Array<{ id: string; state: string }>).map((e) => [e.id, e.state]), [['e1', 'UNKNOWN'], ['e2', 'RUNNING']]);
      const running = await app.inject({ url: `/v2/entities?kind=${kind}&state=RUNNING` });
      assert.deepEqual((running.json() as Array<{ id: string }>).map((e) => e.id), ['e2']);

      const leaves = await list(`entity_kind=${kind}&types=${ENTITY_EVENT_TYPES.leave}`);
      assert.equal(leaves.headers['event-count'], '2');

      const bad = await put('e3', { state: 42 });
      assert.equal(bad.statusCode, 400);
      assert.equal((bad.json() as { details: Array<{ path: string }> }).details[0]!.path, 'state');
      const badKind = await app.inject({ method: 'PUT', url: '/v2/entities/9bad/x/state', payload: { state: 'RUNNING' } });
      assert.equal(badKind.statusCode, 400);
    });
  });
}
