// Local Apache Kafka from Maven Central jars: fetch the jars, format and start KRaft brokers
// (single node or a small cluster on loopback), start a Kafka Connect worker, and stop them.
// Used by `npm run kafka:up|down`, `npm run connect:up|down`, the test runner and the benchmarks.
// Plain ESM JavaScript so it runs before (and without) the TypeScript build.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const LIBS = process.env.HERALD_KAFKA_LIBS ?? join(ROOT, '.herald', 'libs');
const POM = join(HERE, 'pom.xml');
const LOG4J = join(HERE, 'log4j2.properties');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Copies the Kafka jars from Maven Central (or ~/.m2) into LIBS unless they are there already.
 * The stamp is the pom's content hash, not its mtime: a copy of scripts/ (a test's scratch
 * checkout) must find the jars current instead of fetching them again under running brokers.
 * A fetch goes to a sibling directory that replaces LIBS in one rename, so a broker or worker
 * starting meanwhile never sees a half-filled or missing classpath.
 */
export function ensureLibs({ quiet = false } = {}) {
  const stamp = join(LIBS, '.pom-sha256');
  const pomHash = createHash('sha256').update(readFileSync(POM)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === pomHash) return LIBS;
  if (!quiet) process.stderr.write(`fetching Kafka jars from Maven Central into ${LIBS} ...\n`);
  const next = `${LIBS}.fetch-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const r = spawnSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies',
    '-DincludeScope=runtime', `-DoutputDirectory=${next}`], { stdio: quiet ? 'pipe' : 'inherit' });
  if (r.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    throw new Error(`mvn copy-dependencies failed (exit ${r.status}): ${r.stderr?.toString() ?? ''}`);
  }
  writeFileSync(join(next, '.pom-sha256'), pomHash);
  // Another process may have fetched the same jars meanwhile: theirs stand, ours go.
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === pomHash) {
    rmSync(next, { recursive: true, force: true });
    return LIBS;
  }
  const old = `${LIBS}.old-${process.pid}`;
  if (existsSync(LIBS)) renameSync(LIBS, old);
  renameSync(next, LIBS);
  rmSync(old, { recursive: true, force: true });
  return LIBS;
}

function java(args, { logFile, env } = {}) {
  const fd = openSync(logFile, 'a');
  const child = spawn('java', args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, KAFKA_LOG4J_OPTS: '', ...env },
  });
  closeSync(fd);
  child.unref();
  return child;
}

const jvmBase = (heap) => [`-Xmx${heap}`, `-Xms${heap === '256m' ? '128m' : '256m'}`,
  '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${LOG4J}`,
  '-cp', `${LIBS}/*`];

