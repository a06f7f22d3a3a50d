/**
 * HTTP behaviour that does not depend on the dialect (SQLite store): auth, status codes for
 * bad requests, health/readiness, metrics, OpenAPI and docs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../helpers/app.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';

const WRITE = 'write-token-0123456789';
const READ = 'read-token-0123456789';

async function setup(env: NodeJS.ProcessEnv, logLines?: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-http-'));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  const logger = logLines
    ? pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } }))
    : undefined;
  const app = await appOn(store, loadConfig({ env }), { ...(logger && { logger }) });
  return { dir, store, app };
}

describe('auth', () => {
  let app: FastifyInstance;
  let store: EventStore;
  let dir: string;
  const logLines: string[] = [];
  before(async () => {
    ({ app, store, dir } = await setup({ HERALD_API_TOKENS: `${WRITE},other-write-token-99`, HERALD_READ_TOKENS: READ }, logLines));
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const event = { source: 's', type: 't' };

  test('writes: 401 without a token, 403 with a wrong or read token, 202 with an API token', async () => {
    const none = await app.inject({ method: 'POST', url: '/v2/events', payload: event });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal((none.json() as { code: string }).code, 'UNAUTHORIZED');
    const basic = await app.inject({ method: 'POST', url: '/v2/events', payload: event, headers: { authorization: 'Basic abc' } });
    assert.equal(basic.statusCode, 401);
    const wrong = await app.inject({ method: 'POST', url: '/v2/events', payload: event, headers: { authorization: 'Bearer nope-nope-nope' } });
    assert.equal(wrong.statusCode, 403);
    assert.ok(!wrong.body.includes('nope-nope'));
    const readOnly = await app.inject({ method: 'POST', url: '/v2/events', payload: event, headers: { authorization: `Bearer ${READ}` } });
    assert.equal(readOnly.statusCode, 403);
    const ok = await app.inject({ method: 'POST', url: '/v2/events', payload: event, headers: { authorization: `Bearer ${WRITE}` } });
    assert.equal(ok.statusCode, 202);
    const second = await app.inject({ method: 'POST', url: '/v2/events', payload: event, headers: { authorization: 'bearer other-write-token-99' } });
    assert.equal(second.statusCode, 202);
    const put = await app.inject({ method: 'PUT', url: '/v2/entities/cluster/c1/state', payload: { state: 'RUNNING' } });
    assert.equal(put.statusCode, 401);
    // Nothing was stored by the refused requests.
    assert.equal((await store.query({ limit: 10, offset: 0, order: 'ascending' })).total, 2);
  });

  test('reads: 401/403 when read tokens are configured; read and API tokens both read', async () => {
    assert.equal((await app.inject({ url: '/v2/events' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/v2/events', headers: { authorization: 'Bearer wrong-token-123' } })).statusCode, 403);
    assert.equal((await app.inject({ url: '/v2/events', headers: { authorization: `Bearer ${READ}` } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/v2/entities', headers: { authorization: `Bearer ${WRITE}` } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/v2/sinks' })).statusCode, 401);
  });

  test('health, readiness, metrics and docs stay open', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.equal((await app.inject({ url })).statusCode, 200, url);
    }
  });

  test('tokens never reach the log', () => {
    const text = logLines.join('');
    assert.ok(!text.includes(WRITE) && !text.includes(READ) && !text.includes('nope-nope'));
  });
});

describe('open API (no tokens): status codes, health, metrics, OpenAPI', () => {
  let app: FastifyInstance;
  let store: EventStore;
  let dir: string;
  const logLines: string[] = [];
  before(async () => {
    ({ app, store, dir } = await setup({}, logLines));
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('writes and reads are open without configured tokens', async () => {
    assert.equal((await app.inject({ method: 'POST', url: '/v2/events', payload: { source: 's', type: 't' } })).statusCode, 202);
    assert.equal((await app.inject({ url: '/v2/events' })).statusCode, 200);
  });

  test('413 for a body over server.bodyLimit', async () => {
    const small = await appOn(store, loadConfig({ env: {}, overrides: { server: { bodyLimit: 2048 } } }));
    try {
      const r = await small.inject({ method: 'POST', url: '/v2/events', payload: { source: 's', type: 't', message: 'x'.repeat(4000) } });
      assert.equal(r.statusCode, 413);
      const body = r.json() as { code: string; error: string };
      assert.equal(body.code, 'PAYLOAD_TOO_LARGE');
      assert.match(body.error, /2048 bytes/);
    } finally {
      await small.close();
    }
  });

  test('415 for a content type that is not JSON', async () => {
    const r = await app.inject({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'text/plain' }, payload: '{"source":"s","type":"t"}' });
    assert.equal(r.statusCode, 415);
    assert.equal((r.json() as { code: string }).code, 'UNSUPPORTED_MEDIA_TYPE');
    const xml = await app.inject({ method: 'PUT', url: '/v2/entities/cluster/x/state', headers: { 'content-type': 'application/xml' }, payload: '<state/>' });
    assert.equal(xml.statusCode, 415);
  });

  test('400 with a clear JSON error for malformed JSON and an empty body', async () => {
    const r = await app.inject({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json' }, payload: '{"source": "s", ' });
    assert.equal(r.statusCode, 400);
    const body = r.json() as { code: string; error: string };
    assert.equal(body.code, 'INVALID_REQUEST');
    assert.match(body.error, /not valid JSON/);
    const empty = await app.inject({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(empty.statusCode, 400);
    const nothing = await app.inject({ method: 'POST', url: '/v2/events' });
    assert.equal(nothing.statusCode, 400);
  });

  test('400 naming the parameter for bad query parameters', async () => {
    const cases: Array<[string, string]> = [
      ['limit=-1', 'limit'],
      ['limit=5001', 'limit'],
      ['limit=abc', 'limit'],
      ['offset=-5', 'offset'],
      ['order=sideways', 'order'],
      ['since=yesterday', 'since'],
      ['until=2024-13-45T00:00:00Z', 'until'],
      ['severities=info,loud', 'severities'],
      ['severities=', 'severities'],
      ['since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z', 'since'],
    ];
    for (const [qs, param] of cases) {
      const r = await app.inject({ url: `/v2/events?${qs}` });
      assert.equal(r.statusCode, 400, qs);
      const body = r.json() as { code: string; error: string; details: Array<{ path: string }> };
      assert.equal(body.code, 'INVALID_REQUEST', qs);
      assert.ok(body.details.some((d) => d.path === param), `${qs}: ${r.body}`);
      assert.match(body.error, new RegExp(param), qs);
    }
    assert.equal((await app.inject({ url: '/v2/events?limit=5000&severities=INFO' })).statusCode, 200);
  });

  test('404 for unknown routes, JSON body', async () => {
    const r = await app.inject({ url: '/v3/nothing' });
    assert.equal(r.statusCode, 404);
    assert.equal((r.json() as { code: string }).code, 'NOT_FOUND');
  });

  test('/healthz, /v2/sinks without an outbox, /metrics counters', async () => {
    assert.deepEqual((await app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    assert.deepEqual((await app.inject({ url: '/v2/sinks' })).json(), []);
    const m = await app.inject({ url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(m.headers['content-type'] as string, /text\/plain/);
    assert.match(m.body, /herald_events_accepted_total \d+/);
    assert.match(m.body, /herald_http_requests_total\{method="POST",route="\/v2\/events",status="202"\} \d+/);
    assert.match(m.body, /process_cpu_user_seconds_total/);
  });

  test('GET requests are not logged at info; errors say what happened', () => {
    const infoGets = logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 30 && /GET|incoming request|request completed/.test(l.msg));
    assert.deepEqual(infoGets, []);
  });

  test('/openapi.json documents every route with its schemas; /docs serves the UI offline', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, Record<string, { parameters?: Array<{ name: string }>; requestBody?: unknown }>> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/v2/events', '/v2/events/{id}', '/v2/entities/{kind}/{id}/state', '/v2/entities', '/v2/sinks', '/healthz', '/readyz', '/metrics']) {
      assert.ok(doc.paths[p], `missing ${p}`);
    }
    const params = doc.paths['/v2/events']!.get!.parameters!.map((x) => x.name);
    for (const name of ['entity_kind', 'entity_id', 'severities', 'types', 'source', 'message', 'since', 'until', 'limit', 'offset', 'order', 'cluster_id', 'host_ids', 'infra_env_id']) {
      assert.ok(params.includes(name), `missing parameter ${name}`);
    }
    assert.ok(doc.paths['/v2/events']!.post!.requestBody);
    const headers = (doc.paths['/v2/events']!.get as unknown as { responses: Record<string, { headers?: Record<string, unknown> }> }).responses['200']!.headers!;
    for (const h of ['Event-Count', 'Severity-Count-Info', 'Severity-Count-Warning', 'Severity-Count-Error', 'Severity-Count-Critical']) assert.ok(headers[h], `missing header ${h}`);
    const ui = await app.inject({ url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
    assert.ok(!/https?:\/\/(unpkg|cdn)/.test(ui.body), 'docs must not load assets from a CDN');
  });

  test('/readyz is 503 when the store is down', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'herald-ready-'));
    const s = await openStore(`sqlite:${join(dir2, 'h.db')}`);
    await s.migrate();
    const a = await appOn(s, loadConfig({ env: {} }));
    try {
      assert.equal((await a.inject({ url: '/readyz' })).statusCode, 200);
      await s.close();
      const r = await a.inject({ url: '/readyz' });
      assert.equal(r.statusCode, 503);
      assert.equal((r.json() as { code: string }).code, 'STORE_UNAVAILABLE');
      assert.equal((await a.inject({ url: '/healthz' })).statusCode, 200);
      const q = await a.inject({ url: '/v2/events' });
      assert.equal(q.statusCode, 503);
    } finally {
      await a.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
