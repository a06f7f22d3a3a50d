/**
 * A RabbitMQ node of the test's own with a TLS listener only (the shared node on 5672 has no
 * TLS and is never reconfigured): its own node name, data directory, Erlang distribution port
 * and no plugins. Run as root, rabbitmq-server switches user in a session of its own, so the
 * node is stopped by name (`rabbitmqctl -n NODE stop`), not by a signal to the spawned process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { freePort, portOpen } from './net.js';
import { waitFor } from './wait.js';

export interface RabbitTlsFiles { caFile: string; certFile: string; keyFile: string }

export class OwnRabbitTlsServer {
  private proc: ChildProcess | undefined;
  private node = '';
  port = 0;

  constructor(private readonly dir: string, private readonly tls: RabbitTlsFiles) {}

  get url(): string {
    return `amqps://guest:guest@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const distPort = await freePort();
    mkdirSync(this.dir, { recursive: true });
    // Run as root, rabbitmq-server drops to the rabbitmq user: it must be able to write its
    // directory and read the (throw-away) server key.
    chmodSync(this.dir, 0o777);
    chmodSync(this.tls.keyFile, 0o644);
    writeFileSync(join(this.dir, 'rabbitmq.conf'), [
      'listeners.tcp = none',
      `listeners.ssl.default = 127.0.0.1:${this.port}`,
      `ssl_options.cacertfile = ${this.tls.caFile}`,
      `ssl_options.certfile = ${this.tls.certFile}`,
      `ssl_options.keyfile = ${this.tls.keyFile}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = false',
      '',
    ].join('\n'));
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    this.node = `herald-test-${process.pid}-${this.port}@localhost`;
    const env = {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_DIST_PORT: String(distPort),
    };
    // No pipes: the Erlang VM would inherit them and keep this process alive after the test.
    const p = spawn('rabbitmq-server', [], { env, stdio: 'ignore' });
    this.proc = p;
    let exited = false;
    try {
      await waitFor(`rabbitmq-server to open port ${this.port}`, async () => {
        if (p.exitCode !== null) {
          exited = true;
          throw new Error(`rabbitmq-server exited with ${p.exitCode}: ${this.log()}`);
        }
        return portOpen(this.port);
      }, 60_000, 100);
    } catch (err) {
      if (exited) throw err;
      await this.stop();
      throw new Error(`rabbitmq-server did not open port ${this.port} within 60 s: ${this.log()}`);
    }
  }

  /** The end of the node's log, for failure messages. */
  private log(): string {
    const file = join(this.dir, 'log', `${this.node}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '(no log)';
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined) return;
    await promisify(execFile)('rabbitmqctl', ['-q', '-n', this.node, 'stop'], { timeout: 60_000 }).catch(() => undefined);
    // Up to 10 s for the port to close; a node still up after that is killed below.
    await waitFor(`rabbitmq-server to close port ${this.port}`, async () => !(await portOpen(this.port)), 10_000, 100).catch(() => undefined);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
