import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectHealthArgs } from '../../src/cli/connect-health.js';
import { parseConnectUrl } from '../../src/connect-health/client.js';
import { resolveOptions } from '../../src/connect-health/options.js';
import { UsageError, ConfigError } from '../../src/errors.js';

function usageError(argv: string[], flag: string, pattern?: RegExp): void {
  assert.throws(
    () => parseConnectHealthArgs(argv),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
      assert.equal(err.exitCode, 2);
      assert.ok(err.message.includes(flag), `"${err.message}" should name ${flag}`);
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('herald connect-health flags', () => {
  it('parses every flag', () => {
    const { options, logLevel } = parseConnectHealthArgs([
      '--connect-url', 'http://connect:8083', '--connector', 'a', '--connector', 'b', '--host', '0.0.0.0', '--port', '9000',
      '--interval', '2s', '--timeout', '500ms', '--grace', '1m', '--allow-paused', '--restart-failed',
      '--max-restarts', '3', '--restart-window', '30m', '--restart-backoff', '5s', '--log-level', 'debug',
    ]);
    assert.equal(logLevel, 'debug');
    const resolved = resolveOptions(options);
    assert.deepEqual(
      { ...resolved },
      {
        connectUrl: 'http://connect:8083', connectors: ['a', 'b'], host: '0.0.0.0', port: 9000, intervalMs: 2_000, timeoutMs: 500,
        graceMs: 60_000, allowPaused: true, restartFailed: true, maxRestarts: 3, restartWindowMs: 1_800_000, restartBackoffMs: 5_000,
        staleAfterMs: 6_500,
      },
    );
  });

  it('defaults to loopback, port 8081 and every connector', () => {
    const o = resolveOptions(parseConnectHealthArgs([]).options);
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 8081);
    assert.equal(o.connectors, undefined);
    assert.equal(o.connectUrl, 'http://127.0.0.1:8083');
    assert.equal(o.allowPaused, false);
  });

  it('rejects bad values naming the flag', () => {
    usageError(['--connect-url', 'not a url'], '--connect-url');
    usageError(['--connect-url', 'ftp://x'], '--connect-url');
    usageError(['--port', '70000'], '--port', /0 to 65535/);
    usageError(['--port', 'http'], '--port');
    usageError(['--interval', 'soon'], '--interval', /duration/);
    usageError(['--interval', '0s'], '--interval', /longer than 0/);
    usageError(['--timeout', '-1s'], '--timeout');
    usageError(['--grace', '5 minutes'], '--grace');
    usageError(['--max-restarts', '0'], '--max-restarts');
    usageError(['--log-level', 'loud'], '--log-level', /info/);
    usageError(['--connector', ''], '--connector');
    usageError(['--host', ''], '--host');
    usageError(['--worker-id', 'pod-1'], '--worker-id', /HOST:PORT/);
    usageError(['--bogus'], '--bogus', /unknown flag/);
    usageError(['--port'], '--port', /needs a value/);
  });

  it('never echoes a password from a bad --connect-url', () => {
    assert.throws(() => parseConnectHealthArgs(['--connect-url', 'htp:/user:hunter2@x']), (err: Error) => !err.message.includes('hunter2'));
  });
});

describe('connect-health options', () => {
  it('names every bad option', () => {
    assert.throws(
      () => resolveOptions({ connectUrl: 'x', port: -1, intervalMs: 0, maxRestarts: 0 }),
      (err: unknown) => err instanceof ConfigError && ['connectUrl', 'port', 'intervalMs', 'maxRestarts'].every((k) => err.message.includes(k)),
    );
  });

  it('turns URL credentials into a Basic auth header and masks them', () => {
    const p = parseConnectUrl('https://admin:p%40ss@connect.example:8083/prefix/');
    assert.equal(p.base, 'https://connect.example:8083/prefix');
    assert.equal(p.display, 'https://[REDACTED]@connect.example:8083/prefix');
    assert.equal(p.authorization, `Basic ${Buffer.from('admin:p@ss').toString('base64')}`);
    assert.equal(parseConnectUrl('http://c:8083').authorization, undefined);
  });
});
