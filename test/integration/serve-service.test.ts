/**
 * startService() programmatically on PostgreSQL: listens, serves end to end over HTTP, writes
 * outbox entries per sink filter, reports a failing sink, applies retention soon after start,
 * and closes idempotently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { createEvent } from '../../src/events/index.js';
import { openStore } from '../../src/store/index.js';
import { HeraldError } from '../../src/errors.js';
import { isNonLoopback, startService } from '../../src/service/index.js';
import type { Sink, SinkStatus } from '../../src/transports/types.js';
import { outboxTables } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';
import { pgUrl, uniqueName } from '../helpers/env.js';

test('startService on PostgreSQL: ingest with outbox entries per sink filter, status, retention, idempotent close', async () => {
  const schema = uniqueName('svc').replace(/-/g, '_');
  const url = `${pgUrl()}${pgUrl().includes('?') ? '&' : '?'}schema=${schema}`;
  // An old event stored before the service starts: retention (30 days) removes it soon after start.
  const pre = await openStore(url);
  await pre.migrate();
  const old = createEvent({ source: 's', type: 'old', time: '2001-01-01T00:00:00Z' });
  await pre.append([old]);
  await pre.close();

  const config = loadConfig({ env: { HERALD_DB: url, HERALD_PORT: '0' }, overrides: { sinks: [{ name: 'main', type: 'stdout', filter: { types: ['old', 'loud'] } }] } });
  let closed = 0;
  // A sink whose broker is down: the entries stay pending, and the status says why.
  const down: Sink = {
    name: 'main',
    type: 'stdout',
    connected: false,
    connect: async () => { throw new HeraldError('BROKER_UNAVAILABLE', 'down for this test'); },
    publish: async () => { throw new HeraldError('BROKER_UNAVAILABLE', 'down for this test'); },
    close: async () => { closed++; },
  };
  const service = await startService(config, { createSink: () => down, relay: { backoff: { baseMs: 60_000, maxMs: 60_000 } } });
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
    const rows = await outboxTables(service.store).selectFrom('herald_outbox').select(['event_id', 'sink']).execute();
    assert.deepEqual(rows, [{ event_id: ids[0], sink: 'main' }]);
    await waitFor('the sink to report its outage', async () => {
      const [s] = (await (await fetch(`${service.address}/v2/sinks`)).json()) as SinkStatus[];
      return s?.name === 'main' && s.type === 'stdout' && s.pending === 1 && !s.connected && /down for this test/.test(s.lastError ?? '');
    }, 10_000);
    await waitFor('retention to remove the old event', async () => (await service.store.get(old.id)) === undefined, 10_000);
    const list = await fetch(`${service.address}/v2/events?types=old,loud,quiet`);
    assert.equal(list.headers.get('event-count'), '2');
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
