/**
 * `herald connect-health` against a real Kafka Connect worker (standalone, from the Maven jars,
 * started once for this file against the test broker) with real FileStream connectors.
 * The main paths run the built CLI as a process; the rest use the programmatic API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ROOT, kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { waitFor, waitForValue } from '../helpers/wait.js';
import { startConnectHealth, type ConnectHealth } from '../../src/connect-health/index.js';

interface Worker {
  pid: number;
  url: string;
  stop(): Promise<void>;
}
interface KafkaLib {
  startConnect(o: { dir: string; bootstrap: string; port: number; pluginPath?: string; pluginDiscovery?: string }): Promise<Worker>;
  freePort(): Promise<number>;
  ensureLibs(o: { quiet: boolean }): string;
}
// Plain-JS scripts shared with npm run connect:up; imported by URL so tsc does not type them.
const lib = (await import(pathToFileURL(join(ROOT, 'scripts', 'kafka', 'lib.mjs')).href)) as KafkaLib;

interface HealthBody {
  status: string;
  reasons?: Array<{ connector?: string; task?: number; state?: string; message: string }>;
  connectors: Array<{ name: string; state: string; tasks: Array<{ id: number; state: string }> }>;
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, text: await res.text() };
}

async function health(base: string): Promise<{ status: number; body: HealthBody }> {
  const r = await get(`${base}/health`);
  return { status: r.status, body: JSON.parse(r.text) as HealthBody };
}

/** Waits until /health answers `status`, returning the body. */
function healthIs(base: string, status: number, extra: (b: HealthBody) => boolean = () => true): Promise<HealthBody> {
  return waitForValue(`/health ${status} at ${base}`, async () => {
    try {
      const h = await health(base);
      // Until its first poll a sidecar answers 500 "no poll ... yet"; that is not the answer awaited.
      const polled = !(h.body.reasons?.[0]?.message ?? '').startsWith('no poll');
      return h.status === status && polled && extra(h.body) ? h.body : undefined;
    } catch {
      return undefined; // no (parsable) answer yet: poll again
    }
  }, 30_000, 100);
}

/**
 * A connector whose start() always throws: the only way to get a FAILED *connector* (not task)
 * from a stock worker. Compiled against the Connect jars into a plugin directory, with a
 * ServiceLoader manifest so the worker finds it with plugin.discovery=service_load.
 */
const FAILING_CONNECTOR = `package herald.test;
public class FailingSourceConnector extends org.apache.kafka.connect.source.SourceConnector {
  public String version() { return "1.0"; }
  public void start(java.util.Map<String, String> props) {
    throw new org.apache.kafka.connect.errors.ConnectException("herald test connector fails on purpose");
  }
  public Class<? extends org.apache.kafka.connect.connector.Task> taskClass() { return null; }
  public java.util.List<java.util.Map<String, String>> taskConfigs(int max) { return java.util.List.of(); }
  public void stop() {}
  public org.apache.kafka.common.config.ConfigDef config() { return new org.apache.kafka.common.config.ConfigDef(); }
}
`;

function buildFailingPlugin(root: string): string {
  const libs = lib.ensureLibs({ quiet: true });
  const src = join(root, 'src');
  const classes = join(root, 'classes');
  const plugins = join(root, 'plugins', 'failing');
  mkdirSync(join(src, 'herald', 'test'), { recursive: true });
  mkdirSync(join(classes, 'META-INF', 'services'), { recursive: true });
  mkdirSync(plugins, { recursive: true });
  writeFileSync(join(src, 'herald', 'test', 'FailingSourceConnector.java'), FAILING_CONNECTOR);
  writeFileSync(join(classes, 'META-INF', 'services', 'org.apache.kafka.connect.source.SourceConnector'), 'herald.test.FailingSourceConnector\n');
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}${r.error ? String(r.error) : ''}`);
  };
  run('javac', ['-cp', `${libs}/*`, '-d', classes, join(src, 'herald', 'test', 'FailingSourceConnector.java')]);
  run('jar', ['cf', join(plugins, 'failing-connector.jar'), '-C', classes, '.']);
  return join(root, 'plugins');
}

let worker: Worker;
let connectUrl: string;
let dir: string;
const sidecars: ConnectHealth[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
let paused = false;

async function connect(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(connectUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function connectorStatus(name: string): Promise<{ connector: { state: string }; tasks: Array<{ id: number; state: string }> }> {
  return (await (await connect('GET', `/connectors/${name}/status`)).json()) as never;
}

/** A FileStreamSource reading a file of a few lines into a fresh topic. */
async function createSource(name: string): Promise<void> {
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, 'one\ntwo\n');
  await connect('PUT', `/connectors/${name}/config`, {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
    file,
    topic: uniqueName('connect-health'),
    'tasks.max': '1',
  });
}

