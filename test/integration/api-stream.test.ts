/**
 * GET /v2/events/stream over a real socket: live events matching the filters, resume after
 * Last-Event-ID, and the server closes cleanly with a stream open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../helpers/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { HeraldEvent } from '../../src/events/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';

let dir: string;
let store: EventStore;
let app: FastifyInstance;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-sse-'));
  store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  app = await appOn(store, loadConfig({ env: {} }));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Reads SSE messages until `n` arrived (or the deadline passes). */
async function readEvents(res: Response, n: number, deadlineMs = 15_000): Promise<Array<{ id?: string; event: HeraldEvent }>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: Array<{ id?: string; event: HeraldEvent }> = [];
  let buf = '';
  const deadline = Date.now() + deadlineMs;
  while (out.length < n && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const lines = block.split('\n');
      const data = lines.find((l) => l.startsWith('data: '));
      if (!data) continue;
      const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
      out.push({ ...(id !== undefined && { id }), event: JSON.parse(data.slice(6)) as HeraldEvent });
    }
  }
  await reader.cancel();
  return out;
}

const post = (payload: unknown) => fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

test('live events with filters; resume after Last-Event-ID', async () => {
  await post({ id: 'before-1', source: 's', type: 'old', entity: { kind: 'cluster', id: 'c1' } });
  const ac = new AbortController();
  const res = await fetch(`${base}/v2/events/stream?entity_kind=cluster&severities=error,critical`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reading = readEvents(res, 2);
  assert.equal((await post([
    { id: 'live-1', source: 's', type: 't', severity: 'error', entity: { kind: 'cluster', id: 'c1' } },
    { id: 'skip-1', source: 's', type: 't', severity: 'info', entity: { kind: 'cluster', id: 'c1' } },
    { id: 'skip-2', source: 's', type: 't', severity: 'error', entity: { kind: 'host', id: 'h1' } },
  ])).status, 202);
  assert.equal((await post({ id: 'live-2', source: 's', type: 't', severity: 'critical', entity: { kind: 'cluster', id: 'c2' } })).status, 202);
  const got = await reading;
  ac.abort();
  assert.deepEqual(got.map((g) => g.id), ['live-1', 'live-2']);
  assert.equal(got[0]!.event.severity, 'error');

  // Resume: everything after live-1 that matches (no filter now), then live events.
  const res2 = await fetch(`${base}/v2/events/stream`, { headers: { 'last-event-id': 'live-1' } });
  const again = await readEvents(res2, 3);
  assert.deepEqual(again.map((g) => g.id), ['skip-1', 'skip-2', 'live-2']);

  const bad = await fetch(`${base}/v2/events/stream?severities=loud`);
  assert.equal(bad.status, 400);
});

test('closing the server ends open streams', async () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'herald-sse2-'));
  const s = await openStore(`sqlite:${join(dir2, 'h.db')}`);
  await s.migrate();
  const a = await appOn(s, loadConfig({ env: {} }));
  const url = await a.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${url}/v2/events/stream`);
  assert.equal(res.status, 200);
  const reading = readEvents(res, 1, 10_000);
  await a.close();
  assert.deepEqual(await reading, []);
  await s.close();
  rmSync(dir2, { recursive: true, force: true });
});
