/**
 * Property-based, on SQLite and PostgreSQL (HERALD_TEST_PG): 1,600 generated bad requests per
 * store across every route (bad events and batches, hostile text: NUL, lone surrogates, invalid
 * UTF-8, nesting past the limit, prototype keys; bad query and path parameters, malformed
 * JSON, wrong content types, oversized bodies, odd asset names, unknown routes and methods)
 * each get a 4xx with a JSON error, never a 5xx; /healthz answers 200 throughout; afterwards
 * nothing was stored and the server still takes good input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { appOn } from '../helpers/app.js';
import { openTestStore, outboxTables, TEST_DIALECTS, type TestStore } from '../helpers/stores.js';
import { loadConfig } from '../../src/config/index.js';
import { eventProblems, MAX_DATA_DEPTH } from '../../src/events/validate.js';

const BODY_LIMIT = 64 * 1024;

const validEvent = fc.record({
  source: fc.constantFrom('svc/a', 'urn:x:y', 'herald'),
  type: fc.constantFrom('com.example.a', 'b.c'),
  message: fc.string({ maxLength: 20 }),
}, { requiredKeys: ['source', 'type'] });

/** Events that are wrong in one generated way (checked against the shared validation). */
const badEvent = fc.oneof(
  validEvent.map(({ type: _t, ...rest }) => rest as Record<string, unknown>),
  validEvent.map(({ source: _s, ...rest }) => rest as Record<string, unknown>),
  fc.tuple(validEvent, fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !['debug', 'info', 'warning', 'error', 'critical'].includes(s))).map(([e, severity]) => ({ ...e, severity })),
  fc.tuple(validEvent, fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }))).map(([e, v]) => ({ ...e, type: v })),
  fc.tuple(validEvent, fc.string({ maxLength: 12 })).map(([e, time]) => ({ ...e, time: `not-a-date ${time}` })),
  fc.tuple(validEvent, fc.string({ minLength: 1, maxLength: 8 }).filter((k) => /^[a-z]+$/.test(k) && !['source', 'type', 'message', 'id', 'time', 'severity', 'subject', 'entity', 'data', 'partitionkey', 'datacontenttype', 'dataschema', 'specversion', 'entitykind', 'entityid'].includes(k))).map(([e, k]) => ({ ...e, [k]: 1 })),
  fc.tuple(validEvent, fc.constantFrom('9abc', '', 'has space', '-x')).map(([e, kind]) => ({ ...e, entity: { kind, id: 'x' } })),
  validEvent.map((e) => ({ ...e, entity: { kind: 'cluster' } })),
  validEvent.map((e) => ({ ...e, message: 'm'.repeat(4097) })),
  fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean()),
  // Hostile text: NUL and lone surrogates in any field, or in a key of data.
  fc.tuple(validEvent, fc.constantFrom('id', 'source', 'type', 'subject', 'message', 'partitionkey'), fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\u0000b', 'x\udbffy')).map(([e, field, bad]) => ({ ...e, [field]: `${field === 'source' || field === 'type' ? 'x' : ''}${bad}` })),
  fc.tuple(validEvent, fc.constantFrom('\u0000', '\ud800'), fc.string({ maxLength: 5 })).map(([e, bad, k]) => ({ ...e, data: { [`${k}${bad}`]: 1 } })),
  fc.tuple(validEvent, fc.constantFrom('\u0000', '\udc00')).map(([e, bad]) => ({ ...e, data: { list: [1, { deep: [`v${bad}`] }] } })),
  // Nesting past the limit, in objects or arrays.
  fc.tuple(validEvent, fc.integer({ min: MAX_DATA_DEPTH + 1, max: MAX_DATA_DEPTH + 300 }), fc.boolean()).map(([e, depth, arrays]) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { k: v };
    return { ...e, data: v };
  }),
  // Prototype keys beside a real problem.
  validEvent.map((e) => ({ ...e, __proto__: { admin: true }, constructor: { prototype: 1 }, type: 7 })),
).filter((e) => eventProblems(e).length > 0);

