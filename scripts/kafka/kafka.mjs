#!/usr/bin/env node
// `npm run kafka:up` / `npm run kafka:down`: a single-node KRaft broker for development on
// 127.0.0.1:${HERALD_DEV_KAFKA_PORT:-19092} with data in ${HERALD_DEV_KAFKA_DIR:-./.herald/kafka}.
import { join, resolve } from 'node:path';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ROOT, isAlive, readPid, readState, startCluster, stopPid, portOpen } from './lib.mjs';

// `up` records where it put the Kafka it started (data dir, port) in .herald/kafka.state.json,
// so `down` (and a second `up`) find it without the environment `up` was given.
const stateFile = join(ROOT, '.herald', 'kafka.state.json');
const state = readState('kafka');
const port = Number(process.env.HERALD_DEV_KAFKA_PORT ?? (process.env.HERALD_DEV_KAFKA_DIR === undefined ? state?.port : undefined) ?? 19092);
const dir = resolve(process.env.HERALD_DEV_KAFKA_DIR ?? state?.dir ?? join(ROOT, '.herald', 'kafka'));
const pidFile = join(dir, 'node-1', 'broker.pid');
const cmd = process.argv[2];

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`HERALD_DEV_KAFKA_PORT must be a port number (1-65535), got "${process.env.HERALD_DEV_KAFKA_PORT}"`);
  process.exit(2);
}

if (cmd === 'up') {
  const pid = readPid(pidFile);
  if (isAlive(pid)) {
    console.log(`Kafka is already running (pid ${pid}): bootstrap 127.0.0.1:${port}`);
    process.exit(0);
  }
  if (await portOpen(port)) {
    console.error(`port ${port} is already taken by another process; set HERALD_DEV_KAFKA_PORT to a free port`);
    process.exit(1);
  }
  try {
    await startCluster({ dir, size: 1, ports: [port] });
  } catch (err) {
    console.error(String(err.message ?? err));
    process.exit(1);
  }
  mkdirSync(join(ROOT, '.herald'), { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ dir, port }) + '\n');
  console.log(`Kafka is ready: bootstrap 127.0.0.1:${port} (data in ${dir}; stop with npm run kafka:down)`);
} else if (cmd === 'down') {
  const pid = readPid(pidFile);
  if (!isAlive(pid)) {
    console.log(existsSync(dir) ? 'Kafka is not running' : 'no local Kafka found');
    process.exit(0);
  }
  await stopPid(pid);
  if (state?.dir === dir) rmSync(stateFile, { force: true });
  console.log(`Kafka stopped (pid ${pid})`);
} else {
  console.error('usage: kafka.mjs up|down');
  process.exit(2);
}
