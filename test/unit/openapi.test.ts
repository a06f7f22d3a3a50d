/**
 * The OpenAPI document (/openapi.json) against the app that serves it: every operation named,
 * security exactly where the auth hook really asks for a token (found by calling each route
 * without one), the list's count headers as the route sends them, named component schemas,
 * and every reference resolvable. `npm run lint:openapi` lints the same document with Redocly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/store/index.js';
import { appOn } from '../helpers/app.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description?: string; headers?: Record<string, unknown>; content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string; description?: string }> };
}

const WRITE_TOKEN = 'openapi-test-write-0123456789';
const READ_TOKEN = 'openapi-test-read-0123456789';

async function openApp(env: Record<string, string>): Promise<FastifyInstance & { pipeline: { close(): Promise<void> } }> {
  const store = await openStore('sqlite::memory:');
  return appOn(store, loadConfig({ env }));
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

/** A request target for a documented path: its parameters filled with plausible values. */
const target = (path: string) => path.replace('{kind}', 'cluster').replace(/\{[^}]+\}/g, 'x');

describe('OpenAPI document', () => {
  let open: Awaited<ReturnType<typeof openApp>>;
  let guarded: Awaited<ReturnType<typeof openApp>>;
  let doc: Document;
  let guardedDoc: Document;

  before(async () => {
    open = await openApp({});
    guarded = await openApp({ HERALD_API_TOKENS: WRITE_TOKEN, HERALD_READ_TOKENS: READ_TOKEN });
    doc = (await open.inject({ url: '/openapi.json' })).json() as Document;
    guardedDoc = (await guarded.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${READ_TOKEN}` } })).json() as Document;
  });
  after(async () => {
    for (const app of [open, guarded]) {
      await app.close();
      await app.pipeline.close();
    }
  });

  test('every operation has a unique camelCase operationId and a declared tag', () => {
    const ops = operations(doc);
    assert.ok(ops.length >= 15, `only ${ops.length} operations`);
    const ids = ops.map(({ path, method, op }) => {
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]*$/, `${method} ${path}: operationId ${op.operationId}`);
      assert.ok((op.tags ?? []).length > 0, `${method} ${path}: no tag`);
      for (const tag of op.tags ?? []) assert.ok(doc.tags?.some((t) => t.name === tag && t.description), `${method} ${path}: tag ${tag} is not declared`);
      return op.operationId;
    });
    assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.join(', ')}`);
    for (const [id, path] of [['ingestEvents', '/v2/events'], ['listEvents', '/v2/events'], ['getEvent', '/v2/events/{id}'], ['streamEvents', '/v2/events/stream'], ['setEntityState', '/v2/entities/{kind}/{id}/state'], ['v2ListEvents', '/api/assisted-install/v2/events']] as const) {
      assert.ok(Object.values(doc.paths[path] ?? {}).some((op) => op.operationId === id), `${path} has no operation ${id}`);
    }
  });

  test('bearer security exactly on the routes that check a token (401 without one when tokens are configured)', async () => {
    assert.deepEqual({ ...guardedDoc.components.securitySchemes.bearer, description: undefined }, { type: 'http', scheme: 'bearer', description: undefined });
    assert.match(guardedDoc.components.securitySchemes.bearer!.description!, /only when tokens are configured/);
    const checked: string[] = [];
    for (const { path, method, op } of operations(guardedDoc)) {
      const r = await guarded.inject({ method: method as 'GET', url: target(path) });
      const where = `${method} ${path}`;
      if (r.statusCode === 401) {
        checked.push(where);
        assert.deepEqual(op.security, [{ bearer: [] }], `${where} checks a token: its security must be bearer`);
        assert.ok(op.responses['401'] && op.responses['403'], `${where} must document 401 and 403`);
        assert.ok(op.responses['401']!.headers?.['WWW-Authenticate'], `${where}: 401 must document WWW-Authenticate`);
      } else {
        assert.deepEqual(op.security, [], `${where} answers ${r.statusCode} without a token: it must not claim security`);
      }
    }
    for (const w of ['POST /v2/events', 'PUT /v2/entities/{kind}/{id}/state', 'GET /v2/events', 'GET /v2/events/stream', 'GET /v2/sinks', 'GET /api/assisted-install/v2/events']) {
      assert.ok(checked.includes(w), `${w} should check a token`);
    }
    // Without tokens the same routes are open: the empty requirement stands beside bearer.
    for (const { path, method, op } of operations(doc)) {
      const where = `${method} ${path}`;
      assert.deepEqual(op.security, checked.includes(where) ? [{ bearer: [] }, {}] : [], where);
    }
  });

  test('a read token is refused for writes: the write routes document 403', async () => {
    const r = await guarded.inject({ method: 'POST', url: '/v2/events', headers: { authorization: `Bearer ${READ_TOKEN}` }, payload: { source: 's', type: 'a.b' } });
    assert.equal(r.statusCode, 403);
    assert.equal(guardedDoc.paths['/v2/events']!.post!.responses['403']!.content!['application/json']!.schema!.$ref, '#/components/schemas/Error');
  });

  test('GET /v2/events documents the headers it sends: Event-Count and every Severity-Count-*, Debug included', async () => {
    const r = await open.inject({ url: '/v2/events?limit=0' });
    assert.equal(r.statusCode, 200);
    const sent = Object.keys(r.headers).filter((h) => /^(event-count|severity-count-)/.test(h)).sort();
    const documented = Object.keys(doc.paths['/v2/events']!.get!.responses['200']!.headers ?? {});
    assert.ok(documented.includes('Severity-Count-Debug'));
    assert.deepEqual(documented.map((h) => h.toLowerCase()).sort(), sent);
    assert.equal(sent.length, 6);
  });

  test('error responses: the Error component, with Retry-After on 503 and 507', () => {
    for (const { path, method, op } of operations(doc)) {
      if (path.startsWith('/api/assisted-install/')) continue; // the Assisted Installer's own shapes
      assert.ok(Object.keys(op.responses).some((s) => /^4/.test(s)), `${method} ${path}: no 4xx`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        assert.equal(response.content?.['application/json']?.schema?.$ref, '#/components/schemas/Error', `${method} ${path} ${status}`);
        assert.ok(response.description && response.description !== 'Default Response', `${method} ${path} ${status}: no description`);
        if (status === '503' || status === '507') assert.ok(response.headers?.['Retry-After'], `${method} ${path} ${status}: Retry-After`);
      }
    }
    const post = doc.paths['/v2/events']!.post!;
    assert.deepEqual(Object.keys(post.responses).sort(), ['202', '400', '401', '403', '413', '415', '503', '507']);
  });

  test('named component schemas, and every $ref resolves', () => {
    for (const name of ['Error', 'FieldProblem', 'Event', 'EventPage', 'EventInput', 'EventsAccepted', 'Entity', 'EntityStateChange', 'SinkStatus', 'AssistedEvent']) {
      assert.ok(doc.components.schemas[name], `missing component ${name}`);
    }
    assert.ok(!Object.keys(doc.components.schemas).some((n) => /^def-\d+$/.test(n)), 'unnamed components');
    assert.equal(doc.paths['/v2/events']!.get!.responses['200']!.content!['application/json']!.schema!.$ref, '#/components/schemas/EventPage');
    const refs = new Set<string>();
    JSON.stringify(doc, (k, v: unknown) => {
      if (k === '$ref') refs.add(v as string);
      return v;
    });
    assert.ok(refs.size >= 10);
    for (const r of refs) {
      assert.match(r, /^#\/components\/schemas\//);
      assert.ok(doc.components.schemas[r.slice('#/components/schemas/'.length)], `unresolved ${r}`);
    }
  });

  test('the named schemas leave validation to validation.ts in every route group (field paths, upstream messages)', async () => {
    // A schema added inside a route plugin would give that plugin Fastify's default validator.
    for (const [url, path] of [['/v2/events?limit=-1', 'limit'], ['/v2/events/' + 'x'.repeat(256), 'id'], ['/v2/schemas/choria/no%20pe', 'name'], ['/v2/entities?kind=', 'kind']] as const) {
      const r = await open.inject({ url });
      assert.equal(r.statusCode, 400, url);
      assert.deepEqual((r.json() as { details?: Array<{ path: string }> }).details?.map((d) => d.path), [path], `${url}: ${r.body}`);
    }
    const a = await open.inject({ url: '/api/assisted-install/v2/events?cluster_id=c1' });
    assert.equal(a.statusCode, 400);
    assert.deepEqual(a.json(), { code: 400, message: 'cluster_id in query must be of type uuid: "c1"' });
  });

  test('servers: the serving server first, then the configured address', () => {
    assert.deepEqual(doc.servers!.map((s) => s.url), ['/', 'http://127.0.0.1:8080']);
  });
});