const put = (kind: string, id: string, payload: string): InjectOptions => ({ method: 'PUT', url: `/v2/entities/${kind}/${id}/state`, headers: { 'content-type': 'application/json' }, payload });

const post = (payload: unknown): InjectOptions => ({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

const badRequest: fc.Arbitrary<InjectOptions> = fc.oneof(
  badEvent.map(post),
  // A batch of valid events with one bad event somewhere: nothing of it may be stored.
  fc.tuple(fc.array(validEvent, { minLength: 1, maxLength: 20 }), badEvent, fc.nat()).map(([good, bad, at]) => {
    const batch: unknown[] = [...good];
    batch.splice(at % (good.length + 1), 0, bad);
    return post(batch);
  }),
  fc.constant(post([])),
  fc.constant(post(Array.from({ length: 1001 }, () => ({ source: 's', type: 't' })))),
  // Malformed JSON
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })
    .map((s): InjectOptions => ({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json' }, payload: s })),
  // Wrong content type
  fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'image/png')
    .map((ct): InjectOptions => ({ method: 'POST', url: '/v2/events', headers: { 'content-type': ct }, payload: '{"source":"s","type":"t"}' })),
  // Oversized
  fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 2 }).map((n) => post({ source: 's', type: 't', data: 'x'.repeat(n) })),
  // Bad query parameters
  fc.oneof(
    fc.integer({ max: -1 }).map((n) => `limit=${n}`),
    fc.integer({ min: 5001 }).map((n) => `limit=${n}`),
    fc.integer({ max: -1 }).map((n) => `offset=${n}`),
    fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/^\s*\d+\s*$/.test(s)).map((s) => `limit=${encodeURIComponent(s)}`),
    fc.string({ minLength: 1, maxLength: 10 }).filter((s) => s !== 'ascending' && s !== 'descending').map((s) => `order=${encodeURIComponent(s)}`),
    fc.string({ minLength: 1, maxLength: 10 }).map((s) => `since=${encodeURIComponent(`x${s}`)}`),
    fc.string({ minLength: 1, maxLength: 10 }).filter((s) => /^[a-z]+$/.test(s) && !['debug', 'info', 'warning', 'error', 'critical'].includes(s)).map((s) => `severities=info,${s}`),
  ).map((qs): InjectOptions => ({ method: 'GET', url: `/v2/events?${qs}` })),
  // Bad entity state requests
  fc.oneof(
    fc.constant({ attributes: {} }),
    fc.oneof(fc.integer(), fc.constant(null), fc.boolean()).map((state) => ({ state })),
    fc.constant({ state: 'RUNNING', attributes: [1, 2] }),
    fc.constant({ state: 'RUNNING', extra: true }),
    fc.constant({ state: 'S'.repeat(65) }),
  ).map((body): InjectOptions => ({ method: 'PUT', url: '/v2/entities/cluster/fuzz/state', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })),
  // Hostile entity states: in the path, the state, the attributes; raw JSON text so escapes reach the server.
  fc.oneof(
    fc.constantFrom('%00', 'a%00b', '%ED%A0%80').map((id) => put('host', id, '{"state":"UP"}')),
    fc.constantFrom('9bad', 'has%20space', '-x', 'k'.repeat(70)).map((kind) => put(kind, 'h1', '{"state":"UP"}')),
    // (An empty state is not bad input: it is recorded as UNKNOWN, see docs/api.md.)
    fc.constantFrom('"U\\u0000P"', '"\\ud800"').map((state) => put('host', 'h1', `{"state":${state}}`)),
    fc.integer({ min: MAX_DATA_DEPTH + 1, max: 2000 }).map((d) => put('host', 'h1', `{"state":"UP","attributes":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`)),
    fc.constantFrom('{"state":"UP","attributes":{"k":"\\u0000"}}', '{"state":"UP","attributes":{"\\udc00":1}}').map((body) => put('host', 'h1', body)),
  ),
  // Invalid UTF-8 on the write routes.
  fc.tuple(fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]), fc.boolean()).map(([bytes, state]): InjectOptions => ({
    method: state ? 'PUT' : 'POST',
    url: state ? '/v2/entities/host/h1/state' : '/v2/events',
    headers: { 'content-type': 'application/json' },
    payload: Buffer.concat([Buffer.from(state ? '{"state":"U' : '{"source":"s","type":"t","message":"'), Buffer.from(bytes), Buffer.from('"}')]),
  })),
  // Deep JSON of any shape as a whole body.
  fc.integer({ min: 100, max: 20_000 }).map((d): InjectOptions => ({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(d)}${']'.repeat(d)}` })),
  // The other read routes: bad parameters.
  fc.oneof(
    fc.constantFrom('%00', '%ED%A0%80', 'x'.repeat(300), '%2e%2e%2f%2e%2e').map((id) => `/v2/events/${id}`),
    fc.constantFrom('source=%00', 'last_event_id=a%00', 'types=%ED%A0%80').map((q) => `/v2/events/stream?${q}`),
    fc.constantFrom('state=%00', 'kind=a%00b', 'kind=%ED%A0%80', 'state=R%00').map((q) => `/v2/entities?${q}`),
    fc.constantFrom('source=%00', 'message=a%00', 'types=x%00', 'entity_id=%00', 'cluster_id=%00').map((q) => `/v2/events?${q}`),
    fc.constantFrom('%00', '..%2f..%2fpackage.json', '%5c..%5c', 'y'.repeat(300), 'x%00.js', '%2e%2e%2f%2e%2e%2fetc%2fpasswd').map((f) => `/docs/static/${f}`),
    fc.constantFrom('%00', '..%2fpackage.json', 'z'.repeat(300), '%5c..%5c').map((f) => `/console/${f}`),
    fc.string({ minLength: 1, maxLength: 20 }).map((p) => `/${encodeURIComponent(p)}/nowhere`),
  ).map((url): InjectOptions => ({ method: 'GET', url })),
  // Methods a route does not have.
  fc.tuple(fc.constantFrom('DELETE', 'PATCH', 'PUT'), fc.constantFrom('/v2/events', '/v2/sinks', '/healthz', '/readyz', '/metrics', '/openapi.json', '/v2/entities'))
    .map(([method, url]): InjectOptions => ({ method: method as InjectOptions['method'], url, headers: { 'content-type': 'application/json' }, payload: '{}' })),
);

for (const dialect of TEST_DIALECTS) {
  describe(`fuzz on ${dialect}`, () => {
    let ts: TestStore;
    let app: FastifyInstance;
    before(async () => {
      ts = await openTestStore(dialect, 'fuzz');
      app = await appOn(ts.store, loadConfig({ env: {}, overrides: { server: { bodyLimit: BODY_LIMIT } } }));
    });
    after(async () => {
      await app.close();
      await ts.dispose();
    });

    test('1,600 bad requests: 4xx with a JSON error each, never a 5xx, healthy throughout, nothing stored', async () => {
      const store = ts.store;
      const before = await store.query({ limit: 0, offset: 0, order: 'ascending' });
      let requests = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(badRequest, async (req) => {
          requests++;
          const r = await app.inject(req);
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          assert.ok([400, 404, 413, 415].includes(r.statusCode), `${req.method} ${String(req.url).slice(0, 120)} -> ${r.statusCode} ${r.body.slice(0, 200)}`);
          const body = r.json() as { error?: unknown; code?: unknown };
          assert.equal(typeof body.error, 'string');
          assert.equal(typeof body.code, 'string');
          if (requests % 100 === 0) assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, `/healthz after ${requests} requests`);
        }),
        { numRuns: 1600 },
      );
      console.log(`# ${dialect}: ${requests} bad requests, statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
      assert.ok(requests >= 1500);
      const afterPage = await store.query({ limit: 0, offset: 0, order: 'ascending' });
      assert.equal(afterPage.total, before.total);
      assert.deepEqual(await store.listEntities(), []);
      const outbox = await outboxTables(store).selectFrom('herald_outbox').select('seq').execute();
      assert.equal(outbox.length, 0);
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
      // And it still takes good input.
      assert.equal((await app.inject(post({ source: 's', type: 't' }))).statusCode, 202);
    });
  });
}
