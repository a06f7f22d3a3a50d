/**
 * The live stream under a client that stops reading (needs: nothing beyond SQLite), and resume
 * points the store no longer has. Writes wait for the client; a client that takes nothing for
 * server.streamStallMs is cut off, and resuming with the Last-Event-ID of the last event it
 * really read delivers the rest with no gap and no repeat.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';
import { memoryLogger } from './outbox-helpers.js';

let dir: string;
let store: EventStore;
let app: FastifyInstance;
let base: string;
const log = memoryLogger('info');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-sse-pressure-'));
  store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  app = await appOn(store, loadConfig({ env: {}, overrides: { server: { streamStallMs: 1000 } } }), { logger: log.logger });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Parses SSE text into messages (event name, id, data). */
function parse(text: string): Array<{ event?: string; id?: string; data?: string }> {
  return text.split('\n\n').filter((b) => b.trim() !== '').map((block) => {
    const lines = block.split('\n');
    const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    const event = field('event');
    const id = field('id');
    const data = field('data');
    return { ...(event !== undefined && { event }), ...(id !== undefined && { id }), ...(data !== undefined && { data }) };
  });
}

function open(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(`${base}${path}`, { headers }, resolve).on('error', reject));
}

const post = (payload: unknown) => fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

test('a client that stops reading is cut off, and resumes from its Last-Event-ID without a gap', { timeout: 120_000 }, async () => {
  const res = await open('/v2/events/stream?types=pressure');
  assert.equal(res.statusCode, 200);
  let text = '';
  let ended = false;
  res.setEncoding('utf8');
  res.on('data', (d: string) => (text += d));
  res.on('end', () => (ended = true));
  res.on('error', () => (ended = true));
  res.on('aborted', () => (ended = true));
  await waitFor('the stream to open', () => text.includes('live from now'), 5000, 20);
  res.pause(); // the client stops reading

  // ~20 MB of events: far more than the socket buffers of both ends hold.
  const ids: string[] = [];
  for (let b = 0; b < 20; b++) {
    const batch = Array.from({ length: 500 }, (_, i) => ({ id: `p-${b}-${i}`, source: 'pressure', type: 'pressure', data: { pad: 'x'.repeat(2000) } }));
    ids.push(...batch.map((e) => e.id));
    assert.equal((await post(batch)).status, 202);
  }
  await waitFor('the server to cut the stalled client off', () => log.lines.some((l) => l.msg.startsWith('live stream client cut off')), 30_000, 50);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);

  // The client reads again: it gets what the buffers held, then the end of the stream.
  res.resume();
  await waitFor('the cut-off stream to end', () => ended, 30_000, 20);
  const first = parse(text).filter((m) => m.id !== undefined).map((m) => m.id!);
  assert.ok(first.length > 0 && first.length < ids.length, `the first connection delivered ${first.length} of ${ids.length} before the cut`);
  assert.deepEqual(first, ids.slice(0, first.length), 'in order, from the first');

  // Resume with the last id it really read: the rest, exactly. A reader that falls behind
  // again (a loaded machine: the stall limit is 1 s here) is cut off again and resumes again,
  // as EventSource does, from the last id it read: still no gap and no repeat.
  const got = [...first];
  let resumes = 0;
  while (got.length < ids.length && resumes < 10) {
    resumes++;
    const again = await open('/v2/events/stream?types=pressure', { 'last-event-id': got.at(-1)! });
    let more = '';
    let over = false;
    again.setEncoding('utf8');
    again.on('data', (d: string) => (more += d));
    for (const e of ['end', 'error', 'aborted']) again.on(e, () => (over = true));
    const read = () => parse(more.slice(0, more.lastIndexOf('\n\n') + 2)).filter((m) => m.id !== undefined).map((m) => m.id!);
    await waitFor('the rest of the events (or a cut)', () => over || got.length + read().length >= ids.length, 60_000, 50);
    again.destroy();
    // (Only whole messages count: a cut may leave half of one in the text.)
    got.push(...read());
  }
  assert.deepEqual(got, ids, `no gap, no repeat (${resumes} resumes)`);
});

test('an unknown Last-Event-ID is signalled (event: gap), then the stream goes on live', async () => {
  const res = await open('/v2/events/stream?types=after-gap', { 'last-event-id': 'no-such-event' });
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => (text += d));
  await waitFor('the gap signal', () => text.includes('event: gap'), 5000, 20);
  const gap = parse(text).find((m) => m.event === 'gap')!;
  const body = JSON.parse(gap.data!) as { code: string; lastEventId: string; message: string };
  assert.equal(body.code, 'RESUME_POINT_GONE');
  assert.equal(body.lastEventId, 'no-such-event');
  assert.match(body.message, /GET \/v2\/events\?since=/);
  assert.equal((await post({ id: 'after-gap-1', source: 's', type: 'after-gap' })).status, 202);
  await waitFor('the live event', () => text.includes('id: after-gap-1'), 5000, 20);
  res.destroy();
});
