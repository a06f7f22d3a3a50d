/**
 * A NATS server restart mid-stream. The test starts its OWN nats-server (JetStream, a temporary
 * store directory) so the shared server is never stopped: kill -9, then start it again on the
 * same port with the same store. The sink must reject while the server is down, publish again
 * after the restart, and a durable JetStream source must resume where it was.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sinkFor } from '../helpers/sinks.js';
import { createNatsSource } from '../../src/transports/nats/source.js';
import { isHeraldError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { PassThrough } from 'node:stream';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import type { PublishOutcome } from '../../src/transports/types.js';
import { freePort, OwnNatsServer } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-nats-restart-'));
let own: OwnNatsServer | undefined;
const startServer = async (port: number): Promise<void> => {
  own ??= new OwnNatsServer(port, dir);
  await own.start();
};
const stopServer = async (signal: NodeJS.Signals): Promise<void> => own?.stop(signal);
const cleanups: (() => Promise<unknown>)[] = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await stopServer('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});





const event = (i: number): OutgoingMessage => ({ eventId: `restart-${i}`, topic: 'rs.events', value: Buffer.from(String(i)), contentType: 'text/plain' });

test('kill -9 of the NATS server mid-stream: the sink rejects while down, publishes after the restart, the durable source resumes', async () => {
  const port = await freePort();
  await startServer(port);
  const url = `nats://127.0.0.1:${port}`;
  const sink = await sinkFor({ name: 'restart', type: 'nats', url, createStream: true, stream: 'RESTART', subjects: ['rs.>'], timeoutMs: 2000 }, { logger: silentLogger });
  cleanups.push(() => sink.close());
  // What the source logs (its retries) goes into the failure message, should a wait time out.
  const logLines: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (d: Buffer) => logLines.push(d.toString().trim()));
  const source = createNatsSource({ url, subjects: ['rs.>'], stream: 'RESTART', durable: 'viewer', from: 'beginning', logger: createLogger({ level: 'debug', destination: logStream }) });
  cleanups.push(() => source.close());
  const seen: number[] = [];
  let readerError: unknown;
  const reader = (async () => {
    for await (const m of source.messages()) {
      seen.push(Number(m.value!.toString()));
      await m.ack();
    }
  })().catch((err: unknown) => { readerError = err; });
  const waitSeen = async (n: number): Promise<void> => {
    try {
      await waitFor(`the source to have seen ${n} distinct events`, () => readerError !== undefined || new Set(seen.filter((v) => v >= 0)).size >= n, 30_000, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}; seen ${JSON.stringify(seen)}; source log: ${logLines.slice(-10).join(' | ')}`);
    }
    assert.equal(readerError, undefined, `the source failed: ${String(readerError)}`);
  };

  for (let i = 0; i < 5; i++) assert.deepEqual(await sink.publish([event(i)]), [{ ok: true }]);
  await waitSeen(5);
  assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), [0, 1, 2, 3, 4]);

  await stopServer('SIGKILL');
  // While the server is down every publish is rejected (never reported ok).
  let rejection: unknown;
  for (let i = 0; i < 40 && rejection === undefined; i++) {
    try {
      const o: PublishOutcome[] = await sink.publish([event(5)]);
      assert.ok(!o[0]!.ok, 'a publish while the server is down must not be ok');
    } catch (err) {
      rejection = err;
    }
  }
  assert.ok(isHeraldError(rejection), 'the sink rejected the batch');
  assert.ok(['BROKER_UNAVAILABLE', 'TIMEOUT'].includes(rejection.code), rejection.code);
  assert.equal(sink.connected, false);

  await startServer(port);
  let published = false;
  await waitFor('the sink to publish again after the restart', async () => {
    published = await sink.publish([event(5)]).then((o) => o[0]!.ok, () => false);
    return published;
  }, 60_000, 500);
  assert.ok(published, 'the sink publishes again after the restart');
  assert.equal(sink.connected, true);
  for (let i = 6; i < 10; i++) assert.deepEqual(await sink.publish([event(i)]), [{ ok: true }]);

  await waitSeen(10);
  await source.close();
  await reader;
  const after5 = seen.filter((v) => v >= 5);
  // Redelivery of an unacknowledged message is allowed; loss and reordering are not.
  assert.deepEqual([...new Set(after5)], [5, 6, 7, 8, 9]);
});
