#!/usr/bin/env node
// `npm test`: starts one local Kafka broker (from the Maven Central jars) on a free port with a
// temporary data dir, runs every test file with Node's test runner, and stops the broker again,
// also when interrupted. Integration tests find their services through HERALD_TEST_* variables:
//   HERALD_TEST_KAFKA  bootstrap of the shared broker       HERALD_TEST_PG   PostgreSQL URL
//   HERALD_TEST_NATS   NATS URL                              HERALD_TEST_AMQP RabbitMQ URL
// `--unit` runs test/unit only, without a broker. Any further arguments select test files.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, ensureLibs, startCluster } from './kafka/lib.mjs';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const selected = args.filter((a) => !a.startsWith('--'));

function findTests(dir) {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const groups = unitOnly ? ['test/unit'] : ['test/unit', 'test/conformance', 'test/integration'];
let files = groups.flatMap((g) => findTests(join(ROOT, g)));
if (selected.length > 0) files = files.filter((f) => selected.some((s) => relative(ROOT, f).includes(s)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const env = {
  ...process.env,
  HERALD_TEST_PG: process.env.HERALD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
  HERALD_TEST_NATS: process.env.HERALD_TEST_NATS ?? 'nats://127.0.0.1:4222',
  HERALD_TEST_AMQP: process.env.HERALD_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672',
};

let cluster;
let tmp;
const cleanup = async () => {
  if (cluster) { const c = cluster; cluster = undefined; await c.stop(); }
  if (tmp) { rmSync(tmp, { recursive: true, force: true }); tmp = undefined; }
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanup().finally(() => process.exit(130)); });
}

const needsKafka = files.some((f) => !f.includes(`${join('test', 'unit')}`));
if (needsKafka && !unitOnly && !process.env.HERALD_TEST_KAFKA) {
  ensureLibs();
  tmp = mkdtempSync(join(tmpdir(), 'herald-test-kafka-'));
  const t0 = Date.now();
  cluster = await startCluster({ dir: tmp, size: 1 });
  env.HERALD_TEST_KAFKA = cluster.bootstrap;
  console.log(`test broker ready on ${cluster.bootstrap} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

const concurrency = process.env.HERALD_TEST_CONCURRENCY ?? '2';
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec',
    ...files.map((f) => relative(ROOT, f)),
  ], { cwd: ROOT, env, stdio: 'inherit' });
  child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
});
await cleanup();
process.exit(code);
