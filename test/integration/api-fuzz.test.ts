/**
 * Property-based: hundreds of generated bad requests (bad events, bad batches, bad query
 * parameters, malformed JSON, wrong content types, oversized bodies) each get a 4xx with a
 * JSON error; afterwards nothing was stored and the server is still healthy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { appOn } from '../helpers/app.js';
import { outboxTables } from '../helpers/stores.js';
import { loadConfig } from '../../src/config/index.js';
import { eventProblems } from '../../src/events/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';

const BODY_LIMIT = 64 * 1024;
let dir: string;
let store: EventStore;
let app: FastifyInstance;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-fuzz-'));
  store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  app = await appOn(store, loadConfig({ env: {}, overrides: { server: { bodyLimit: BODY_LIMIT } } }));
});
after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

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
).filter((e) => eventProblems(e).length > 0);

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
);

test('a few hundred bad requests: 4xx with a JSON error each, nothing stored, server healthy', async () => {
  const before = await store.query({ limit: 0, offset: 0, order: 'ascending' });
  let requests = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(badRequest, async (req) => {
      requests++;
      const r = await app.inject(req);
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      assert.ok([400, 413, 415].includes(r.statusCode), `${req.method} ${req.url} -> ${r.statusCode} ${r.body.slice(0, 200)}`);
      const body = r.json() as { error?: unknown; code?: unknown };
      assert.equal(typeof body.error, 'string');
      assert.equal(typeof body.code, 'string');
    }),
    { numRuns: 400 },
  );
  console.log(`# ${requests} bad requests, statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok(requests >= 300);
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
