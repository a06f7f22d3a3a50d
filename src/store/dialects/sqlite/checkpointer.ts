/**
 * WAL checkpoints off the event loop. better-sqlite3 is synchronous, and SQLite's automatic
 * checkpoint runs inside the COMMIT that crosses `wal_autocheckpoint` pages: it copies the
 * WAL into the database file and fsyncs it, stalling every request for that commit (measured:
 * 3.4 s of 7 s of ingest went to COMMIT; 0.9 s with checkpoints elsewhere). A worker thread
 * with a connection of its own runs PASSIVE checkpoints every `intervalMs`; in WAL mode they
 * never block the writer. The writer keeps a high `wal_autocheckpoint` as a safety net, so the
 * WAL stays bounded even if the worker stalls.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL bytes after which the writer checkpoints itself, if the worker has not (64 MiB). */
export const SAFETY_AUTOCHECKPOINT_BYTES = 64 * 1024 * 1024;

// The worker's code, evaluated as CommonJS: a file of its own would need a separate build
// path for the TypeScript sources the tests run.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// Checkpoints only copy WAL frames into the file: SQLite's own 2 MB page cache is plenty.
// better-sqlite3's 16 MB default would fill with pages nobody reads here again.
db.pragma('cache_size = -2000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick retries */ }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } catch { /* already closed */ }
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing `path` (an SQLite file in WAL mode) from a worker thread. */
export function startCheckpointer(path: string, intervalMs = 500): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs } });
  worker.unref();
  // A worker that fails (e.g. cannot open the file) leaves checkpoints to the writer's safety net.
  worker.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        worker.postMessage('stop');
        const timer = setTimeout(() => void worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
