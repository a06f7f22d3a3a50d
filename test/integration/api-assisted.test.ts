/**
 * GET /api/assisted-install/v2/events, the Assisted Installer's own list, through app.inject()
 * on both store dialects (SQLite in a temporary file, PostgreSQL from test/helpers/env.ts).
 * Events are posted through POST /v2/events, as a Herald user would; the expectations are
 * assisted-service's own test vectors and behaviour:
 * openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de
 *   internal/events/event_test.go (Pagination, Filtering, wildcards, escape, category, authorization),
 *   internal/events/event.go, internal/events/events_api.go, swagger.yaml (v2ListEvents),
 *   restapi/operations/events/v2_list_events_{parameters,responses}.go, pkg/app/middleware.go.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/index.js';
import { loadConfig } from '../../src/config/index.js';
import { openTestPipeline, TEST_DIALECTS, type TestPipeline } from '../helpers/stores.js';

const PATH = '/api/assisted-install/v2/events';
// The Filtering fixture's deleted hosts (event_test.go).
const DELETED_1 = '1e45d128-4a69-4e71-9b50-b7e289a09d9a';
const DELETED_2 = '2a635bca-29ac-34bc-12ad-ac38475abc12';

/** time.Date(2023, 2, day, hour, 0, 0, 0, UTC); Go normalizes hours past 23 into the next days. */
const goDate = (day: number, hour: number) => new Date(Date.UTC(2023, 1, day, hour)).toISOString();

interface Item { name?: string; cluster_id?: string; host_id?: string; infra_env_id?: string; severity: string; event_time: string; message: string; props?: string }

