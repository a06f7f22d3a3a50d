/**
 * `npm run kafka:up|down` and `connect:up|down` (scripts/kafka/kafka.mjs, connect.mjs), as a
 * developer uses them: `kafka:up` on a port of their choosing, then `connect:up`, `connect:down`
 * and `kafka:down` without repeating that environment — each finds what `up` started from the
 * state it recorded, and nothing is left running (needs Java and the Kafka jars the test runner
 * fetched; starts a broker and a Connect worker of its own).
 *
 * The scripts run from a copy of scripts/ in a scratch directory, so their state (.herald/)
 * is the scratch directory's and a developer's broker of the checkout is never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/env.js';
import { freePort, portOpen } from '../helpers/net.js';

const exec = promisify(execFile);

test('kafka:up on a chosen port; connect:up, connect:down and kafka:down find it without the variables', { timeout: 300_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'herald-dev-scripts-'));
  cpSync(join(ROOT, 'scripts'), join(scratch, 'scripts'), { recursive: true, preserveTimestamps: true });
  const kafkaPort = await freePort();
  const connectPort = await freePort();
  // The jars are the checkout's (fetched once); everything else is the scratch directory's.
  const libs = process.env.HERALD_KAFKA_LIBS ?? join(ROOT, '.herald', 'libs');
  const base: NodeJS.ProcessEnv = { ...process.env, HERALD_KAFKA_LIBS: libs };
  // The copy must find the jars current: a fetch would replace them under the running brokers.
  const stamp = () => statSync(join(libs, '.pom-sha256')).ino;
  const stampBefore = stamp();
  for (const k of ['HERALD_DEV_KAFKA_PORT', 'HERALD_DEV_KAFKA_DIR', 'HERALD_DEV_CONNECT_PORT', 'HERALD_DEV_CONNECT_DIR']) delete base[k];
  const run = (script: string, cmd: string, env: NodeJS.ProcessEnv = {}) =>
    exec(process.execPath, [join(scratch, 'scripts', 'kafka', script), cmd], { cwd: scratch, env: { ...base, ...env }, timeout: 240_000 });
  t.after(async () => {
    // Whatever a failed assertion left running.
    await run('connect.mjs', 'down').catch(() => undefined);
    await run('kafka.mjs', 'down').catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  const up = await run('kafka.mjs', 'up', { HERALD_DEV_KAFKA_PORT: String(kafkaPort) });
  assert.match(up.stdout, new RegExp(`127\\.0\\.0\\.1:${kafkaPort}`));
  assert.equal(JSON.parse(readFileSync(join(scratch, '.herald', 'kafka.state.json'), 'utf8')).port, kafkaPort);
  assert.ok(await portOpen(kafkaPort), 'the broker listens on the chosen port');
  assert.equal(stamp(), stampBefore, 'kafka:up from the copy used the jars as they were');

  // No HERALD_DEV_KAFKA_PORT: the worker finds the broker kafka:up recorded.
  const connect = await run('connect.mjs', 'up', { HERALD_DEV_CONNECT_PORT: String(connectPort) });
  assert.match(connect.stdout, new RegExp(`against broker 127\\.0\\.0\\.1:${kafkaPort}`));
  const info = await fetch(`http://127.0.0.1:${connectPort}/`);
  assert.equal(info.status, 200, 'the Connect REST API answers');

  // Stopped without the variables either.
  await run('connect.mjs', 'down');
  assert.equal(await portOpen(connectPort), false, 'Connect stopped');
  await run('kafka.mjs', 'down');
  assert.equal(await portOpen(kafkaPort), false, 'the broker stopped');
  assert.equal(existsSync(join(scratch, '.herald', 'kafka.state.json')), false, 'kafka:down forgets the broker it stopped');
});
