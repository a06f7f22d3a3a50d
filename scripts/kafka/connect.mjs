#!/usr/bin/env node
// `npm run connect:up` / `npm run connect:down`: a standalone Kafka Connect worker for
// development, REST API on 127.0.0.1:${HERALD_DEV_CONNECT_PORT:-18083}, against the local broker
// on 127.0.0.1:${HERALD_DEV_KAFKA_PORT:-the port npm run kafka:up recorded, else 19092}, data and pid in
// ${HERALD_DEV_CONNECT_DIR:-./.herald/connect}. The FileStreamSource/Sink connectors are built in.
import { join, resolve } from 'node:path';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ROOT, isAlive, readPid, readState, startConnect, stopPid, portOpen } from './lib.mjs';

// `up` records where it put the Kafka Connect it started (data dir, port) in .herald/connect.state.json,
// so `down` (and a second `up`) find it without the environment `up` was given.
const stateFile = join(ROOT, '.herald', 'connect.state.json');
const state = readState('connect');
const port = Number(process.env.HERALD_DEV_CONNECT_PORT ?? (process.env.HERALD_DEV_CONNECT_DIR === undefined ? state?.port : undefined) ?? 18083);
// The broker: HERALD_DEV_KAFKA_PORT, else the one `npm run kafka:up` recorded, else 19092.
const kafkaPort = Number(process.env.HERALD_DEV_KAFKA_PORT ?? readState('kafka')?.port ?? 19092);
const dir = resolve(process.env.HERALD_DEV_CONNECT_DIR ?? state?.dir ?? join(ROOT, '.herald', 'connect'));
const pidFile = join(dir, 'connect.pid');
const cmd = process.argv[2];

for (const [name, value] of [['HERALD_DEV_CONNECT_PORT', port], ['HERALD_DEV_KAFKA_PORT', kafkaPort]]) {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number (1-65535), got "${process.env[name]}"`);
    process.exit(2);
  }
}

if (cmd === 'up') {
  const pid = readPid(pidFile);
  if (isAlive(pid)) {
    console.log(`Kafka Connect is already running (pid ${pid}): REST API http://127.0.0.1:${port}`);
    process.exit(0);
  }
  if (await portOpen(port)) {
    console.error(`port ${port} is already taken by another process; set HERALD_DEV_CONNECT_PORT to a free port`);
    process.exit(1);
  }
  if (!(await portOpen(kafkaPort))) {
    console.error(`no Kafka broker on 127.0.0.1:${kafkaPort}; start one with npm run kafka:up (or set HERALD_DEV_KAFKA_PORT)`);
    process.exit(1);
  }
  try {
    await startConnect({ dir, bootstrap: `127.0.0.1:${kafkaPort}`, port });
  } catch (err) {
    console.error(String(err.message ?? err));
    process.exit(1);
  }
  mkdirSync(join(ROOT, '.herald'), { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ dir, port }) + '\n');
  console.log(`Kafka Connect is ready: REST API http://127.0.0.1:${port} against broker 127.0.0.1:${kafkaPort} (data in ${dir}; stop with npm run connect:down)`);
} else if (cmd === 'down') {
  const pid = readPid(pidFile);
  if (!isAlive(pid)) {
    console.log(existsSync(dir) ? 'Kafka Connect is not running' : 'no local Kafka Connect found');
    process.exit(0);
  }
  await stopPid(pid);
  if (state?.dir === dir) rmSync(stateFile, { force: true });
  console.log(`Kafka Connect stopped (pid ${pid})`);
} else {
  console.error('usage: connect.mjs up|down');
  process.exit(2);
}
