/**
 * `herald emit`, `herald view` and `herald topics` as a user runs them (the built CLI), against
 * the real broker, with kcat as an independent client.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { runKcat } from '../helpers/kcat.js';
import { waitFor } from '../helpers/wait.js';

/** Reads the first `count` records of a topic with kcat: key, headers, value (and value length). */
async function kcat(topic: string, count = 1): Promise<string> {
  const r = await runKcat(['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-f', 'KEY=%k\nHEADERS=%h\nVALUE=%s\nLEN=%S\n--\n']);
  if (r.code !== 0) throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** kcat's `%h` is `name=value,name=value`; our header values hold no commas here. */
function headersOf(record: string): Record<string, string> {
  const line = /^HEADERS=(.*)$/m.exec(record)?.[1] ?? '';
  return Object.fromEntries(line.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}
const field = (record: string, name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(record)?.[1];

describe('herald emit + kcat', () => {
  it('binary mode: value is the data, attributes are ce_ headers, key is the partition key', async () => {
    const topic = uniqueName('cli-binary');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', 'com.example.cluster.ready', '--source', 'https://example.com/x',
      '--subject', 'c1-subject', '--entity', 'cluster:c1', '--severity', 'warning', '--data', '{"nodes":3}', '--time', '2024-05-01T12:00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    const [id, ...where] = r.stdout.trim().split(' ');
    assert.match(id!, /^[0-9a-f-]{36}$/);
    assert.ok(where.includes(`topic=${topic}`), r.stdout);
    assert.ok(where.includes('partition=0') && where.includes('offset=0'), r.stdout);

    const rec = await kcat(topic);
    assert.equal(field(rec, 'KEY'), 'cluster:c1');
    assert.equal(field(rec, 'VALUE'), '{"nodes":3}');
    assert.deepEqual(headersOf(rec), {
      'content-type': 'application/json',
      ce_id: id,
      ce_source: 'https://example.com/x',
      ce_specversion: '1.0',
      ce_type: 'com.example.cluster.ready',
      ce_time: '2024-05-01T12:00:00.000Z',
      ce_subject: 'c1-subject',
      ce_severity: 'warning',
      ce_entitykind: 'cluster',
      ce_entityid: 'c1',
    });
  });

  it('binary mode without data: a null value (kcat length -1)', async () => {
    const topic = uniqueName('cli-nodata');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', 't.x', '--key', 'my-key']);
    assert.equal(r.code, 0, r.stderr);
    const rec = await kcat(topic);
    assert.equal(field(rec, 'LEN'), '-1');
    assert.equal(field(rec, 'KEY'), 'my-key');
    assert.equal(headersOf(rec)['content-type'], undefined);
    assert.equal(headersOf(rec).ce_partitionkey, 'my-key');
  });

  it('structured mode: value is the JSON event with the structured content type', async () => {
    const topic = uniqueName('cli-structured');
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--mode', 'structured', '--type', 'com.example.x', '--source', 's1',
      '--entity', 'host:h9', '--data', '{"a":[1,2]}', '--id', 'my-id-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^my-id-1 /);
    const rec = await kcat(topic);
    assert.equal(field(rec, 'KEY'), 'host:h9');
    assert.deepEqual(headersOf(rec), { 'content-type': 'application/cloudevents+json; charset=UTF-8' });
    const doc = JSON.parse(field(rec, 'VALUE')!);
    assert.equal(doc.specversion, '1.0');
    assert.equal(doc.id, 'my-id-1');
    assert.equal(doc.type, 'com.example.x');
    assert.equal(doc.source, 's1');
    assert.equal(doc.entitykind, 'host');
    assert.equal(doc.entityid, 'h9');
    assert.equal(doc.datacontenttype, 'application/json');
    assert.deepEqual(doc.data, { a: [1, 2] });
  });
});

describe('herald emit --producer-properties', () => {
  it('takes brokers, topic and compression from a Java-style file; unknown keys only warn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-props-'));
    try {
      const topic = uniqueName('cli-props');
      const file = join(dir, 'kafka.producer.properties');
      writeFileSync(file, `# CloudStack-style\nbootstrap.servers=${kafkaBrokers()}\nacks=all\ncompression.type=gzip\ntopic=${topic}\nmax.block.ms=1000\n`);
      const r = await runCli(['emit', '--producer-properties', file, '--type', 'com.example.props', '--data', '{"p":1}']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`topic=${topic}`));
      assert.match(r.stderr, /unknown key max\.block\.ms/);
      const rec = await kcat(topic);
      assert.equal(field(rec, 'VALUE'), '{"p":1}');
      assert.equal(headersOf(rec).ce_type, 'com.example.props');

      writeFileSync(file, `bootstrap.servers=${kafkaBrokers()}\nacks=maybe\n`);
      const bad = await runCli(['emit', '--producer-properties', file, '--type', 't']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /acks/);
      assert.ok(bad.stderr.includes(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('herald emit --config', () => {
  it('publishes to a sink of the file: its topic, profile and mode, as herald serve would; flags override; --sink picks one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-emit-config-'));
    try {
      const [first, second, flagTopic] = [uniqueName('cli-cfg-a'), uniqueName('cli-cfg-b'), uniqueName('cli-cfg-flag')];
      const file = join(dir, 'herald.yaml');
      writeFileSync(file, [
        'sinks:',
        `  - { name: structured, type: kafka, brokers: ["${kafkaBrokers()}"], topic: ${first}, mode: structured, filter: { types: [com.example.other] } }`,
        `  - { name: plain, type: kafka, brokers: ["${kafkaBrokers()}"], topic: ${second} }`,
        '',
      ].join('\n'));
      // No transport flag: the first sink, with its topic and structured mode; its filter is not applied.
      const a = await runCli(['emit', '--config', file, '--type', 'com.example.cfg', '--data', '{"n":1}']);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stdout, new RegExp(`topic=${first} `));
      const recA = await kcat(first);
      assert.equal(headersOf(recA)['content-type'], 'application/cloudevents+json; charset=UTF-8');
      assert.equal(JSON.parse(field(recA, 'VALUE')!).type, 'com.example.cfg');
      // --sink picks another; binary mode there.
      const b = await runCli(['emit', '--config', file, '--sink', 'plain', '--type', 'com.example.cfg', '--data', '{"n":2}']);
      assert.equal(b.code, 0, b.stderr);
      const recB = await kcat(second);
      assert.equal(field(recB, 'VALUE'), '{"n":2}');
      assert.equal(headersOf(recB).ce_type, 'com.example.cfg');
      // --topic and --mode override the sink's.
      const c = await runCli(['emit', '--config', file, '--topic', flagTopic, '--mode', 'binary', '--type', 'com.example.cfg', '--data', '{"n":3}']);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(field(await kcat(flagTopic), 'VALUE'), '{"n":3}');
      // Errors name the flag.
      const unknown = await runCli(['emit', '--config', file, '--sink', 'nope', '--type', 't']);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /--sink "nope" is not a configured sink; configured: structured, plain/);
      const both = await runCli(['emit', '--config', file, '--sink', 'plain', '--brokers', kafkaBrokers(), '--type', 't']);
      assert.equal(both.code, 2, both.stderr);
      assert.match(both.stderr, /--sink .* conflicts with --brokers/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('herald emit --server', () => {
  it('posts the event to a running herald serve and prints the accepted id', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-emit-server-'));
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const serve = spawn(process.execPath, [CLI, 'serve'], {
      cwd: dir,
      env: { ...process.env, HERALD_DB: `sqlite:${join(dir, 'h.db')}`, HERALD_PORT: String(port), HERALD_STREAMING: 'false' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let serveErr = '';
    serve.stderr.on('data', (d: Buffer) => (serveErr += d.toString()));
    t.after(async () => {
      if (serve.exitCode === null) {
        const gone = new Promise((r) => serve.once('exit', r));
        serve.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    const base = `http://127.0.0.1:${port}`;
    let up = false;
    await waitFor('herald serve to answer /healthz (or exit)', async () => {
      if (serve.exitCode !== null) return true;
      up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      return up;
    }, 20_000, 200).catch(() => undefined); // a timeout leaves `up` false: the assertion names serve's stderr
    assert.ok(up, `herald serve did not start: ${serveErr}`);

    const r = await runCli(['emit', '--server', base, '--type', 'com.example.via.server', '--entity', 'cluster:c7', '--data', '{"s":1}']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const stored = (await (await fetch(`${base}/v2/events/${id}`)).json()) as { id: string; type: string; entity: unknown; data: unknown };
    assert.equal(stored.id, id);
    assert.equal(stored.type, 'com.example.via.server');
    assert.deepEqual(stored.entity, { kind: 'cluster', id: 'c7' });
    assert.deepEqual(stored.data, { s: 1 });

    const down = await runCli(['emit', '--server', 'http://127.0.0.1:1', '--type', 't', '--timeout', '3s']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach herald serve at http:\/\/127\.0\.0\.1:1/);
  });
});

describe('herald view', () => {
  it('--max 1 --format json prints back the same id, type, source and data', async () => {
    const topic = uniqueName('cli-view');
    const e = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', 'com.example.view', '--source', 'view-test', '--data', '{"k":"v"}']);
    assert.equal(e.code, 0, e.stderr);
    const id = e.stdout.split(' ')[0];
    const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--max', '1', '--format', 'json', '--timeout', '30s']);
    assert.equal(v.code, 0, v.stderr);
    const lines = v.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    // --format json: where the message was read, then the decoded event.
    const line = JSON.parse(lines[0]!);
    assert.equal(line.topic, topic);
    assert.equal(line.partition, 0);
    assert.equal(typeof line.offset, 'number');
    const event = line.event;
    assert.equal(event.id, id);
    assert.equal(event.type, 'com.example.view');
    assert.equal(event.source, 'view-test');
    assert.deepEqual(event.data, { k: 'v' });
    assert.match(v.stderr, /1 message read, 1 shown, 0 undecodable/);
  });

  it('pretty output, filters, undecodable messages counted, exits 0 on --timeout idle', async () => {
    const topic = uniqueName('cli-view-mixed');
    for (const args of [
      ['--type', 'com.example.up', '--entity', 'host:h1', '--message', 'host is up', '--severity', 'info'],
      ['--type', 'com.example.down', '--subject', 'h2', '--severity', 'error', '--time', '2024-05-01T10:11:12Z'],
    ]) {
      const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn('kcat', ['-P', '-b', kafkaBrokers(), '-t', topic], { stdio: ['pipe', 'ignore', 'pipe'] });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`))));
      child.stdin.end('\u0001\u0002 not an event\n');
    });
    const v = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--timeout', '3s']);
    assert.equal(v.code, 0, v.stderr);
    const lines = v.stdout.trim().split('\n');
    assert.equal(lines.length, 2, v.stdout);
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d \[com\.example\.up\] host:h1: host is up$/);
    assert.match(lines[1]!, /^\d\d:\d\d:12 \[com\.example\.down\] h2$/);
    assert.match(v.stderr, /is not in any known format/);
    assert.match(v.stderr, /3 messages read, 2 shown, 1 undecodable/);

    const filtered = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--timeout', '3s', '--severity', 'error', '--format', 'json']);
    assert.equal(filtered.code, 0, filtered.stderr);
    const only = filtered.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(only.map((x) => x.event.type), ['com.example.down']);
  });
});

describe('herald topics', () => {
  it('lists a topic the test created with its settings', async () => {
    const topic = uniqueName('cli-topics');
    // emit creates the topic (the broker auto-creates it with its defaults).
    const e = await runCli(['emit', '--brokers', kafkaBrokers(), '--topic', topic, '--type', 't']);
    assert.equal(e.code, 0, e.stderr);
    const json = await runCli(['topics', '--brokers', kafkaBrokers(), '--pattern', `^${topic}$`, '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout);
    assert.equal(list.length, 1);
    assert.equal(list[0].name, topic);
    assert.equal(list[0].partitions, 1);
    assert.equal(list[0].replicationFactor, 1);
    assert.equal(list[0].cleanupPolicy, 'delete');
    assert.match(list[0].retentionMs, /^-?\d+$/);
    const table = await runCli(['topics', '--brokers', kafkaBrokers(), '--pattern', `^${topic}$`]);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.trim().split('\n');
    assert.match(header!, /^TOPIC\s+PARTITIONS\s+REPLICATION\s+MIN\.ISR\s+RETENTION\.MS\s+CLEANUP\.POLICY$/);
    assert.match(row!, new RegExp(`^${topic}\\s+1\\s+1\\s+\\d+\\s+-?\\d+\\s+delete$`));
  });
});

describe('CLI failures', () => {
  it('an unreachable broker fails with exit 1 and a clear message, within the timeout', async () => {
    const r = await runCli(['emit', '--brokers', '127.0.0.1:1', '--type', 't', '--timeout', '3s'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^herald emit: .*127\.0\.0\.1:1/m);
    assert.ok(r.ms < 30_000, 'finished (hang guard)');
    const t = await runCli(['topics', '--brokers', '127.0.0.1:1', '--timeout', '3s'], { timeoutMs: 30_000 });
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /127\.0\.0\.1:1/);
  });

  for (const [name, args, flag] of [
    ['unknown flag', ['emit', '--brokers', '127.0.0.1:1', '--type', 't', '--nope', 'x'], '--nope'],
    ['malformed --data', ['emit', '--brokers', '127.0.0.1:1', '--type', 't', '--data', '{"a":'], '--data'],
    ['bad --brokers', ['emit', '--brokers', 'just-a-host', '--type', 't'], '--brokers'],
    ['missing --type', ['emit', '--brokers', '127.0.0.1:1', '--source', 's'], '--type'],
    ['bad --entity', ['emit', '--brokers', '127.0.0.1:1', '--type', 't', '--entity', 'nocolon'], '--entity'],
    ['view without topic', ['view', '--brokers', '127.0.0.1:1'], '--topic'],
  ] as const) {
    it(`${name} → exit 2 naming ${flag}`, async () => {
      const r = await runCli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(flag), r.stderr);
      assert.equal(r.stdout, '');
    });
  }
});
