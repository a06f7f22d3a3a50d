/**
 * A nats-server of the test's own (JetStream, store in a temp dir, a free port), for tests that
 * kill and restart the server: the shared one on 4222 is never stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { portOpen } from './net.js';
import { waitFor } from './wait.js';

export { freePort } from './net.js';

export class OwnNatsServer {
  private proc: ChildProcess | undefined;

  /** `extraArgs` go to nats-server as they are (e.g. `--tls --tlscert F --tlskey F`). */
  constructor(readonly port: number, private readonly storeDir: string, private readonly extraArgs: readonly string[] = []) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, with the same store) and waits until it accepts connections. */
  async start(): Promise<void> {
    const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArgs], { stdio: 'ignore' });
    this.proc = p;
    await waitFor(`nats-server to open port ${this.port}`, async () => {
      if (p.exitCode !== null) throw new Error(`nats-server exited with ${p.exitCode}`);
      return portOpen(this.port);
    }, 20_000, 100);
  }

  /** Stops it with `signal` (kill -9 by default) and waits until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }
}
