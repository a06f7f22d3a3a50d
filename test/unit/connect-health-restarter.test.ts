import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../../src/connect-health/restarter.js';

describe('RestartPolicy', () => {
  const options = { maxRestarts: 4, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 3_000 };

  it('restarts at once, then backs off exponentially up to the longest wait', () => {
    const p = new RestartPolicy(options);
    assert.deepEqual(p.decide('c', 0), { restart: true, attempt: 1 });
    assert.equal(p.record('c', 0), 1);
    assert.deepEqual(p.decide('c', 999), { restart: false, why: 'backoff', attempt: 2, retryAt: 1_000 });
    assert.deepEqual(p.decide('c', 1_000), { restart: true, attempt: 2 });
    p.record('c', 1_000);
    assert.equal(p.decide('c', 2_999).restart, false);
    assert.equal(p.decide('c', 3_000).restart, true);
    p.record('c', 3_000);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => p.delayAfter(n)), [1_000, 2_000, 3_000, 3_000, 3_000]);
  });

  it('stops at the cap within the window and allows more once old restarts leave it', () => {
    const p = new RestartPolicy({ ...options, backoffMs: 1 });
    for (let i = 0; i < 4; i++) {
      const d = p.decide('c', i * 10);
      assert.equal(d.restart, true, `restart ${i + 1} should be allowed`);
      p.record('c', i * 10);
    }
    assert.deepEqual(p.decide('c', 1_000), { restart: false, why: 'limit', attempt: 5, retryAt: 60_000 });
    // A healthy spell resets the backoff, but not the cap: a flapping connector still meets it.
    p.healthy('c');
    assert.equal(p.decide('c', 1_000).restart, false);
    assert.deepEqual(p.decide('c', 60_001), { restart: true, attempt: 1 });
  });

  it('keeps connectors apart', () => {
    const p = new RestartPolicy(options);
    p.record('a', 0);
    assert.equal(p.decide('a', 10).restart, false);
    assert.equal(p.decide('b', 10).restart, true);
    assert.equal(p.attempts('a'), 1);
    assert.equal(p.attempts('b'), 0);
  });
});
