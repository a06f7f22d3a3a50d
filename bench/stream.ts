/**
 * Live-stream back-pressure benchmark: `herald serve` with 100 SSE clients on
 * /v2/events/stream that never read a byte (their sockets are paused, so the kernel buffers
 * fill and the server's writes stop draining), while 10,000 events of about 1 KB are posted.
 * What a slow client has not read must stay in the store, not in the server's memory: the row
 * reports how much the server's RSS grew (target: under 64 MB) and how fast the API still
 * accepted events. A reading client beside them shows the feed still flows.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchEvent, startServe, statusKb, type BenchContext } from './scenarios.js';
import type { ScenarioResult } from './support.js';


/** An SSE client that sends its request and then reads nothing. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write('GET /v2/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      // Wait for the response head, then stop reading for good.
      s.once('data', () => {
        s.pause();
        resolve(s);
      });
    });
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

/** A client that reads everything and counts the events it received. */
async function readingClient(url: string, signal: AbortSignal): Promise<{ count: () => number; done: Promise<void> }> {
  let n = 0;
  const res = await fetch(`${url}/v2/events/stream`, { headers: { accept: 'text/event-stream' }, signal });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let tail = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        tail += dec.decode(value, { stream: true });
        const parts = tail.split('\n\n');
        tail = parts.pop() ?? '';
        for (const p of parts) if (p.includes('data: ')) n += 1;
      }
    } catch { /* aborted */ }
  })();
  return { count: () => n, done };
}

export async function streamStalledClients(ctx: BenchContext, events: number, port: number, stalled = 100): Promise<ScenarioResult> {
  const serve = await startServe({ HERALD_DB: `sqlite:${join(ctx.tmp, `stream-${Date.now()}.db`)}` }, port);
  const pid = serve.child.pid!;
  const sockets: Socket[] = [];
  const abort = new AbortController();
  try {
    for (let i = 0; i < stalled; i++) sockets.push(await stalledClient(port));
    const reader = await readingClient(serve.url, abort.signal);
    await sleep(500);
    const startRss = statusKb(pid, 'VmRSS') ?? 0;
    let peak = startRss;
    const sampler = setInterval(() => { peak = Math.max(peak, statusKb(pid, 'VmRSS') ?? 0); }, 50);
    const batch = 100;
    const t0 = performance.now();
    for (let start = 0; start < events; start += batch) {
      const body = JSON.stringify(Array.from({ length: Math.min(batch, events - start) }, (_, k) => benchEvent(start + k, 1024)));
      const r = await fetch(`${serve.url}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.status !== 202 && r.status !== 200) throw new Error(`POST /v2/events answered ${r.status}: ${await r.text()}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    // Let the streams catch up with what was posted, then sample once more.
    const deadline = Date.now() + 30_000;
    while (reader.count() < events && Date.now() < deadline) await sleep(100);
    await sleep(500);
    clearInterval(sampler);
    peak = Math.max(peak, statusKb(pid, 'VmRSS') ?? 0);
    const growthMb = (peak - startRss) / 1024;
    return {
      name: `stream: ${stalled} stalled SSE clients, ${events} x 1 KB events`,
      events, seconds, events_per_s: events / seconds,
      peak_rss_mb: peak / 1024,
      note: `RSS growth ${growthMb.toFixed(1)} MB (target < 64 MB) from ${(startRss / 1024).toFixed(0)} MB; a reading client beside them received ${reader.count()} of ${events}`,
    };
  } finally {
    abort.abort();
    for (const s of sockets) s.destroy();
    await serve.stop();
  }
}
