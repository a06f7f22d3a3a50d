/**
 * Hostile input gets a 4xx naming the field and stores nothing, the same on SQLite and
 * PostgreSQL (HERALD_TEST_PG), through the REST API over a real socket, the library (direct to
 * Kafka, HERALD_TEST_KAFKA, and durable) and `herald emit`: nesting deeper than the limit,
 * lone surrogates, NUL characters, invalid UTF-8, odd /docs/static names.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../helpers/app.js';
import { kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { openTestStore, TEST_DIALECTS, type TestStore } from '../helpers/stores.js';
import { loadConfig } from '../../src/config/index.js';
import { HeraldError } from '../../src/errors.js';
import { MAX_DATA_DEPTH } from '../../src/events/validate.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { openStore } from '../../src/store/index.js';
import { memoryLogger } from './outbox-helpers.js';

const nest = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};
/** The JSON text of `nest(levels)`, built as text (JSON.stringify itself recurses). */
const nestedJson = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** One raw HTTP request (bytes as given: no re-encoding by a client library). */
function raw(base: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: string; error?: string; details?: Array<{ path: string; message: string }> } }> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = {};
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Bodies as JSON text, so escapes such as \ud800 and \u0000 reach the server as written.
const EVENT_CASES: Array<{ name: string; body: string; path: RegExp }> = [
  { name: `data nested 5,000 levels (limit ${MAX_DATA_DEPTH})`, body: `{"source":"s","type":"t","data":${nestedJson(5000)}}`, path: /^data(\.a)+$/ },
  { name: 'data nested one level past the limit', body: JSON.stringify({ source: 's', type: 't', data: nest(MAX_DATA_DEPTH + 1) }), path: /^data(\.a)+$/ },
  { name: 'a lone surrogate as id', body: '{"id":"\\ud800","source":"s","type":"t"}', path: /^id$/ },
  { name: 'a lone low surrogate in a data key', body: '{"source":"s","type":"t","data":{"k\\udc00":1}}', path: /^data$/ },
  { name: 'NUL in message', body: '{"source":"s","type":"t","message":"a\\u0000b"}', path: /^message$/ },
  { name: 'NUL deep in data', body: '{"source":"s","type":"t","data":{"x":[1,{"y":"\\u0000"}]}}', path: /^data\.x\[1\]\.y$/ },
  { name: 'NUL in a batch member', body: '[{"source":"s","type":"t"},{"source":"s","type":"t","subject":"\\u0000"}]', path: /^\[1\]\.subject$/ },
];

for (const dialect of TEST_DIALECTS) {
  describe(`hostile input on ${dialect}`, () => {
    let ts: TestStore;
    let app: FastifyInstance;
    let base: string;
    const log = memoryLogger('info');
    before(async () => {
      ts = await openTestStore(dialect, 'hostile');
      app = await appOn(ts.store, loadConfig({ env: {} }), { logger: log.logger });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app.close();
      await ts.dispose();
    });
    const stored = async () => (await ts.store.query({ limit: 1, offset: 0, order: 'ascending' })).total;

    for (const c of EVENT_CASES) {
      test(`POST /v2/events, ${c.name}: 400 naming the field, nothing stored`, async () => {
        const before = await stored();
        const r = await raw(base, 'POST', '/v2/events', c.body);
        assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
        assert.equal(r.body.code, 'INVALID_EVENT');
        assert.match(r.body.details?.[0]?.path ?? '', c.path);
        assert.equal(await stored(), before);
      });
    }

    test('POST /v2/events with invalid UTF-8: 400, nothing stored (never replaced silently)', async () => {
      const before = await stored();
      const body = Buffer.concat([Buffer.from('{"source":"s","type":"t","message":"a'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('b"}')]);
      const r = await raw(base, 'POST', '/v2/events', body);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'INVALID_REQUEST');
      assert.match(r.body.error ?? '', /UTF-8/);
      assert.equal(await stored(), before);
    });

    test('PUT entity state: deep attributes, NUL in the state, NUL in the path id: 400 naming the field, no entity', async () => {
      const cases: Array<{ path: string; body: string; field: RegExp }> = [
        { path: '/v2/entities/host/h-deep/state', body: `{"state":"UP","attributes":${nestedJson(5000)}}`, field: /^attributes(\.a)+$/ },
        { path: '/v2/entities/host/h-nul/state', body: '{"state":"U\\u0000P"}', field: /^state$/ },
        { path: '/v2/entities/host/h%00x/state', body: '{"state":"UP"}', field: /^id$/ },
        { path: '/v2/entities/host/h-sur/state', body: '{"state":"UP","attributes":{"note":"\\udbff"}}', field: /^attributes\.note$/ },
      ];
      for (const c of cases) {
        const r = await raw(base, 'PUT', c.path, c.body);
        assert.equal(r.status, 400, `${c.path}: ${JSON.stringify(r.body).slice(0, 300)}`);
        assert.match(r.body.details?.[0]?.path ?? '', c.field, c.path);
      }
      assert.deepEqual((await ts.store.listEntities({ kind: 'host' })).map((e) => e.id), []);
      assert.equal(await stored(), 0);
    });

    test('/docs/static with odd names: 404, no error logged', async () => {
      for (const name of ['..%2f..%2fpackage.json', '%5c..%5c', 'a'.repeat(300), '%2e%2e/%2e%2e/etc/passwd']) {
        const r = await raw(base, 'GET', `/docs/static/${name}`);
        assert.equal(r.status, 404, name);
      }
      // A NUL in a path parameter is refused like everywhere else (400 naming it), not looked up.
      for (const name of ['%00', 'x%00.js']) {
        const r = await raw(base, 'GET', `/docs/static/${name}`);
        assert.equal(r.status, 400, name);
        assert.match(r.body.error ?? "", /path parameter/, name);
      }
      assert.equal((await raw(base, 'GET', '/docs/static/swagger-ui.css')).status, 200, 'a real asset still loads');
      assert.deepEqual(log.lines.filter((l) => l.level >= 50).map((l) => l.msg), []);
    });
  });
}

test('library (direct and durable) and herald emit refuse the same input, naming the field', async () => {
  const bad = { source: 's', type: 't', message: 'a\u0000b', data: nest(100) };
  const direct = createPublisher({ sinks: [{ name: 'k', type: 'kafka', brokers: kafkaBrokers().split(','), topic: uniqueName('hostile') }] });
  const dir = mkdtempSync(join(tmpdir(), 'herald-hostile-lib-'));
  const storeUrl = `sqlite:${join(dir, 'h.db')}`;
  const durable = createPublisher({ sinks: [{ name: 'k', type: 'kafka', brokers: kafkaBrokers().split(','), topic: uniqueName('hostile') }], durable: { store: storeUrl } });
  try {
    for (const [name, pub] of [['direct', direct], ['durable', durable]] as const) {
      await assert.rejects(pub.emit(bad), (err: unknown) => {
        assert.ok(err instanceof HeraldError, name);
        assert.equal(err.code, 'INVALID_EVENT', name);
        assert.deepEqual(err.details.map((d) => d.path.replace(/(\.a)+$/, '.a…')), ['message', 'data.a…'], name);
        return true;
      });
    }
  } finally {
    await direct.close();
    await durable.close();
  }
  const store = await openStore(storeUrl);
  try {
    assert.equal((await store.query({ limit: 1, offset: 0, order: 'ascending' })).total, 0, 'the durable publisher stored nothing');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const cli = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', uniqueName('hostile'), '--type', 't', '--source', 's', '--data', JSON.stringify(nest(100))]);
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /--data data(\.a)+: nests deeper than 64 levels/);
});
