/**
 * The console's server side over plain HTTP (no browser): the event stream it reads resumes
 * after Last-Event-ID with exactly the missed events, the live feed carries the board and
 * sink status, read tokens are enforced, and the assets have the right types and caching.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import type { SinkStatus } from '../../src/transports/types.js';
import { pgUrl, uniqueName } from '../helpers/env.js';
import { startConsoleServer, type ConsoleServer } from './console-harness.js';

const READ = 'read-token-for-console';
const WRITE = 'write-token-for-console';

let dir: string;
let srv: ConsoleServer;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-console-sse-'));
  // A real sink that cannot connect (nothing listens on port 1): the panel shows it failing.
  // Its timeout is well above the client's retries of a refused connection, so on a loaded
  // machine too the panel shows the refusal (naming the address), not a connect timeout.
  const config = loadConfig({ env: {}, overrides: {
    server: { host: '127.0.0.1', port: 0 }, store: { url: `sqlite:${join(dir, 'herald.db')}` }, auth: { apiTokens: [WRITE], readTokens: [READ] },
    sinks: [{ name: 'main', type: 'kafka', brokers: ['127.0.0.1:1'], timeoutMs: 4000 }],
  } });
  srv = await startConsoleServer(config);
});
after(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const post = (payload: unknown) => fetch(`${srv.base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(WRITE) }, body: JSON.stringify(payload) });

interface Msg { id?: string; event: string; data: string }

/** Reads SSE messages until `until` says enough (or the deadline passes), then cancels. */
async function readSse(res: Response, until: (msgs: Msg[]) => boolean, deadlineMs = 15_000): Promise<Msg[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: Msg[] = [];
  let buf = '';
  const timer = setTimeout(() => { void reader.cancel(); }, deadlineMs);
  try {
    while (!until(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const lines = buf.slice(0, i).split('\n');
        buf = buf.slice(i + 2);
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
        if (data.length === 0) continue;
        const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
        out.push({ event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message', data: data.join('\n'), ...(id !== undefined && { id }) });
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  return out;
}

test('resuming after Last-Event-ID delivers exactly the missed events, then live ones', async () => {
  const ids = ['r-1', 'r-2', 'r-3', 'r-4'];
  assert.equal((await post(ids.map((id) => ({ id, source: 'test', type: 'resume.test', entity: { kind: 'env', id: 'e-resume' } })))).status, 202);
  // The console reconnects with the id of the last event it showed (here r-2).
  const ac = new AbortController();
  const res = await fetch(`${srv.base}/v2/events/stream?entity_kind=env`, { headers: { ...auth(READ), 'last-event-id': 'r-2' }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reading = readSse(res, (m) => m.length >= 3);
  assert.equal((await post({ id: 'r-5', source: 'test', type: 'resume.test', entity: { kind: 'env', id: 'e-resume' } })).status, 202);
  const got = await reading;
  ac.abort();
  assert.deepEqual(got.map((m) => m.id), ['r-3', 'r-4', 'r-5']);
  assert.deepEqual(got.map((m) => (JSON.parse(m.data) as { id: string }).id), ['r-3', 'r-4', 'r-5']);
});

test('the live feed sends the board, state changes and sink status', async () => {
  const put = (id: string, state: string, attributes?: Record<string, unknown>) => fetch(`${srv.base}/v2/entities/env/${id}/state`, {
    method: 'PUT', headers: { 'content-type': 'application/json', ...auth(WRITE) }, body: JSON.stringify({ state, ...(attributes && { attributes }) }),
  });
  assert.equal((await put('live-a', 'CONFIGURED')).status, 200);
  const ac = new AbortController();
  const res = await fetch(`${srv.base}/console/live`, { headers: auth(READ), signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  let putDone = false;
  const reading = readSse(res, (m) => {
    if (!putDone && m.some((x) => x.event === 'entities')) {
      putDone = true;
      void put('live-a', 'RUNNING', { runNumber: 42 });
    }
    // Done once the state change arrived and the sink has reported its failure.
    return m.some((x) => x.event === 'entity') && m.some((x) => x.event === 'sinks' && (JSON.parse(x.data) as SinkStatus[])[0]?.lastError != null);
  });
  const got = await reading;
  ac.abort();
  const board = JSON.parse(got.find((m) => m.event === 'entities')!.data) as Array<{ id: string; state: string }>;
  assert.equal(board.find((e) => e.id === 'live-a')?.state, 'CONFIGURED');
  const sinks = JSON.parse(got.filter((m) => m.event === 'sinks').at(-1)!.data) as SinkStatus[];
  assert.equal(sinks[0]?.name, 'main');
  assert.equal(sinks[0]?.connected, false);
  assert.match(sinks[0]?.lastError ?? '', /127\.0\.0\.1:1/);
  // The recent samples come first, so a console opened now starts with filled charts.
  const history = JSON.parse(got.find((m) => m.event === 'sinks-history')!.data) as Record<string, Array<{ t: number; pending: number }>>;
  assert.ok((history.main?.length ?? 0) >= 1);
  assert.equal(typeof history.main?.at(-1)?.pending, 'number');
  const change = JSON.parse(got.find((m) => m.event === 'entity')!.data) as { id: string; state: string; previous: string; attributes: { runNumber?: number } };
  assert.deepEqual([change.id, change.state, change.previous, change.attributes.runNumber], ['live-a', 'RUNNING', 'CONFIGURED', 42]);
});

test('read tokens: the live feed and the stream need one; the page itself does not', async () => {
  assert.equal((await fetch(`${srv.base}/console/live`)).status, 401);
  assert.equal((await fetch(`${srv.base}/console/live`, { headers: auth('wrong') })).status, 403);
  assert.equal((await fetch(`${srv.base}/v2/events/stream`)).status, 401);
  assert.equal((await fetch(`${srv.base}/v2/events?limit=1`, { headers: auth('wrong') })).status, 403);
  assert.equal((await fetch(`${srv.base}/`)).status, 200);
});

test('the page and its assets: content types, caching, no external references', async () => {
  const page = await fetch(`${srv.base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.doesNotMatch(html, /https?:\/\//, 'the page must not load anything from another origin');
  const js = /src="(\/console\/console-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const css = /href="(\/console\/console-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  assert.ok(js !== undefined && css !== undefined, `asset links in ${html}`);
  const jsRes = await fetch(`${srv.base}${js}`);
  assert.equal(jsRes.status, 200);
  assert.match(jsRes.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(jsRes.headers.get('cache-control') ?? '', /immutable/);
  const cssRes = await fetch(`${srv.base}${css}`);
  assert.match(cssRes.headers.get('content-type') ?? '', /^text\/css/);
  assert.ok((await jsRes.arrayBuffer()).byteLength < 100_000, 'the bundle stays small');
  assert.equal((await fetch(`${srv.base}/console/nope.js`)).status, 404);
});

test('on PostgreSQL: resume after Last-Event-ID and state changes in the live feed', async () => {
  const schema = uniqueName('console').replace(/-/g, '_');
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0 }, store: { url: pgUrl() } } });
  const pgSrv = await startConsoleServer(config, { storeSchema: schema });
  try {
    const send = (path: string, method: string, body: unknown) => fetch(`${pgSrv.base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await send('/v2/events', 'POST', ['p-1', 'p-2', 'p-3'].map((id) => ({ id, source: 's', type: 'pg.test' })))).status, 202);
    const ac = new AbortController();
    const events = await readSse(await fetch(`${pgSrv.base}/v2/events/stream?types=pg.test&last_event_id=p-1`, { signal: ac.signal }), (m) => m.length >= 2);
    assert.deepEqual(events.map((m) => m.id), ['p-2', 'p-3']);

    const live = await fetch(`${pgSrv.base}/console/live`, { signal: ac.signal });
    let sent = false;
    const got = await readSse(live, (m) => {
      if (!sent && m.some((x) => x.event === 'entities')) {
        sent = true;
        void send('/v2/entities/env/pg-env/state', 'PUT', { state: 'RUNNING', attributes: { runNumber: 9 } });
      }
      return m.some((x) => x.event === 'entity');
    });
    ac.abort();
    const change = JSON.parse(got.find((m) => m.event === 'entity')!.data) as { id: string; state: string };
    assert.deepEqual([change.id, change.state], ['pg-env', 'RUNNING']);
  } finally {
    await pgSrv.close();
    const client = new pg.Client({ connectionString: pgUrl() });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});