for (const dialect of TEST_DIALECTS) {
  describe(`Assisted Installer list (${PATH}) on ${dialect}`, () => {
    let opened: TestPipeline | undefined;
    let app: FastifyInstance;
    before(async () => {
      opened = await openTestPipeline(dialect, 'assisted-api', { startRelays: false });
      app = await buildApp({ store: opened.store, ingest: opened.pipeline.ingest, config: loadConfig({ env: {} }) });
    });
    after(async () => {
      await app?.close();
      await opened?.dispose();
    });

    /** An upstream V2AddEvent(cluster, host, infraEnv, name, severity, message, time) as a Herald event. */
    const add = (clusterId: string | null, hostId: string | null, infraEnvId: string | null, name: string, severity: string, message: string, time: string, extra: Record<string, unknown> = {}) => ({
      source: 'assisted-service', type: name, severity, message, time,
      ...(hostId !== null ? { entity: { kind: 'host', id: hostId } } : clusterId !== null ? { entity: { kind: 'cluster', id: clusterId } } : { entity: { kind: 'infra-env', id: infraEnvId! } }),
      data: { ...(clusterId !== null && hostId !== null && { cluster_id: clusterId }), ...(infraEnvId !== null && (hostId !== null || clusterId !== null) && { infra_env_id: infraEnvId }), ...extra },
    });
    const post = async (events: unknown[]) => {
      const r = await app.inject({ method: 'POST', url: '/v2/events', payload: events as object[] });
      assert.equal(r.statusCode, 202, r.body);
    };
    const get = (qs: string) => app.inject({ url: `${PATH}?${qs}` });
    const list = async (qs: string) => {
      const r = await get(qs);
      assert.equal(r.statusCode, 200, r.body);
      const h = r.headers;
      return {
        items: r.json() as Item[],
        count: Number(h['event-count']),
        sev: [h['severity-count-info'], h['severity-count-warning'], h['severity-count-error'], h['severity-count-critical']].map(Number),
        r,
      };
    };

    describe('Pagination (event_test.go Context "Pagination")', () => {
      const cluster = randomUUID();
      const host = randomUUID();
      const infraEnv = randomUUID();
      before(() => post([
        add(cluster, host, infraEnv, 'cluster_installation_completed', 'info', 'Installation completed', goDate(21, 20)),
        add(cluster, host, infraEnv, 'cluster_installation_failed', 'info', 'Installation failed', goDate(21, 30)),
        add(cluster, host, infraEnv, 'cluster_installation_canceled', 'info', 'Installation canceled', goDate(21, 40)),
      ]));
      const page = async (params: string) => {
        const p = await list(`cluster_id=${cluster}${params}`);
        return { names: p.items.map((i) => i.name), messages: p.items.map((i) => i.message), count: p.count };
      };

      test('limit -1: all, ascending by event_time', async () => {
        const p = await page('&limit=-1');
        assert.deepEqual(p.messages, ['Installation completed', 'Installation failed', 'Installation canceled']);
      });
      test('limit/offset vectors', async () => {
        assert.deepEqual(await page('&limit=1&offset=1'), { names: ['cluster_installation_failed'], messages: ['Installation failed'], count: 3 });
        assert.deepEqual((await page('&limit=3&offset=1')).names, ['cluster_installation_failed', 'cluster_installation_canceled']);
        assert.equal((await page('&limit=-10&offset=0')).names.length, 3, 'below -1 is unlimited');
        assert.equal((await page('&limit=2&offset=-2')).names.length, 2, 'a negative offset is 0');
        assert.deepEqual(await page('&limit=2&offset=4'), { names: [], messages: [], count: 3 });
        assert.equal((await page('&offset=1')).names.length, 2, 'no limit: the default 5000');
        assert.deepEqual(await page('&limit=0&offset=2'), { names: [], messages: [], count: 3 });
        assert.equal((await page('&limit=1')).names.length, 1);
      });
      test('order=descending', async () => {
        assert.deepEqual((await page('&order=descending')).messages, ['Installation canceled', 'Installation failed', 'Installation completed']);
      });
    });

    describe('Filtering (event_test.go Context "Filtering"): Event-Count after severities, Severity-Count-* before', () => {
      const cluster1 = randomUUID();
      const cluster2 = randomUUID();
      const host = randomUUID();
      const host2 = randomUUID();
      const infraEnv1 = randomUUID();
      before(() => post([
        add(cluster1, host, infraEnv1, 'cluster_installation_completed', 'info', 'Installation completed', goDate(21, 20)),
        add(cluster1, host, infraEnv1, 'cluster_installation_failed', 'warning', 'Installation failed', goDate(21, 30)),
        add(cluster1, host2, infraEnv1, 'cluster_installation_canceled', 'error', 'Installation canceled', goDate(21, 40)),
        add(cluster1, host2, infraEnv1, 'cluster_installation_canceled', 'critical', 'Upgrade failed', goDate(21, 50)),
        add(cluster1, null, null, 'cluster_prepare_installation_started', 'info', 'Cluster installation prepare', goDate(22, 0)),
        add(cluster1, null, null, 'cluster_installation_completed', 'warning', 'Cluster installation completed', goDate(22, 10)),
        add(cluster1, null, null, 'cluster_installation_completed', 'error', 'Cluster installation not completed', goDate(22, 10)),
        add(cluster1, DELETED_1, infraEnv1, 'host_cancel_installation_failed', 'info', 'Host cancel installation failed', goDate(21, 30)),
        add(cluster1, DELETED_2, infraEnv1, 'host_cancel_installation_failed', 'warning', 'Host disconnected', goDate(21, 30)),
        add(cluster2, null, null, 'cluster_installation_completed', 'critical', 'Cluster is not ready for installation', goDate(22, 20)),
      ]));

      // [query after cluster_id, Event-Count, [info, warning, error, critical], returned] — upstream's vectors.
      const rows: Array<[string, number, number[], number]> = [
        ['severities=warning&limit=2', 3, [3, 3, 2, 1], 2],
        ['severities=info&message=installation&limit=1', 3, [3, 2, 2, 0], 1],
        ['severities=info', 3, [3, 3, 2, 1], 3],
        ['message=Installation%20failed', 2, [1, 1, 0, 0], 2],
        ['message=failed', 3, [1, 1, 0, 1], 3],
        ['severities=warning&message=Installation%20canceled', 0, [0, 0, 1, 0], 0],
        ['severities=error&message=Installation%20canceled', 1, [0, 0, 1, 0], 1],
        ['cluster_level=true', 3, [1, 1, 1, 0], 3],
        [`host_ids=${'HOST'}`, 2, [1, 1, 0, 0], 2],
        [`host_ids=${'HOST'}&cluster_level=true`, 5, [2, 2, 1, 0], 5],
        ['severities=info&cluster_level=true', 1, [1, 1, 1, 0], 1],
        [`host_ids=${'HOST2'}&severities=error`, 1, [0, 0, 1, 1], 1],
        [`host_ids=${'HOST2'}&severities=warning&message=Upgrade%20failed`, 0, [0, 0, 0, 1], 0],
        [`host_ids=${'HOST2'}&severities=error&cluster_level=true`, 2, [1, 1, 2, 1], 2],
        ['message=Cluster%20installation%20completed&cluster_level=true', 1, [0, 1, 0, 0], 1],
        [`host_ids=${'HOST2'}&message=Installation%20canceled`, 1, [0, 0, 1, 0], 1],
        [`host_ids=${'HOST2'}&message=Installation%20canceled&cluster_level=true`, 1, [0, 0, 1, 0], 1],
      ];
      for (const [qs, count, sev, returned] of rows) {
        test(`cluster_id=cluster1&${qs}`, async () => {
          const p = await list(`cluster_id=${cluster1}&${qs.replace('HOST2', host2).replace('HOST', host)}`);
          assert.deepEqual({ count: p.count, sev: p.sev, returned: p.items.length }, { count, sev, returned });
          assert.ok(p.items.every((i) => i.cluster_id === cluster1));
        });
      }

      // Herald's own list has the same scope and count semantics (src/api/query.ts assistedScope):
      // the same vectors through GET /v2/events, with Herald's event shape and its extra debug count.
      for (const [qs, count, sev, returned] of rows) {
        test(`/v2/events?cluster_id=cluster1&${qs}`, async () => {
          const r = await app.inject({ url: `/v2/events?cluster_id=${cluster1}&${qs.replace('HOST2', host2).replace('HOST', host)}` });
          assert.equal(r.statusCode, 200, r.body);
          const h = r.headers;
          const got = [h['severity-count-info'], h['severity-count-warning'], h['severity-count-error'], h['severity-count-critical']].map(Number);
          const events = r.json() as Array<{ entity?: { kind: string; id: string }; data?: { cluster_id?: string } }>;
          assert.deepEqual({ count: Number(h['event-count']), sev: got, returned: events.length, debug: h['severity-count-debug'] }, { count, sev, returned, debug: '0' });
          assert.ok(events.every((e) => e.entity?.id === cluster1 || e.data?.cluster_id === cluster1));
        });
      }
      test('/v2/events: host_id folded into host_ids, cluster_level alone', async () => {
        const hdr = async (qs: string) => (await app.inject({ url: `/v2/events?${qs}` })).headers['event-count'];
        assert.equal(await hdr(`cluster_id=${cluster1}&host_id=${host}`), '2');
        assert.equal(await hdr(`cluster_id=${cluster1}&host_id=${host}&host_ids=${host2}`), '4');
        assert.equal(await hdr(`cluster_id=${cluster1}&cluster_level=true`), '3');
        assert.equal(await hdr(`host_id=${host2}`), '2');
      });

      test('the deprecated host_id is folded into host_ids', async () => {
        const a = await list(`cluster_id=${cluster1}&host_id=${host}`);
        assert.deepEqual([a.count, a.sev], [2, [1, 1, 0, 0]]);
        const b = await list(`cluster_id=${cluster1}&host_id=${host}&host_ids=${host2}`);
        assert.equal(b.count, 4);
      });

      test('host events carry cluster_id, host_id and infra_env_id; cluster events only cluster_id', async () => {
        const p = await list(`cluster_id=${cluster1}&host_ids=${host}&cluster_level=true&limit=-1`);
        const first = p.items.find((i) => i.message === 'Installation completed')!;
        assert.deepEqual(first, { cluster_id: cluster1, event_time: '2023-02-21T20:00:00.000Z', host_id: host, infra_env_id: infraEnv1, message: 'Installation completed', name: 'cluster_installation_completed', severity: 'info' });
        assert.deepEqual(Object.keys(p.items.find((i) => i.message === 'Cluster installation prepare')!), ['cluster_id', 'event_time', 'message', 'name', 'severity']);
      });

      test('without cluster_id: host_ids or infra_env_id scope, all severity counts 0, message ignored', async () => {
        const h = await list(`host_ids=${host2}&message=nothing-matches-this`);
        assert.deepEqual([h.count, h.sev, h.items.map((i) => i.message)], [2, [0, 0, 0, 0], ['Installation canceled', 'Upgrade failed']]);
        // "gets infra-env's events when specifying infra-env": the infra-env's hosts' events too.
        const ie = await list(`infra_env_id=${infraEnv1}&severities=warning`);
        assert.deepEqual([ie.count, ie.sev], [2, [0, 0, 0, 0]]);
        // host_ids win over infra_env_id.
        assert.equal((await list(`infra_env_id=${infraEnv1}&host_ids=${host}`)).count, 2);
      });

      test('deleted_hosts: Herald keeps no deleted hosts, so the flag matches no event (a deliberate difference)', async () => {
        // Upstream: 2 (the deleted hosts' events); Herald: none, and nothing added to an OR.
        const alone = await list(`cluster_id=${cluster1}&deleted_hosts=true`);
        assert.deepEqual([alone.count, alone.sev, alone.items], [0, [0, 0, 0, 0], []]);
        const withLevel = await list(`cluster_id=${cluster1}&deleted_hosts=true&cluster_level=true`);
        assert.deepEqual([withLevel.count, withLevel.sev], [3, [1, 1, 1, 0]]);
        // A deleted host's events are still the cluster's events (upstream too: no deleted filter on cluster_id).
        assert.equal((await list(`cluster_id=${cluster1}&host_ids=${DELETED_2}`)).count, 1);
        assert.equal((await list(`cluster_id=${cluster1}&deleted_hosts=false`)).count, 9);
      });
    });

    test('message: LIKE wildcards and the escape character are literal (event_test.go "wildcards", "escape char")', async () => {
      const wild = randomUUID();
      const esc = randomUUID();
      await post([
        add(wild, null, null, 'cluster_installation_completed', 'info', 'Host: jg-test-16386-master-1, reached installation stage Writing image to disk: 24_ rest', goDate(25, 40)),
        add(wild, null, null, 'cluster_installation_completed', 'info', 'Host: jg-test-16386-master-1, reached installation stage Writing image to disk: 24% rest', goDate(25, 50)),
        add(esc, null, null, 'cluster_installation_completed', 'info', 'Host: test-infra-cluster-bd49f89a-worker-1, reached installation stage Writing image to disk: 97%', goDate(25, 50)),
      ]);
      const counted = async (cluster: string, message: string) => {
        const p = await list(`cluster_id=${cluster}&message=${encodeURIComponent(message)}`);
        assert.equal(p.items.length, p.count);
        return [p.count, p.sev[0]];
      };
      const vectors: Array<[string, number]> = [['%', 1], ['24%', 1], ['%%', 0], ['\\%', 0], ['_', 1], ['24_', 1], ['__', 0], ['\\_', 0]];
      for (const [m, n] of vectors) assert.deepEqual(await counted(wild, m), [n, n], `message ${JSON.stringify(m)}`);
      for (const m of ['\\', '%35C']) assert.deepEqual(await counted(esc, m), [0, 0], `message ${JSON.stringify(m)}`);
      assert.deepEqual(await counted(esc, 'WRITING IMAGE'), [1, 1], 'case-insensitive');
    });

    test('categories: user by default, metrics on request (event_test.go "event category")', async () => {
      const c = randomUUID();
      await post([
        add(c, null, null, 'fake_event', 'info', 'user', new Date().toISOString()),
        add(c, null, null, 'fake_event', 'info', 'metrics', new Date().toISOString(), { category: 'metrics' }),
      ]);
      assert.deepEqual((await list(`cluster_id=${c}`)).items.map((i) => i.message), ['user']);
      assert.deepEqual((await list(`cluster_id=${c}&categories=metrics`)).items.map((i) => i.message), ['metrics']);
      assert.equal((await list(`cluster_id=${c}&categories=user,metrics`)).count, 2);
      assert.equal((await list(`cluster_id=${c}&categories=nope`)).count, 0);
    });

    test('no scope: what an admin gets ("gets all events"): every event, message ignored, severity counts 0', async () => {
      // event_test.go "authorization" fixture: two cluster events, an unbound infra-env event, an
      // unbound host event and a bound host event; an admin lists them all without a scope.
      const [c1, c2, ie, h] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const marker = `marker-${randomUUID()}`;
      const now = Date.now();
      await post([
        add(c1, null, null, 'cluster1-org1', 'info', `msg ${marker}`, new Date(now).toISOString()),
        add(c2, null, null, 'cluster2-org1', 'info', `msg ${marker}`, new Date(now + 1).toISOString()),
        add(null, null, ie, 'unbound-infra1-org1', 'info', `msg ${marker}`, new Date(now + 2).toISOString()),
        add(null, h, ie, 'unbound-host-infra1-org1', 'info', `msg ${marker}`, new Date(now + 3).toISOString()),
        add(c1, h, ie, 'bound-host-on-cluster1-infra1-org1', 'info', `msg ${marker}`, new Date(now + 4).toISOString()),
        // Not an Assisted event at all: still one of all events.
        { source: 'other', type: 'node_up', severity: 'warning', message: `msg ${marker}`, time: new Date(now + 5).toISOString(), entity: { kind: 'node', id: 'n1' } },
      ]);
      const p = await list('limit=-1&message=no-such-message');
      const mine = p.items.filter((i) => i.message === `msg ${marker}`);
      assert.deepEqual(mine.map((i) => i.name), ['cluster1-org1', 'cluster2-org1', 'unbound-infra1-org1', 'unbound-host-infra1-org1', 'bound-host-on-cluster1-infra1-org1', 'node_up']);
      assert.deepEqual(mine[5], { event_time: new Date(now + 5).toISOString(), message: `msg ${marker}`, name: 'node_up', severity: 'warning' });
      assert.equal(p.count, p.items.length);
      assert.deepEqual(p.sev, [0, 0, 0, 0], 'countEventsBySeverity counts only with a cluster_id');
      // severities and paging apply as with a scope.
      const warnings = await list('severities=warning&limit=-1');
      assert.ok(warnings.items.every((i) => i.severity === 'warning'));
      assert.ok(warnings.items.some((i) => i.name === 'node_up' && i.message === `msg ${marker}`));
      assert.deepEqual((await list('order=descending&limit=1')).items.map((i) => i.name), ['node_up']);
      assert.equal((await list('limit=2')).items.length, 2);
      // Scoped the fixture's own way: "gets cluster's events", "gets infra-env's events", "gets hosts's events".
      assert.deepEqual((await list(`cluster_id=${c1}`)).items.map((i) => i.name), ['cluster1-org1', 'bound-host-on-cluster1-infra1-org1']);
      assert.deepEqual((await list(`infra_env_id=${ie}`)).items.map((i) => i.name), ['unbound-infra1-org1', 'unbound-host-infra1-org1', 'bound-host-on-cluster1-infra1-org1']);
      assert.deepEqual((await list(`host_ids=${h}&infra_env_id=${ie}`)).items.map((i) => i.name), ['unbound-host-infra1-org1', 'bound-host-on-cluster1-infra1-org1']);
      // A cluster nobody has: "non-existing id returns empty list".
      const none = await list(`cluster_id=${randomUUID()}`);
      assert.deepEqual([none.items, none.count, none.r.body], [[], 0, '[]\n']);
    });

    test('the response as the generated writer sends it: five headers, JSON with a newline, items without category/request_id', async () => {
      const c = randomUUID();
      await post([{ source: 's', type: 'debug_note', severity: 'debug', time: '2024-05-01T12:00:00.5Z', entity: { kind: 'cluster', id: c }, data: { request_id: randomUUID(), category: 'user', b: '<2>', a: 1 } }]);
      // Entity notifications are the stream's snapshots, not events of the list.
      const put = await app.inject({ method: 'PUT', url: `/v2/entities/cluster/${c}/state`, payload: { state: 'READY' } });
      assert.equal(put.statusCode, 200, put.body);
      const p = await list(`cluster_id=${c}`);
      assert.match(String(p.r.headers['content-type']), /^application\/json/);
      for (const h of ['event-count', 'severity-count-info', 'severity-count-warning', 'severity-count-error', 'severity-count-critical']) assert.ok(h in p.r.headers, h);
      assert.equal(p.r.headers['severity-count-debug'], undefined);
      assert.equal(p.r.body, `[{"cluster_id":"${c}","event_time":"2024-05-01T12:00:00.500Z","message":"","name":"debug_note","props":"{\\"a\\":1,\\"b\\":\\"\\\\u003c2\\\\u003e\\"}","severity":"info"}]\n`);
      // Herald's debug is the Assisted info: listed and counted as info.
      assert.deepEqual([p.count, p.sev], [1, [1, 0, 0, 0]]);
      assert.equal((await list(`cluster_id=${c}&severities=info`)).count, 1);
    });

    test('bad parameters: 400 {"code":400,"message":…} with go-openapi\'s message (WrapServeError turns 422 into 400)', async () => {
      const bad = async (qs: string, message: string) => {
        const r: LightMyRequestResponse = await get(qs);
        assert.equal(r.statusCode, 400, r.body);
        assert.equal(r.body, `${JSON.stringify({ code: 400, message })}\n`);
      };
      await bad('cluster_id=not-a-uuid', 'cluster_id in query must be of type uuid: "not-a-uuid"');
      await bad(`cluster_id=${randomUUID()}&severities=INFO`, 'severities.0 in query should be one of [info warning error critical]');
      await bad(`cluster_id=${randomUUID()}&order=asc`, 'order in query should be one of [ascending descending]');
      await bad(`cluster_id=${randomUUID()}&limit=5x`, 'limit in query must be of type int64: "5x"');
      await bad(`host_ids=${randomUUID()},x`, 'host_ids.1 in query must be of type uuid: "x"');
      // Unknown parameters are ignored, as by the generated binder (there is no event_names upstream).
      assert.equal((await get(`cluster_id=${randomUUID()}&event_names=x`)).statusCode, 200);
    });

    test('/openapi.json documents the route as swagger.yaml does: operationId v2ListEvents, its 12 parameters, the five headers', async () => {
      const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, { get?: { operationId?: string; parameters?: Array<{ name: string; in: string }>; responses: Record<string, { headers?: Record<string, unknown> }> } }> };
      const op = doc.paths[PATH]?.get;
      assert.ok(op, `missing ${PATH}`);
      assert.equal(op.operationId, 'v2ListEvents');
      assert.deepEqual(op.parameters!.filter((x) => x.in === 'query').map((x) => x.name).sort(),
        ['categories', 'cluster_id', 'cluster_level', 'deleted_hosts', 'host_id', 'host_ids', 'infra_env_id', 'limit', 'message', 'offset', 'order', 'severities']);
      assert.deepEqual(Object.keys(op.responses['200']!.headers!).sort(), ['Event-Count', 'Severity-Count-Critical', 'Severity-Count-Error', 'Severity-Count-Info', 'Severity-Count-Warning']);
    });

    test('a store failure: 500 with the service\'s error model', async () => {
      const broken = await openTestPipeline(dialect, 'assisted-api-closed', { startRelays: false });
      const brokenApp = await buildApp({ store: broken.store, ingest: broken.pipeline.ingest, config: loadConfig({ env: {} }) });
      try {
        await broken.store.close();
        const r = await brokenApp.inject({ url: `${PATH}?cluster_id=${randomUUID()}` });
        assert.equal(r.statusCode, 500, r.body);
        const body = r.json() as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), ['code', 'href', 'id', 'kind', 'reason']);
        assert.deepEqual({ ...body, reason: typeof body.reason }, { code: '500', href: '', id: 500, kind: 'Error', reason: 'string' });
      } finally {
        await brokenApp.close();
        await broken.dispose();
      }
    });
  });
}

