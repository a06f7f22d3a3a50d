/**
 * The live stream's writer (src/shared/sse.ts) over a real loopback HTTP connection: writes
 * report a full buffer, ready() waits for the client to take the bytes, a client that takes
 * nothing is cut off, and waiting again and again leaves nothing behind in memory (a wait
 * once left a reaction, its timer and its listeners on the response until the client left).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SseStalled, sseWriter } from '../../src/shared/sse.js';

/**
 * A server whose one response is handed to the test, and the raw client socket of it, paused
 * after the response head (a paused socket stops reading at once, so the kernel fills up).
 */
async function connection(): Promise<{ res: ServerResponse; client: Socket; close(): Promise<void> }> {
  let handed: (r: ServerResponse) => void = () => undefined;
  const got = new Promise<ServerResponse>((r) => { handed = r; });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    handed(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      s.once('data', () => { s.pause(); resolve(s); });
    });
    s.once('error', reject);
  });
  const res = await got;
  return {
    res,
    client,
    async close() {
      client.destroy();
      res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const big = 'x'.repeat(64 * 1024);

/** Runs `fn` on a fresh connection and closes it afterwards, whatever `fn` did. */
async function onConnection(fn: (c: Awaited<ReturnType<typeof connection>>) => Promise<void>): Promise<void> {
  const c = await connection();
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** Writes until 32 MiB wait in the process, more than the kernel buffers of a paused loopback connection hold: no drain until the client reads. */
function fill(res: ServerResponse): void {
  while (res.writableLength < 32 * 1024 * 1024) res.write(big);
}

test('write() reports a full buffer; ready() resolves once the client has read it', () => onConnection(async (c) => {
  const out = sseWriter(c.res, 10_000);
  assert.equal(out.write(big), false, 'a chunk over the high-water mark fills the buffer');
  fill(c.res);
  let resolved = false;
  const wait = out.ready().then(() => { resolved = true; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(resolved, false, 'ready() waits while the client reads nothing');
  c.client.resume();
  await wait;
  assert.equal(resolved, true);
  assert.equal(out.open, true);
}));

test('a client that reads nothing for stallMs is cut off with SseStalled', () => onConnection(async (c) => {
  const out = sseWriter(c.res, 150);
  fill(c.res);
  const t0 = Date.now();
  await assert.rejects(out.ready(), (err: unknown) => err instanceof SseStalled && err.stallMs === 150);
  assert.ok(Date.now() - t0 >= 140, 'not before stallMs');
}));

test('a client that leaves ends the wait; open turns false', () => onConnection(async (c) => {
  const out = sseWriter(c.res, 10_000);
  fill(c.res);
  const wait = out.ready();
  c.client.destroy();
  await wait;
  assert.equal(out.open, false);
}));

test('thousands of waits on one open response leave no listeners and no memory behind', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const c = await connection();
  try {
    const out = sseWriter(c.res, 60_000);
    c.client.resume();
    const listeners = () => c.res.listenerCount('drain') + c.res.listenerCount('close');
    const before = listeners();
    const cycle = async (n: number) => {
      for (let i = 0; i < n; i++) {
        if (!out.write(big)) await out.ready();
      }
    };
    await cycle(500);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    await cycle(5_000);
    gc();
    const grown = process.memoryUsage().heapUsed - heap0;
    assert.equal(listeners(), before, 'every wait removed its listeners');
    assert.ok(grown < 2 * 1024 * 1024, `5,000 waits kept ${(grown / 1024).toFixed(0)} KiB alive`);
  } finally {
    await c.close();
  }
});
