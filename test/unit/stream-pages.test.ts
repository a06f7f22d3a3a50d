/**
 * The live stream's shared tail pages (src/api/routes/stream.ts): clients woken together by one
 * write share one store read, and no page is held once its read has resolved (holding them
 * made every streamed page old-generation garbage: docs/benchmarks.md, "Stalled live-stream
 * clients").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TailPages } from '../../src/api/routes/stream.js';

type Page = Array<{ seq: number; id: string; frame: string }>;

/** A load that takes several asynchronous steps, as a store read through Kysely does. */
function counted(): { load: () => Promise<Page>; loads: () => number } {
  let n = 0;
  return {
    loads: () => n,
    load: async () => {
      n++;
      for (let i = 0; i < 5; i++) await Promise.resolve();
      return [{ seq: n, id: `e${n}`, frame: `id: e${n}\ndata: {}\n\n` }];
    },
  };
}

test('a hundred streams woken by one write share one read; the page is let go once read', async () => {
  const pages = new TailPages();
  const { load, loads } = counted();
  let wake!: () => void;
  const written = new Promise<void>((resolve) => (wake = resolve));
  // Each stream waits for the notifier, then asks for the page at its position, like the route.
  const streams = Array.from({ length: 100 }, async () => {
    await written;
    return pages.read('filters|41', 7, load);
  });
  wake();
  const got = await Promise.all(streams);
  assert.equal(loads(), 1, 'one store read for all of them');
  assert.ok(got.every((p) => p === got[0]), 'the same page');
  assert.equal(pages.size, 0, 'nothing held after the read resolved');
  // A stream arriving later reads again (what it gets is current, and nothing was kept for it).
  await pages.read('filters|41', 7, load);
  assert.equal(loads(), 2);
});

test('a write in between (a new generation) or another position is a read of its own; a failed read is not served again', async () => {
  const pages = new TailPages();
  const { load, loads } = counted();
  const a = pages.read('f|1', 1, load);
  const b = pages.read('f|1', 2, load);
  const c = pages.read('f|2', 2, load);
  await Promise.all([a, b, c]);
  assert.equal(loads(), 3);
  let failures = 0;
  const failing = () => {
    failures++;
    return Promise.reject(new Error('store down'));
  };
  await assert.rejects(pages.read('f|3', 1, failing), /store down/);
  await assert.rejects(pages.read('f|3', 1, failing), /store down/);
  assert.equal(failures, 2, 'the failed read was not shared with a later caller');
  assert.equal(pages.size, 0);
});
