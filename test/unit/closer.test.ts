/**
 * Waits that end when something closes (src/shared/closer.ts): the result of the wait, or
 * undefined once closed; and many waits keep nothing alive, where racing one long-lived
 * promise (the console's live feed once did) keeps every wait until the close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createCloser } from '../../src/shared/closer.js';

test('race gives the wait\'s result, its rejection, or undefined once closed', async () => {
  const c = createCloser();
  assert.equal(await c.race(Promise.resolve(7)), 7);
  await assert.rejects(c.race(Promise.reject(new Error('boom'))), /boom/);
  const pending = c.race(new Promise<number>(() => undefined));
  assert.equal(c.closed, false);
  c.close();
  assert.equal(c.closed, true);
  assert.equal(await pending, undefined, 'close ends the wait under way');
  assert.equal(await c.race(Promise.resolve(1)), undefined, 'after close every wait ends at once');
});

test('20,000 waits keep nothing alive; racing one pending promise keeps them all', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const payload = () => ({ bytes: Buffer.alloc(64), text: 'x'.repeat(64) });
  const grownBy = async (wait: (p: Promise<object>) => Promise<unknown>): Promise<number> => {
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20_000; i++) await wait(Promise.resolve(payload()));
    gc();
    return process.memoryUsage().heapUsed - before;
  };
  const c = createCloser();
  await grownBy((p) => c.race(p)); // warm-up: compiled code and feedback are no leak
  const kept = await grownBy((p) => c.race(p));
  const forever = new Promise<never>(() => undefined);
  const naive = await grownBy((p) => Promise.race([p, forever]));
  assert.ok(naive > 2 * 1024 * 1024, `the naive race keeps its waits (${(naive / 1024).toFixed(0)} KiB): the measurement can see a leak`);
  assert.ok(kept < 1024 * 1024, `20,000 waits kept ${(kept / 1024).toFixed(0)} KiB alive`);
  c.close();
});