/** A FileStreamSink writing into `file`; its task fails while the directory does not exist. */
async function createSink(name: string, file: string): Promise<void> {
  await connect('PUT', `/connectors/${name}/config`, {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    file,
    topics: uniqueName('connect-health'),
    'tasks.max': '1',
  });
}

function waitState(name: string, connectorState: string, taskState?: string): Promise<void> {
  return waitFor(`${name} ${connectorState}/${taskState ?? '-'}`, async () => {
    // A connector just created may have no status yet (HTTP 404): poll again.
    const s = await connectorStatus(name).catch(() => undefined);
    return s !== undefined && s.connector.state === connectorState && (taskState === undefined || (s.tasks.length > 0 && s.tasks.every((t) => t.state === taskState)));
  }, 30_000, 100);
}

async function sidecar(options: Parameters<typeof startConnectHealth>[0]): Promise<ConnectHealth> {
  const s = await startConnectHealth({ port: 0, intervalMs: 200, timeoutMs: 2_000, processMetrics: false, ...options });
  sidecars.push(s);
  return s;
}

/** Runs `herald connect-health` as a process; resolves once it answers on its port. */
async function spawnSidecar(args: string[]): Promise<{ url: string; child: ChildProcessWithoutNullStreams; stderr: () => string; exited: Promise<number | null> }> {
  const port = await lib.freePort();
  const child = spawn(process.execPath, [CLI, 'connect-health', '--port', String(port), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`connect-health process on ${url}`, () => get(`${url}/ready`).then((r) => r.status > 0, () => false), 20_000, 100)
    .catch((e: Error) => { throw new Error(`${e.message} (stderr: ${err})`); });
  return { url, child, stderr: () => err, exited };
}

/** The JSON log lines a sidecar process wrote. */
function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('herald connect-health against a real Kafka Connect worker', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-connect-health-'));
    const pluginPath = buildFailingPlugin(join(dir, 'plugin'));
    worker = await lib.startConnect({ dir: join(dir, 'worker'), bootstrap: kafkaBrokers(), port: await lib.freePort(), pluginPath, pluginDiscovery: 'service_load' });
    connectUrl = worker.url;
  });

  after(async () => {
    await Promise.all(sidecars.map((s) => s.close()));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (worker) {
      if (paused) process.kill(worker.pid, 'SIGCONT');
      await worker.stop();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 200 for a healthy FileStreamSource, with metrics, and stops on SIGTERM (CLI)', async () => {
    await createSource('src-ok');
    await waitState('src-ok', 'RUNNING', 'RUNNING');
    const p = await spawnSidecar(['--connect-url', connectUrl, '--interval', '300ms']);
    const body = await healthIs(p.url, 200, (b) => b.connectors.some((c) => c.name === 'src-ok'));
    assert.equal(body.status, 'healthy');
    assert.deepEqual(body.connectors.find((c) => c.name === 'src-ok'), { name: 'src-ok', state: 'RUNNING', tasks: [{ id: 0, state: 'RUNNING' }] });
    assert.equal((await get(`${p.url}/ready`)).status, 200);
    const metrics = (await get(`${p.url}/metrics`)).text;
    assert.match(metrics, /^herald_connect_connector_state\{connector="src-ok",state="RUNNING"\} 1$/m);
    assert.match(metrics, /^herald_connect_connector_state\{connector="src-ok",state="FAILED"\} 0$/m);
    assert.match(metrics, /^herald_connect_task_state\{connector="src-ok",task="0",state="RUNNING"\} 1$/m);
    assert.match(metrics, /^herald_connect_healthy 1$/m);
    assert.match(metrics, /^herald_connect_poll_duration_seconds_count [1-9]/m);
    assert.match(metrics, /^process_cpu_user_seconds_total /m);
    assert.equal((await get(`${p.url}/nope`)).status, 404);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.stderr(), /connect-health stopped/);
  });

  it('answers 500 naming the failed task of a FileStreamSink writing into a missing directory', async () => {
    await createSink('sink-broken', join(dir, 'missing-1', 'out.txt'));
    await waitState('sink-broken', 'RUNNING', 'FAILED');
    const s = await sidecar({ connectUrl, connectors: ['sink-broken', 'src-ok'] });
    const body = await healthIs(s.url, 500);
    assert.equal(body.status, 'unhealthy');
    assert.equal(body.reasons?.length, 1);
    const reason = body.reasons![0]!;
    assert.equal(reason.connector, 'sink-broken');
    assert.equal(reason.task, 0);
    assert.equal(reason.state, 'FAILED');
    assert.match(reason.message, /^connector sink-broken task 0 is FAILED: org\.apache\.kafka\.connect\.errors\.ConnectException: Couldn't find or create file/);
    const metrics = (await get(`${s.url}/metrics`)).text;
    assert.match(metrics, /^herald_connect_task_state\{connector="sink-broken",task="0",state="FAILED"\} 1$/m);
    assert.match(metrics, /^herald_connect_healthy 0$/m);
    // In a distributed cluster each pod's sidecar judges only its own worker's tasks.
    const workerId = new URL(connectUrl).host;
    const elsewhere = await sidecar({ connectUrl, connectors: ['sink-broken'], workerId: 'some-other-worker:8083' });
    const here = await sidecar({ connectUrl, connectors: ['sink-broken'], workerId });
    await healthIs(elsewhere.url, 200);
    assert.match((await healthIs(here.url, 500)).reasons![0]!.message, /sink-broken task 0 is FAILED/);
    await connect('DELETE', '/connectors/sink-broken');
  });

  it('answers 500 for a paused connector, and 200 with allowPaused (also when stopped)', async () => {
    await createSource('src-paused');
    await waitState('src-paused', 'RUNNING', 'RUNNING');
    await connect('PUT', '/connectors/src-paused/pause');
    await waitState('src-paused', 'PAUSED', 'PAUSED');
    const strict = await sidecar({ connectUrl, connectors: ['src-paused'] });
    const lenient = await sidecar({ connectUrl, connectors: ['src-paused'], allowPaused: true });
    const bad = await healthIs(strict.url, 500);
    assert.deepEqual(bad.reasons!.map((r) => r.message), [
      'connector src-paused is PAUSED (--allow-paused accepts paused connectors)',
      'connector src-paused task 0 is PAUSED (--allow-paused accepts paused connectors)',
    ]);
    const ok = await healthIs(lenient.url, 200);
    assert.equal(ok.connectors[0]!.state, 'PAUSED');
    await connect('PUT', '/connectors/src-paused/stop');
    await waitState('src-paused', 'STOPPED');
    await healthIs(lenient.url, 200, (b) => b.connectors[0]?.state === 'STOPPED');
    await healthIs(strict.url, 500, (b) => b.reasons!.some((r) => /src-paused is STOPPED/.test(r.message)));
  });

  it('answers 500 when a watched connector is deleted or never existed', async () => {
    await createSource('src-gone');
    await waitState('src-gone', 'RUNNING', 'RUNNING');
    const s = await sidecar({ connectUrl, connectors: ['src-gone'] });
    await healthIs(s.url, 200);
    await connect('DELETE', '/connectors/src-gone');
    const body = await healthIs(s.url, 500);
    assert.deepEqual(body.reasons, [{ connector: 'src-gone', message: 'connector src-gone does not exist on the Connect worker' }]);
  });

  it('answers 500 (and is not ready) when Connect answers non-2xx', async () => {
    const s = await sidecar({ connectUrl: `${connectUrl}/no-such-prefix` });
    const body = await healthIs(s.url, 500, (b) => (b.reasons?.[0]?.message ?? '').includes('HTTP'));
    assert.match(body.reasons![0]!.message, /no-such-prefix answered GET \/connectors with HTTP 404/);
    const ready = await get(`${s.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match((await get(`${s.url}/metrics`)).text, /^herald_connect_poll_errors_total\{kind="http"\} [1-9]/m);
  });

  it('with --restart-failed restarts a failed task until its cause is fixed, then answers 200 (CLI)', async () => {
    const outDir = join(dir, 'missing-2');
    await createSink('sink-heal', join(outDir, 'out.txt'));
    await waitState('sink-heal', 'RUNNING', 'FAILED');
    const p = await spawnSidecar([
      '--connect-url', connectUrl, '--connector', 'sink-heal', '--interval', '200ms',
      '--restart-failed', '--restart-backoff', '500ms', '--max-restarts', '50',
    ]);
    // Restarts cannot help while the directory is missing: the task fails again and the
    // sidecar reports it between attempts.
    const failing = await healthIs(p.url, 500);
    assert.match(failing.reasons![0]!.message, /^connector sink-heal task 0 is FAILED: .*\(restarted \d+ times?; still failing\)$/);
    await waitFor('a second restart', () => logLines(p.stderr()).some((l) => l.attempt === 2), 30_000);
    mkdirSync(outDir);
    await healthIs(p.url, 200);
    await waitState('sink-heal', 'RUNNING', 'RUNNING');
    const restarts = logLines(p.stderr()).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('restarting failed connector'));
    assert.ok(restarts.length >= 2, `expected at least 2 restarts, got ${restarts.length}`);
    assert.deepEqual(
      { connector: restarts[0]!.connector, tasks: restarts[0]!.tasks, attempt: restarts[0]!.attempt, level: restarts[0]!.level },
      { connector: 'sink-heal', tasks: [0], attempt: 1, level: 30 },
    );
    assert.match(String(restarts[0]!.msg), /restarting failed connector sink-heal task 0 \(attempt 1\)/);
    assert.match((await get(`${p.url}/metrics`)).text, /^herald_connect_restarts_total\{connector="sink-heal"\} ([2-9]|\d\d+)$/m);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('restarts a FAILED connector at most --max-restarts times, then reports the limit', async () => {
    // A standalone worker starts the connector inside the PUT, so the PUT itself answers 500
    // ("Failed to transition connector ... to state STARTED"); the connector exists, FAILED.
    const put = await fetch(`${connectUrl}/connectors/src-failing/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'connector.class': 'herald.test.FailingSourceConnector', 'tasks.max': '1' }),
    });
    assert.ok(put.status === 201 || put.status === 500, `PUT answered ${put.status}`);
    await waitState('src-failing', 'FAILED');
    const s = await sidecar({ connectUrl, connectors: ['src-failing'], restartFailed: true, restartBackoffMs: 100, maxRestarts: 2 });
    const body = await healthIs(s.url, 500, (b) => /restart limit/.test(b.reasons?.[0]?.message ?? ''));
    assert.deepEqual(body.reasons, [
      {
        connector: 'src-failing',
        state: 'FAILED',
        message:
          'connector src-failing is FAILED: org.apache.kafka.connect.errors.ConnectException: herald test connector fails on purpose (restart limit reached: 2 restarts within 3600s)',
      },
    ]);
    assert.match((await get(`${s.url}/metrics`)).text, /^herald_connect_restarts_total\{connector="src-failing"\} 2$/m);
    await connect('DELETE', '/connectors/src-failing');
  });

  it('answers 500 when Connect does not answer within the timeout (worker frozen with SIGSTOP)', async () => {
    const s = await sidecar({ connectUrl, connectors: ['src-ok'], timeoutMs: 300 });
    await healthIs(s.url, 200);
    process.kill(worker.pid, 'SIGSTOP');
    paused = true;
    try {
      const body = await healthIs(s.url, 500);
      assert.match(body.reasons![0]!.message, /did not answer GET \/connectors within 300ms/);
    } finally {
      process.kill(worker.pid, 'SIGCONT');
      paused = false;
    }
    await healthIs(s.url, 200);
  });

  it('answers 500 when the Connect worker is stopped, and bad flags exit 2 (CLI)', async () => {
    const p = await spawnSidecar(['--connect-url', connectUrl, '--connector', 'src-ok', '--interval', '200ms']);
    await healthIs(p.url, 200);
    await worker.stop();
    const body = await healthIs(p.url, 500);
    assert.match(body.reasons![0]!.message, /^Kafka Connect REST API at http:\/\/127\.0\.0\.1:\d+ is unreachable \(GET \/connectors\): ECONNREFUSED$/);
    assert.equal((await get(`${p.url}/ready`)).status, 503);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);

    const bad = await runCli(['connect-health', '--connect-url', 'http://user:hunter2@', '--port', '1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--connect-url must be an http/);
    assert.doesNotMatch(bad.stderr, /hunter2/);
    const badPort = await runCli(['connect-health', '--port', '99999']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be a whole number from 0 to 65535/);
  });
});
