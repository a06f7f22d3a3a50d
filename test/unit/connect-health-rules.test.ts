import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate, firstLine, judgeState, redactSecrets, trackStates, type RuleOptions, type StateSince } from '../../src/connect-health/rules.js';
import { CONNECTOR_STATES, TASK_STATES, type ConnectorStatus, type Snapshot } from '../../src/connect-health/types.js';

const strict: RuleOptions = { allowPaused: false, graceMs: 30_000 };
const T0 = 1_700_000_000_000;

function status(name: string, connector: string, tasks: string[], trace?: string): ConnectorStatus {
  return {
    name,
    connector: { state: connector, worker_id: 'w:8083' },
    tasks: tasks.map((state, id) => ({ id, state, worker_id: 'w:8083', ...(state === 'FAILED' && trace ? { trace } : {}) })),
    type: 'sink',
  };
}

function snap(at: number, ...statuses: ConnectorStatus[]): Snapshot {
  return { at, statuses: new Map(statuses.map((s) => [s.name, s])) };
}

const TRACE = "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/x/out.txt'\n\tat org.apache.kafka.connect.file.FileStreamSinkTask.start(FileStreamSinkTask.java:74)\n";

describe('judgeState', () => {
  it('accepts RUNNING and rejects FAILED with the first line of the trace', () => {
    assert.equal(judgeState('task', 'RUNNING', 0, strict), undefined);
    assert.equal(judgeState('task', 'FAILED', 0, strict, TRACE), "is FAILED: org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/x/out.txt'");
    assert.equal(judgeState('connector', 'FAILED', 0, strict), 'is FAILED');
  });

  it('rejects PAUSED and STOPPED unless paused connectors are allowed', () => {
    assert.match(judgeState('connector', 'PAUSED', 0, strict)!, /PAUSED.*--allow-paused/);
    assert.match(judgeState('connector', 'STOPPED', 0, strict)!, /STOPPED/);
    assert.equal(judgeState('connector', 'PAUSED', 0, { ...strict, allowPaused: true }), undefined);
    assert.equal(judgeState('connector', 'STOPPED', 0, { ...strict, allowPaused: true }), undefined);
    assert.equal(judgeState('task', 'PAUSED', 0, { ...strict, allowPaused: true }), undefined);
  });

  it('gives UNASSIGNED and RESTARTING a grace period, then counts them as failing', () => {
    for (const state of ['UNASSIGNED', 'RESTARTING']) {
      assert.equal(judgeState('task', state, 29_999, strict), undefined);
      assert.match(judgeState('task', state, 30_000, strict)!, new RegExp(`has been ${state} for 30s .*grace period of 30s`));
    }
  });

  it('rejects states it does not know, and STOPPED for a task (tasks cannot stop)', () => {
    assert.match(judgeState('task', 'DESTROYED', 0, strict)!, /unknown state "DESTROYED"/);
    assert.match(judgeState('task', 'STOPPED', 0, { ...strict, allowPaused: true })!, /unknown state/);
  });
});

