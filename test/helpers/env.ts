/**
 * Where the integration tests find their real services (set by scripts/test.mjs), and a
 * helper to run the built CLI as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with npm test (it starts the services)`);
  return v;
}

/** Bootstrap address of the broker npm test started. */
export const kafkaBrokers = (): string => required('HERALD_TEST_KAFKA');
export const pgUrl = (): string => process.env.HERALD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const natsUrl = (): string => process.env.HERALD_TEST_NATS ?? 'nats://127.0.0.1:4222';
export const amqpUrl = (): string => process.env.HERALD_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `herald <args>` (the built bin) and collects its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A CLI process left running (a `herald view` that reads while the test publishes). */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  running(): boolean;
  /** Resolves with the exit code (killed after `limitMs`). */
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** Starts `herald <args>` (the built bin) and leaves it running; stopStartedClis() ends what is left. */
export function startCli(args: string[], limitMs = 60_000): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    started.delete(child);
    resolve(code);
  }));
  return { child, stdout: () => out, stderr: () => err, running: () => child.exitCode === null && child.signalCode === null, exited };
}

/** Kills every CLI process startCli started that is still running (for a test file's after()). */
export function stopStartedClis(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** A unique name for topics, tables and queues so tests never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
