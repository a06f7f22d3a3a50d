/**
 * Every command of README.md and docs/*.md runs as written (issue 22): scripts/check-docs.mjs
 * runs the shell blocks of every page in order, against the shared Kafka broker, PostgreSQL,
 * NATS and RabbitMQ, and starts the pages' own dev broker and Connect worker on free ports
 * (npm run kafka:up / connect:up). A checker that silently skipped everything would pass
 * nothing here: the run must report at least MIN_COMMANDS commands and name a reason for each
 * skip. Needs the built CLI (npm test builds it).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { amqpUrl, kafkaBrokers, natsUrl, pgUrl, ROOT } from '../helpers/env.js';

// What the pages run today (about 90 commands) minus some slack for edits; lower it only
// together with a page that really lost commands.
const MIN_COMMANDS = 75;
// The pages start three Kafka brokers and two Connect workers (JVMs) besides ~90 commands;
// on a busy two-core machine that is minutes.
const TIMEOUT_MS = 9 * 60_000;

function runChecker(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'check-docs.mjs')], {
      cwd: ROOT,
      env: { ...process.env, HERALD_TEST_KAFKA: kafkaBrokers(), HERALD_TEST_PG: pgUrl(), HERALD_TEST_NATS: natsUrl(), HERALD_TEST_AMQP: amqpUrl() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // SIGINT lets the checker stop the servers and brokers it started
    const timer = setTimeout(() => child.kill('SIGINT'), TIMEOUT_MS - 30_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('the commands of README.md and docs/', () => {
  it('all run as written, and enough of them ran', { timeout: TIMEOUT_MS }, async () => {
    const r = await runChecker();
    assert.equal(r.code, 0, `check-docs failed:\n${r.stderr}\n${r.stdout.split('\n').slice(-20).join('\n')}`);
    const summary = /docs-check: (\d+) commands ran \((\d+) in the background\), (\d+) skipped, 0 failed/.exec(r.stdout);
    assert.ok(summary, `no summary line in:\n${r.stdout}`);
    const [ran, background] = [Number(summary[1]), Number(summary[2])];
    assert.ok(ran >= MIN_COMMANDS, `only ${ran} commands ran (expected at least ${MIN_COMMANDS}):\n${r.stdout}`);
    // servers, consumers and streams the pages leave running were started and stopped too
    assert.ok(background >= 10, `only ${background} commands ran in the background:\n${r.stdout}`);
    // every page was read, and every skip says why
    for (const page of ['README.md', 'docs/api.md', 'docs/connect-health.md', 'docs/security.md', 'docs/webhooks.md']) {
      assert.match(r.stdout, new RegExp(`^${page.replace('.', '\\.')}: \\d+ commands`, 'm'), `${page} was not checked`);
    }
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('skip '))) {
      assert.match(line, /^skip \S+:\d+: .+ — \S/, `a skip without a reason: ${line}`);
    }
  });
});