describe('evaluate', () => {
  const base = { since: new Map() as StateSince, now: T0 + 1000, staleAfterMs: 60_000 };

  it('is healthy when every connector and task runs', () => {
    const r = evaluate({ ...base, snapshot: snap(T0, status('a', 'RUNNING', ['RUNNING', 'RUNNING']), status('b', 'RUNNING', [])) }, strict);
    assert.equal(r.healthy, true);
    assert.deepEqual(r.reasons, []);
    assert.deepEqual(r.connectors.map((c) => c.name), ['a', 'b']);
    assert.equal(r.lastSuccess, new Date(T0).toISOString());
  });

  it('names the connector and task of a failed task, with the trace line', () => {
    const r = evaluate({ ...base, snapshot: snap(T0, status('ok', 'RUNNING', ['RUNNING']), status('sink', 'RUNNING', ['RUNNING', 'FAILED'], TRACE)) }, strict);
    assert.equal(r.healthy, false);
    assert.equal(r.reasons.length, 1);
    assert.deepEqual({ ...r.reasons[0], message: undefined }, { connector: 'sink', task: 1, state: 'FAILED', message: undefined });
    assert.match(r.reasons[0]!.message, /^connector sink task 1 is FAILED: org\.apache\.kafka\.connect\.errors\.ConnectException: Couldn't find/);
    assert.doesNotMatch(r.reasons[0]!.message, /FileStreamSinkTask\.java/);
  });

  it('with a worker id judges only what runs on that worker', () => {
    const other = { ...status('x', 'FAILED', ['FAILED']), connector: { state: 'FAILED', worker_id: 'other:8083' } };
    other.tasks[0]!.worker_id = 'other:8083';
    const mixed = status('y', 'RUNNING', ['RUNNING', 'FAILED']);
    const s = snap(T0, other, mixed);
    const here = evaluate({ ...base, snapshot: s }, { ...strict, workerId: 'w:8083' });
    assert.deepEqual(here.reasons.map((r) => `${r.connector}/${r.task}`), ['y/1']);
    assert.equal(evaluate({ ...base, snapshot: s }, { ...strict, workerId: 'idle:8083' }).healthy, true);
    assert.equal(evaluate({ ...base, snapshot: s }, strict).reasons.length, 3);
  });

  it('reports a watched connector that does not exist, and ignores unwatched ones', () => {
    const r = evaluate({ ...base, watch: ['a', 'gone'], snapshot: snap(T0, status('a', 'RUNNING', ['RUNNING']), status('other', 'FAILED', [])) }, strict);
    assert.equal(r.healthy, false);
    assert.deepEqual(r.reasons.map((x) => x.message), ['connector gone does not exist on the Connect worker']);
  });

  it('is unhealthy before the first poll, after a failed poll and when the cache is stale', () => {
    assert.match(evaluate({ ...base }, strict).reasons[0]!.message, /no poll .* has completed yet/);
    const failed = evaluate({ ...base, snapshot: snap(T0, status('a', 'RUNNING', [])), lastError: { at: T0 + 500, message: 'Kafka Connect REST API at x is unreachable' } }, strict);
    assert.deepEqual(failed.reasons.map((x) => x.message), ['Kafka Connect REST API at x is unreachable']);
    const recovered = evaluate({ ...base, snapshot: snap(T0 + 600, status('a', 'RUNNING', [])), lastError: { at: T0 + 500, message: 'old' } }, strict);
    assert.equal(recovered.healthy, true);
    const stale = evaluate({ ...base, now: T0 + 60_001, snapshot: snap(T0, status('a', 'RUNNING', [])) }, strict);
    assert.match(stale.reasons[0]!.message, /stale after 60s/);
  });

  it('measures the grace period from when the state was first seen', () => {
    const first = snap(T0, status('a', 'RUNNING', ['UNASSIGNED']));
    let since = trackStates(new Map(), first.statuses.values(), T0);
    since = trackStates(since, first.statuses.values(), T0 + 20_000);
    assert.equal(evaluate({ ...base, since, now: T0 + 25_000, snapshot: { ...first, at: T0 + 20_000 } }, strict).healthy, true);
    const late = evaluate({ ...base, since, now: T0 + 31_000, snapshot: { ...first, at: T0 + 30_000 } }, strict);
    assert.equal(late.healthy, false);
    assert.match(late.reasons[0]!.message, /task 0 has been UNASSIGNED for 31s/);
  });

  it('is healthy exactly when everything is RUNNING (no grace, nothing allowed)', () => {
    const opts: RuleOptions = { allowPaused: false, graceMs: 0 };
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.record({ c: fc.constantFrom(...CONNECTOR_STATES), t: fc.array(fc.constantFrom(...TASK_STATES), { maxLength: 4 }) })),
        (conns) => {
          const statuses = Object.entries(conns).map(([name, v]) => status(name, v.c, v.t));
          const s = snap(T0, ...statuses);
          const r = evaluate({ ...base, since: trackStates(new Map(), statuses, T0), snapshot: s }, opts);
          const allRunning = statuses.every((x) => x.connector.state === 'RUNNING' && x.tasks.every((t) => t.state === 'RUNNING'));
          assert.equal(r.healthy, allRunning);
          const failing = statuses.reduce((n, x) => n + (x.connector.state === 'RUNNING' ? 0 : 1) + x.tasks.filter((t) => t.state !== 'RUNNING').length, 0);
          assert.equal(r.reasons.length, failing);
        },
      ),
    );
  });
});

describe('trackStates', () => {
  it('keeps the time of an unchanged state and restarts it on a change', () => {
    const a = trackStates(new Map(), [status('a', 'RUNNING', ['RUNNING'])], 1);
    const b = trackStates(a, [status('a', 'RUNNING', ['FAILED'])], 2);
    assert.deepEqual(b.get('a'), { state: 'RUNNING', since: 1 });
    assert.deepEqual(b.get('a/0'), { state: 'FAILED', since: 2 });
    assert.equal(trackStates(b, [], 3).size, 0);
  });
});

describe('secrets in traces', () => {
  it('masks URL passwords and password-like settings', () => {
    assert.equal(redactSecrets('cannot connect to jdbc:postgresql://app:s3cret@db:5432/x'), 'cannot connect to jdbc:postgresql://app:[REDACTED]@db:5432/x');
    assert.equal(redactSecrets('bad config connection.password=hunter2, user=app'), 'bad config connection.password=[REDACTED], user=app');
    assert.equal(firstLine('java.lang.Exception: token: abc123\n\tat x'), 'java.lang.Exception: token: [REDACTED]');
    assert.equal(firstLine(undefined), '');
  });
});
