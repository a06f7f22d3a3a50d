/**
 * `herald serve` as a real process (the built CLI): serves on a free port with a SQLite file
 * from HERALD_DB, accepts an event, stops cleanly on SIGTERM; bad configuration exits 2
 * naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, runCli } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';
import { waitForValue } from '../helpers/wait.js';

/** Waits until the server answers (start-up time varies with the machine); fails naming its stderr. */
async function serveAnswers(url: string, child: { exitCode: number | null }, stderr: () => string): Promise<Response> {
  try {
    return await waitForValue(`herald serve to answer on ${url}`, () => {
      if (child.exitCode !== null) throw new Error(`herald serve exited with ${child.exitCode}`);
      return fetch(url).catch(() => undefined); // not listening yet
    }, 20_000, 100);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${stderr()}`);
  }
}

test('herald serve answers /healthz, accepts an event, stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-serve-'));
  const port = await freePort();
  const db = join(dir, 'nested', 'herald.db');
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, HERALD_DB: `sqlite:${db}`, HERALD_LOG_LEVEL: 'info', HERALD_API_TOKENS: '', HERALD_READ_TOKENS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const health = await serveAnswers(`http://127.0.0.1:${port}/healthz`, child, () => stderr);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const post = await fetch(`http://127.0.0.1:${port}/v2/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'test/serve', type: 'com.example.served', entity: { kind: 'cluster', id: 'c1' } }),
    });
    assert.equal(post.status, 202);
    const { ids } = (await post.json()) as { ids: string[] };
    const got = await fetch(`http://127.0.0.1:${port}/v2/events/${ids[0]}`);
    assert.equal(got.status, 200);
    assert.equal(((await got.json()) as { type: string }).type, 'com.example.served');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    assert.ok(existsSync(db), 'the SQLite file (and its parent directory) was created');
    assert.match(stderr, new RegExp(`herald serving on http://127\\.0\\.0\\.1:${port}`));
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stderr, /shutting down/);
  rmSync(dir, { recursive: true, force: true });
});

test('bad configuration exits 2 naming the variable or key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-serve-bad-'));
  try {
    const port = await runCli(['serve'], { env: { HERALD_PORT: 'abc', HERALD_DB: `sqlite:${join(dir, 'h.db')}` }, timeoutMs: 20_000 });
    assert.equal(port.code, 2, port.stderr);
    assert.match(port.stderr, /HERALD_PORT/);

    const file = join(dir, 'herald.yaml');
    writeFileSync(file, 'server:\n  host: 127.0.0.1\n  prot: 8080\n');
    const unknown = await runCli(['serve', '--config', file], { env: { HERALD_DB: `sqlite:${join(dir, 'h.db')}` }, timeoutMs: 20_000 });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /server\.prot/);

    const flag = await runCli(['serve', '--port', '99999'], { timeoutMs: 20_000 });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--port/);

    const unknownFlag = await runCli(['serve', '--bogus'], { timeoutMs: 20_000 });
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /--bogus/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
