/**
 * HERALD_REQUIRE_TOKENS through the built CLI, as the container image runs it: `herald serve`
 * bound to 0.0.0.0 without a write token exits 2 naming HERALD_API_TOKENS and creates no store;
 * with a token it serves and refuses an unauthenticated write. Needs no services (SQLite).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, runCli } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';
import { waitForValue } from '../helpers/wait.js';

const TOKEN = 'container-token-0123';
const imageEnv = (dir: string, port: number): NodeJS.ProcessEnv => ({
  HERALD_HOST: '0.0.0.0',
  HERALD_PORT: String(port),
  HERALD_REQUIRE_TOKENS: 'true',
  HERALD_DB: `sqlite:${join(dir, 'herald.db')}`,
  HERALD_API_TOKENS: '',
  HERALD_READ_TOKENS: '',
  HERALD_CONFIG: '',
});

test('herald serve with HERALD_REQUIRE_TOKENS and no API token exits 2 naming HERALD_API_TOKENS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-require-tokens-'));
  try {
    const r = await runCli(['serve'], { env: imageEnv(dir, await freePort()), timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^herald serve: .*HERALD_REQUIRE_TOKENS.*HERALD_API_TOKENS/m);
    assert.ok(!existsSync(join(dir, 'herald.db')), 'refused before the store was opened');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('herald serve with HERALD_REQUIRE_TOKENS and a token serves on 0.0.0.0 and refuses open writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-require-tokens-'));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...imageEnv(dir, port), HERALD_API_TOKENS: TOKEN, HERALD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const base = `http://127.0.0.1:${port}`;
    const health = await waitForValue('herald serve to answer /healthz', () => {
      if (child.exitCode !== null) throw new Error(`herald serve exited with ${child.exitCode}: ${stderr}`);
      return fetch(`${base}/healthz`).catch(() => undefined);
    }, 30_000, 100);
    assert.equal(health.status, 200);
    const event = JSON.stringify({ source: 'test/require-tokens', type: 'com.example.guarded', entity: { kind: 'cluster', id: 'c1' } });
    const open = await fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
    assert.equal(open.status, 401);
    const authed = await fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: event });
    assert.equal(authed.status, 202);
    // Bound beyond loopback: answers on this machine's other address too, when it has one.
    const lan = Object.values(networkInterfaces()).flat().find((i) => i !== undefined && !i.internal && i.family === 'IPv4');
    if (lan !== undefined) assert.equal((await fetch(`http://${lan.address}:${port}/healthz`)).status, 200);
    assert.doesNotMatch(stderr, /without API tokens/, 'no open-writes warning: a token is configured');
    assert.ok(!stderr.includes(TOKEN), 'the token is never logged');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  rmSync(dir, { recursive: true, force: true });
});