/** Returns true once a TCP connection to host:port succeeds. */
export function portOpen(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((res) => {
    const s = createConnection({ port, host });
    const done = (ok) => { s.destroy(); res(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The JSON state a dev script's `up` recorded in .herald/NAME.state.json, or undefined. */
export function readState(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, '.herald', `${name}.state.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Ports this process handed out: the OS may offer a just-closed port again. */
const handedOut = new Set();

/**
 * Asks the OS for a free loopback port, never one this process handed out before (two
 * listeners of one broker asked for in a row once got the same port, and Kafka refused it).
 */
export async function freePort() {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = await new Promise((res, rej) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)); });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export function isAlive(pid) {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export function readPid(file) {
  try { return Number(readFileSync(file, 'utf8').trim()) || undefined; } catch { return undefined; }
}

async function waitForLog(logFile, needle, pid, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let text = '';
    try { text = readFileSync(logFile, 'utf8'); } catch { /* not yet written */ }
    if (text.includes(needle)) return;
    if (!isAlive(pid)) {
      throw new Error(`${what} exited during start-up; last log lines:\n${text.split('\n').slice(-25).join('\n')}`);
    }
    await sleep(150);
  }
  let tail = '';
  try { tail = readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n'); } catch { /* no log */ }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s (log: ${logFile}); last log lines:\n${tail}`);
}

/**
 * Broker properties for one KRaft node (broker+controller). `nodes` lists every node of the
 * cluster ({id, port, controllerPort}); `extra` adds or overrides settings (e.g. SASL listeners).
 */
export function brokerProperties({ node, nodes, dir, extra = {} }) {
  const rf = Math.min(3, nodes.length);
  const props = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'num.partitions': 1,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': Math.min(2, rf),
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': Math.min(2, rf),
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'true',
    'message.max.bytes': 1048588,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

function randomClusterId() {
  const r = spawnSync('java', ['-cp', `${LIBS}/*`, `-Dlog4j2.configurationFile=${LOG4J}`, 'kafka.tools.StorageTool', 'random-uuid'],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`StorageTool random-uuid failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').pop().trim();
}

/** Formats (once) and starts one node; resolves when its log says the server started. */
async function startNode({ node, nodes, dir, clusterId, extra, heap, formatArgs = [] }) {
  mkdirSync(dir, { recursive: true });
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, brokerProperties({ node, nodes, dir, extra }));
  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    const r = spawnSync('java', ['-cp', `${LIBS}/*`, `-Dlog4j2.configurationFile=${LOG4J}`,
      'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, '--ignore-formatted', ...formatArgs],
    { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`formatting ${dir} failed: ${r.stdout}${r.stderr}`);
  }
  const logFile = join(dir, 'server.log');
  writeFileSync(logFile, '');
  const child = java([...jvmBase(heap), 'kafka.Kafka', propsFile], { logFile });
  writeFileSync(join(dir, 'broker.pid'), String(child.pid));
  return { child, logFile, propsFile };
}

/**
 * Starts a KRaft cluster of `size` nodes on loopback. Ports are chosen unless given.
 * Returns { bootstrap, nodes: [{id, port, controllerPort, dir, pid}], stop(), kill(id), restart(id) }.
 */
export async function startCluster({ dir, size = 1, ports, extra = {}, heap = '768m', formatArgs = [], timeoutMs = 120_000 } = {}) {
  ensureLibs({ quiet: true });
  mkdirSync(dir, { recursive: true });
  const nodes = [];
  for (let i = 0; i < size; i++) {
    const port = ports?.[i] ?? await freePort();
    nodes.push({ id: i + 1, port, controllerPort: await freePort(), dir: join(dir, `node-${i + 1}`) });
  }
  const idFile = join(dir, 'cluster.id');
  const clusterId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : randomClusterId();
  writeFileSync(idFile, clusterId);

  const start = async (node) => {
    const { child, logFile } = await startNode({ node, nodes, dir: node.dir, clusterId, extra: typeof extra === 'function' ? extra(node) : extra, heap, formatArgs });
    node.pid = child.pid;
    node.logFile = logFile;
  };
  await Promise.all(nodes.map(start));
  await Promise.all(nodes.map((n) => waitForLog(n.logFile, 'Kafka Server started', n.pid, timeoutMs, `Kafka node ${n.id}`)));

  const cluster = {
    bootstrap: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    dir,
    /** SIGKILLs one node (simulates a crash). */
    kill(id, signal = 'SIGKILL') {
      const n = nodes.find((x) => x.id === id);
      if (isAlive(n.pid)) process.kill(n.pid, signal);
    },
    /** Starts a stopped node again with the same ports and data. */
    async restart(id) {
      const n = nodes.find((x) => x.id === id);
      await waitDead(n.pid, 15_000);
      await start(n);
      await waitForLog(n.logFile, 'Kafka Server started', n.pid, timeoutMs, `Kafka node ${n.id}`);
    },
    async stop() { await Promise.all(nodes.map((n) => stopPid(n.pid))); },
  };
  return cluster;
}

async function waitDead(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  return !isAlive(pid);
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function stopPid(pid, graceMs = 15_000) {
  if (!isAlive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  if (await waitDead(pid, graceMs)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  await waitDead(pid, 5_000);
}

/**
 * Starts a standalone Kafka Connect worker against `bootstrap`. Connector configs can be
 * added later through the REST API. Resolves once the REST API answers. `pluginPath` adds
 * plugin directories; `pluginDiscovery` overrides `plugin.discovery` (service_load when every
 * plugin has a ServiceLoader manifest: faster start-up).
 */
export async function startConnect({ dir, bootstrap, port, heap = '512m', timeoutMs = 120_000, pluginPath, pluginDiscovery }) {
  ensureLibs({ quiet: true });
  mkdirSync(dir, { recursive: true });
  const props = {
    'bootstrap.servers': bootstrap,
    listeners: `http://127.0.0.1:${port}`,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.storage.file.filename': join(dir, 'connect.offsets'),
    'offset.flush.interval.ms': 1000,
    // The FileStream connectors are on the classpath and ship ServiceLoader manifests, so the
    // fast service_load discovery finds them (and silences the 4.x hybrid_warn start-up warning).
    // Extra plugins on a plugin.path may predate manifests: scan those too unless told otherwise.
    ...(pluginPath ? { 'plugin.path': pluginPath } : {}),
    'plugin.discovery': pluginDiscovery ?? (pluginPath ? 'hybrid_warn' : 'service_load'),
  };
  const propsFile = join(dir, 'worker.properties');
  writeFileSync(propsFile, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const logFile = join(dir, 'connect.log');
  writeFileSync(logFile, '');
  const child = java([...jvmBase(heap), 'org.apache.kafka.connect.cli.ConnectStandalone', propsFile], { logFile });
  writeFileSync(join(dir, 'connect.pid'), String(child.pid));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(child.pid)) {
      throw new Error(`Kafka Connect exited during start-up; see ${logFile}:\n${readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n')}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/connectors`);
      if (res.ok) return { pid: child.pid, url: `http://127.0.0.1:${port}`, logFile, stop: () => stopPid(child.pid) };
    } catch { /* not yet listening */ }
    await sleep(300);
  }
  await stopPid(child.pid);
  throw new Error(`Kafka Connect did not answer on port ${port} within ${timeoutMs / 1000}s (log: ${logFile})`);
}
