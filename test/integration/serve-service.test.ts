/**
 * startService() programmatically on PostgreSQL: listens, serves end to end over HTTP,
 * attaches an outbox through the factory seam (routing + status + close), applies retention
 * at start, and closes idempotently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { createEvent } from '../../src/events/index.js';
import { openStore } from '../../src/store/index.js';
import { isNonLoopback, startService, type OutboxFactory } from '../../src/service/index.js';
import type { SinkStatus } from '../../src/sinks/types.js';
import { pgUrl, uniqueName } from '../helpers/env.js';

test('startService on PostgreSQL with an outbox factory', async () => {
  const schema = uniqueName('svc').replace(/-/g, '_');
  const url = `${pgUrl()}${pgUrl().includes('?') ? '&' : '?'}schema=${schema}`;
  // An old event stored before the service starts: retention (30 days) removes it at start.
  const pre = await openStore(url);
  await pre.migrate();
  const old = createEvent({ source: 's', type: 'old', time: '2001-01-01T00:00:00Z' });
  await pre.append([old]);
  await pre.close();

  const config = loadConfig({ env: { HERALD_DB: url, HERALD_PORT: '0' } });
  let closed = 0;
  const status: SinkStatus = {
    name: 'main', type: 'kafka', profile: 'cloudevents', enabled: true, connected: false, pending: 0, parked: 0,
    delivered: 0, failed: 0, retries: 0, oldestPendingAgeSeconds: null, lastError: null, lastErrorAt: null,
  };
  const outbox: OutboxFactory = async (store, cfg) => {
    assert.equal(cfg, config);
    assert.equal(await store.ping(), true);
    return {
      sinks: { status: async () => [status], sinkNames: (e) => (e.type === 'quiet' ? [] : ['main']) },
      close: async () => {
        closed++;
      },
    };
  };
  const service = await startService(config, { outbox });
  try {
    assert.match(service.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(service.store.dialect, 'postgres');
    const post = await fetch(`${service.address}/v2/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ source: 's', type: 'loud' }, { source: 's', type: 'quiet' }]),
    });
    assert.equal(post.status, 202);
    const { ids } = (await post.json()) as { ids: string[] };
    const rows = await service.store.db.selectFrom('herald_outbox').select(['event_id', 'sink']).execute();
    assert.deepEqual(rows, [{ event_id: ids[0], sink: 'main' }]);
    const sinks = await fetch(`${service.address}/v2/sinks`);
    assert.deepEqual(await sinks.json(), [status]);
    const list = await fetch(`${service.address}/v2/events?types=old,loud,quiet`);
    assert.equal(list.headers.get('event-count'), '2');
    assert.equal(await service.store.get(old.id), undefined);
  } finally {
    await service.close();
    await service.close();
  }
  assert.equal(closed, 1);
  assert.equal(await service.store.ping(), false);
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

test('startService fails clearly when the port is taken, and releases the store', async () => {
  const first = await startService(loadConfig({ env: { HERALD_DB: 'sqlite::memory:', HERALD_PORT: '0' } }));
  try {
    const port = Number(new URL(first.address).port);
    await assert.rejects(
      startService(loadConfig({ env: { HERALD_DB: 'sqlite::memory:', HERALD_PORT: String(port) } })),
      (err: Error) => /port is in use/.test(err.message),
    );
  } finally {
    await first.close();
  }
});

test('binding a non-loopback address without API tokens logs one warning', async () => {
  assert.equal(isNonLoopback('127.0.0.1'), false);
  assert.equal(isNonLoopback('::1'), false);
  assert.equal(isNonLoopback('localhost'), false);
  assert.equal(isNonLoopback('0.0.0.0'), true);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }));
  const open = await startService(loadConfig({ env: { HERALD_DB: 'sqlite::memory:', HERALD_PORT: '0', HERALD_HOST: '0.0.0.0' } }), { logger });
  await open.close();
  const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && /without API tokens/.test(l.msg));
  assert.equal(warnings.length, 1);
  lines.length = 0;
  const guarded = await startService(loadConfig({ env: { HERALD_DB: 'sqlite::memory:', HERALD_PORT: '0', HERALD_HOST: '0.0.0.0', HERALD_API_TOKENS: 'a-long-token-123' } }), { logger });
  await guarded.close();
  assert.ok(!lines.some((l) => /without API tokens/.test(l)));
  assert.ok(!lines.some((l) => l.includes('a-long-token-123')));
});