describe(`Assisted Installer list (${PATH}): tokens`, () => {
  let opened: TestPipeline | undefined;
  let app: FastifyInstance;
  before(async () => {
    opened = await openTestPipeline('sqlite', 'assisted-auth', { startRelays: false });
    app = await buildApp({ store: opened.store, ingest: opened.pipeline.ingest, config: loadConfig({ env: { HERALD_API_TOKENS: 'write-token-0123456789', HERALD_READ_TOKENS: 'read-token-0123456789' } }) });
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
  });

  test('the read-token rule of /v2/events; 401/403 in the service\'s infra_error shape {"code":…,"message":…}', async () => {
    const url = `${PATH}?cluster_id=${randomUUID()}`;
    const none = await app.inject({ url });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const n = none.json() as { code: number; message: string };
    assert.deepEqual(Object.keys(n), ['code', 'message']);
    assert.equal(n.code, 401);
    const wrong = await app.inject({ url, headers: { authorization: 'Bearer guess-0123456789' } });
    assert.equal(wrong.statusCode, 403);
    assert.equal((wrong.json() as { code: number }).code, 403);
    assert.ok(!wrong.body.includes('guess-0123456789'));
    for (const token of ['read-token-0123456789', 'write-token-0123456789']) {
      const ok = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.statusCode, 200, ok.body);
    }
    // Herald's own routes keep Herald's error body.
    const own = await app.inject({ url: '/v2/events' });
    assert.equal((own.json() as { code: string }).code, 'UNAUTHORIZED');
  });
});
