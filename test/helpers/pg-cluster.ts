/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, on a free port), so a test can
 * stop it (`-m immediate`, as a crash would) and start it again without touching the shared
 * server. Needs the PostgreSQL server binaries: `initdb`/`pg_ctl` on PATH or in
 * `pg_config --bindir` (HERALD_TEST_PG_BIN overrides). PostgreSQL refuses to run as root, so
 * as root the commands run as the `postgres` user (runuser), which owns the data directory.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

export interface PgCluster {
  url: string;
  port: number;
  /** Stops the server; `immediate` aborts like a crash (no checkpoint, clients cut). */
  stop(mode?: 'immediate' | 'fast'): void;
  start(): void;
  /** Stops it (if running) and removes its directory. */
  destroy(): void;
}

function binDir(): string | undefined {
  if (process.env.HERALD_TEST_PG_BIN !== undefined) return process.env.HERALD_TEST_PG_BIN;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config: try PATH below
  }
  try {
    execFileSync('initdb', ['--version'], { stdio: 'ignore' });
    return '';
  } catch {
    return undefined;
  }
}

const BIN = binDir();

/** Why a test needing its own server cannot run here (undefined: it can). */
export const pgClusterSkip: string | false = BIN === undefined
  ? 'needs the PostgreSQL server binaries (initdb, pg_ctl; set HERALD_TEST_PG_BIN) to start a server of its own'
  : false;

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd: string, args: string[]): string {
  const exe = BIN === '' || BIN === undefined ? cmd : join(BIN, cmd);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startPgCluster(): Promise<PgCluster> {
  if (BIN === undefined) throw new Error(pgClusterSkip as string);
  const dir = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  let running = false;
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start() {
      run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    stop(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    destroy() {
      try {
        if (running) cluster.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  cluster.start();
  return cluster;
}
