/**
 * TLS and SASL against a real secured broker (scripts/kafka/secure.mjs: SASL_SSL, SSL,
 * SASL_PLAINTEXT and mutual-TLS listeners, a throw-away CA, user alice on PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512). First independent clients prove the broker (kcat, and the
 * Java console producer where this machine's librdkafka is too old for SCRAM against Kafka 4),
 * then Herald's mapping drives @platformatic/kafka through every mechanism, and the failures
 * (wrong password, untrusted CA, missing client certificate) come back fast, say what is wrong,
 * and never show the password.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
// @ts-expect-error plain ESM script without types
import { startSecuredBroker } from '../../scripts/kafka/secure.mjs';
// @ts-expect-error plain ESM script without types
import { LIBS, HERE as KAFKA_SCRIPTS } from '../../scripts/kafka/lib.mjs';
import { isHeraldError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { sinkFor } from '../helpers/sinks.js';
import { waitFor, waitForValue } from '../helpers/wait.js';
import { kafkaSecurityFromEnv, kafkaSecurityFromProperties, type KafkaSecurity } from '../../src/transports/kafka/security/settings.js';
import { toClientOptions } from '../../src/transports/kafka/security/client.js';
import { classifyKafkaSecurityError } from '../../src/transports/kafka/security/errors.js';
import { CLI as CLI_PATH, runCli, uniqueName, type CliResult } from '../helpers/env.js';

interface SecuredBroker {
  bootstrap: { saslSsl: string; ssl: string; saslPlaintext: string; mtls: string; plaintext: string };
  caFile: string;
  untrustedCaFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  users: { username: string; password: string; mechanisms: string[] };
  logFile: string;
  stop(): Promise<void>;
}

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
const HANG_GUARD_MS = 30_000;

let dir: string;
let broker: SecuredBroker;
let password: string;
/** Everything the tests print or could print: searched for the password at the end. */
const captured: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-kafka-secure-'));
  broker = (await startSecuredBroker({ dir: join(dir, 'kafka') })) as SecuredBroker;
  password = broker.users.password;
}, { timeout: 180_000 });

after(async () => {
  // Stop the broker even when a test failed; then check no output ever held the password.
  try {
    await broker?.stop();
    if (broker !== undefined) {
      captured.push(readFileSync(broker.logFile, 'utf8'));
      const leaks = captured.filter((text) => text.includes(password));
      // The failure message masks the password: a failing check must not print it either.
      assert.equal(leaks.length, 0, `the password appears in ${leaks.length} captured output(s): ${leaks.map((l) => l.split(password).join('***').slice(0, 300)).join(' | ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs a command with a hang guard; returns its exit code and output (stdout, stderr captured). */
function run(cmd: string, args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS * 2);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      captured.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A kcat config file (the password stays out of argv, where `ps` would show it). */
function kcatConfig(name: string, props: Record<string, string>): string {
  const file = join(dir, `${name}.kcat.conf`);
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  return file;
}

async function kcatRoundTrip(bootstrap: string, conf: string, what: string): Promise<void> {
  const topic = uniqueName('secure-kcat');
  const value = `hello over ${what}`;
  const p = await run('kcat', ['-F', conf, '-b', bootstrap, '-P', '-t', topic], `${value}\n`);
  assert.equal(p.code, 0, `kcat produce over ${what} failed: ${p.stderr}`);
  const c = await run('kcat', ['-F', conf, '-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e']);
  assert.equal(c.code, 0, `kcat consume over ${what} failed: ${c.stderr}`);
  assert.equal(c.stdout.trim(), value);
}

/** librdkafka before 2.6.1 computes SCRAM proofs Kafka 4 rejects (confluentinc/librdkafka#4895). */
function kcatScramWorks(): boolean {
  const v = /librdkafka (\d+)\.(\d+)\.(\d+)/.exec(spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? '');
  if (v === null) return false;
  const [maj, min, pat] = [Number(v[1]), Number(v[2]), Number(v[3])];
  return maj > 2 || (maj === 2 && (min > 6 || (min === 6 && pat >= 1)));
}

describe('the secured broker, proven with independent clients', () => {
  const sasl = (mechanism: string) => ({
    'security.protocol': 'SASL_SSL', 'sasl.mechanisms': mechanism, 'sasl.username': broker.users.username,
    'sasl.password': password, 'ssl.ca.location': broker.caFile,
  });

  it('kcat: SASL_SSL with PLAIN, TLS only, mutual TLS and SASL_PLAINTEXT', { timeout: 120_000 }, async () => {
    await kcatRoundTrip(broker.bootstrap.saslSsl, kcatConfig('plain', sasl('PLAIN')), 'SASL_SSL/PLAIN');
    await kcatRoundTrip(broker.bootstrap.ssl, kcatConfig('ssl', { 'security.protocol': 'SSL', 'ssl.ca.location': broker.caFile }), 'SSL');
    await kcatRoundTrip(broker.bootstrap.mtls, kcatConfig('mtls', {
      'security.protocol': 'SSL', 'ssl.ca.location': broker.caFile,
      'ssl.certificate.location': broker.clientCertFile, 'ssl.key.location': broker.clientKeyFile,
    }), 'mutual TLS');
    await kcatRoundTrip(broker.bootstrap.saslPlaintext, kcatConfig('sp', {
      'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': broker.users.username, 'sasl.password': password,
    }), 'SASL_PLAINTEXT/PLAIN');
  });

  it('kcat: the broker refuses a wrong password, an untrusted CA and a missing client certificate', { timeout: 120_000 }, async () => {
    const wrong = await run('kcat', ['-F', kcatConfig('wrong', { ...sasl('PLAIN'), 'sasl.password': 'not-the-password' }), '-b', broker.bootstrap.saslSsl, '-L', '-m', '5']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Authentication failed/i);
    const untrusted = await run('kcat', ['-F', kcatConfig('untrusted', { 'security.protocol': 'SSL', 'ssl.ca.location': broker.untrustedCaFile }), '-b', broker.bootstrap.ssl, '-L', '-m', '5']);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate verify failed/);
    const noCert = await run('kcat', ['-F', kcatConfig('nocert', { 'security.protocol': 'SSL', 'ssl.ca.location': broker.caFile }), '-b', broker.bootstrap.mtls, '-L', '-m', '5']);
    assert.notEqual(noCert.code, 0);
  });

  it('SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_SSL (kcat if its librdkafka can, else the Java console producer)', { timeout: 180_000 }, async () => {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      if (kcatScramWorks()) {
        await kcatRoundTrip(broker.bootstrap.saslSsl, kcatConfig(mechanism, sasl(mechanism)), `SASL_SSL/${mechanism}`);
        continue;
      }
      const topic = uniqueName('secure-java');
      const config = join(dir, `${mechanism}.properties`);
      writeFileSync(config, [
        'security.protocol=SASL_SSL', `sasl.mechanism=${mechanism}`,
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${broker.users.username}" password="${password}";`,
        'ssl.truststore.type=PEM', `ssl.truststore.location=${broker.caFile}`,
      ].join('\n') + '\n', { mode: 0o600 });
      const p = await run('java', [`-Dlog4j2.configurationFile=${join(KAFKA_SCRIPTS, 'log4j2.properties')}`, '-cp', `${LIBS}/*`,
        'org.apache.kafka.tools.ConsoleProducer', '--bootstrap-server', broker.bootstrap.saslSsl, '--topic', topic,
        '--producer.config', config], `via ${mechanism}\n`);
      assert.equal(p.code, 0, `Java console producer over ${mechanism} failed: ${p.stdout}${p.stderr}`);
      // Read it back over the PLAINTEXT listener with kcat: it arrived.
      const c = await run('kcat', ['-b', broker.bootstrap.plaintext, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e']);
      assert.equal(c.stdout.trim(), `via ${mechanism}`, c.stderr);
    }
  });
});

/** Publishes one record and reads it back with @platformatic/kafka, both through `security`. */
async function nodeRoundTrip(bootstrap: string, security: KafkaSecurity, what: string): Promise<void> {
  const options = toClientOptions(security);
  captured.push(JSON.stringify(options), inspect(options, { depth: 5 }));
  const base = { clientId: 'herald-secure-test', bootstrapBrokers: [bootstrap], connectTimeout: 5000, requestTimeout: 10_000, retries: 3, retryDelay: 250, ...options };
  const topic = uniqueName('secure-node');
  const admin = new Admin(base);
  const producer = new Producer({ ...base, serializers: stringSerializers });
  const consumer = new Consumer({ ...base, groupId: uniqueName('g'), deserializers: stringDeserializers, maxWaitTime: 200 });
  try {
    await guard(admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }), `creating a topic over ${what}`);
    await guard(producer.send({ messages: [{ topic, key: 'k', value: `node over ${what}` }] }), `producing over ${what}`);
    const stream = await guard(consumer.consume({ topics: [topic], mode: 'earliest' }), `consuming over ${what}`);
    const got = await guard((async () => {
      for await (const m of stream) return m.value;
      return undefined;
    })(), `reading over ${what}`);
    assert.equal(got, `node over ${what}`);
    await stream.close();
  } finally {
    await Promise.allSettled([admin.close(), producer.close(), consumer.close(true)]);
  }
}

/** Hang guard: a generous bound so a regression fails instead of hanging the suite. */
async function guard<T>(op: Promise<T>, what: string, ms = HANG_GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([op, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`hang guard: ${what} did not finish in ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Expects the metadata call to fail; returns the classified error and records all its text. */
async function expectFailure(bootstrap: string, security: KafkaSecurity): Promise<Error> {
  const admin = new Admin({ clientId: 'herald-secure-test', bootstrapBrokers: [bootstrap], connectTimeout: 5000, requestTimeout: 10_000, retries: 3, retryDelay: 250, ...toClientOptions(security) });
  try {
    await guard(admin.listTopics(), 'a call that must fail');
  } catch (err) {
    assert.doesNotMatch(String((err as Error).message), /hang guard/, 'failed by hanging instead of an error');
    captured.push(inspect(err, { depth: 20 }), String(err));
    const herald = classifyKafkaSecurityError(err, security, [bootstrap]);
    if (herald !== undefined) captured.push(herald.message, JSON.stringify(herald.toJSON()), inspect(herald, { depth: 20 }));
    return herald ?? (err as Error);
  } finally {
    await admin.close().catch(() => undefined);
  }
  return assert.fail('the call succeeded');
}

describe('Herald mapping -> @platformatic/kafka against the secured broker', () => {
  const saslProps = (mechanism: string, pw: string): Record<string, string> => ({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': mechanism,
    'sasl.jaas.config': `org.apache.kafka.common.security.${mechanism === 'PLAIN' ? 'plain.PlainLoginModule' : 'scram.ScramLoginModule'} required username="${broker.users.username}" password="${pw}";`,
    'ssl.truststore.location': broker.caFile,
  });

  for (const mechanism of MECHANISMS) {
    it(`SASL_SSL with ${mechanism} (sasl.jaas.config): publishes and consumes`, { timeout: 90_000 }, async () => {
      await nodeRoundTrip(broker.bootstrap.saslSsl, kafkaSecurityFromProperties(saslProps(mechanism, password), 'client.properties'), `SASL_SSL/${mechanism}`);
    });
  }

  it('SCRAM-SHA-512 from HERALD_KAFKA_* variables, and SASL_PLAINTEXT with SCRAM-SHA-256', { timeout: 90_000 }, async () => {
    const env = kafkaSecurityFromEnv({
      HERALD_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', HERALD_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      HERALD_KAFKA_SASL_USERNAME: broker.users.username, HERALD_KAFKA_SASL_PASSWORD: password, HERALD_KAFKA_CA_FILE: broker.caFile,
    });
    assert.ok(env !== undefined);
    await nodeRoundTrip(broker.bootstrap.saslSsl, env, 'env SASL_SSL/SCRAM-SHA-512');
    await nodeRoundTrip(broker.bootstrap.saslPlaintext, kafkaSecurityFromProperties({
      'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': broker.users.username, 'sasl.password': password,
    }, 'client.properties'), 'SASL_PLAINTEXT/SCRAM-SHA-256');
  });

  it('TLS only, and mutual TLS with a client certificate', { timeout: 90_000 }, async () => {
    await nodeRoundTrip(broker.bootstrap.ssl, kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.location': broker.caFile }, 'client.properties'), 'SSL');
    await nodeRoundTrip(broker.bootstrap.mtls, kafkaSecurityFromProperties({
      'security.protocol': 'SSL', 'ssl.ca.location': broker.caFile,
      'ssl.certificate.location': broker.clientCertFile, 'ssl.key.location': broker.clientKeyFile,
    }, 'client.properties'), 'mutual TLS');
  });

  for (const mechanism of MECHANISMS) {
    it(`a wrong password with ${mechanism} fails fast with an authentication error naming the mechanism`, { timeout: 60_000 }, async () => {
      const wrong = `wrong-${password.slice(0, 4)}-pw`;
      const sec = kafkaSecurityFromProperties(saslProps(mechanism, wrong), 'client.properties');
      const err = await expectFailure(broker.bootstrap.saslSsl, sec);
      assert.ok(isHeraldError(err), `unclassified: ${err.message}`);
      assert.equal(err.code, 'BROKER_AUTH');
      assert.equal(err.message, `authentication failed (${mechanism}) for user alice at ${broker.bootstrap.saslSsl}: check the username and password (given by sasl.jaas.config in client.properties)`);
      captured.push(err.message);
      assert.ok(!inspect(err, { depth: 20 }).includes(wrong), 'the wrong password shows up in the error');
    });
  }

  it('an untrusted CA fails fast with a TLS error saying so', { timeout: 60_000 }, async () => {
    const sec = kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.location': broker.untrustedCaFile }, 'client.properties');
    const err = await expectFailure(broker.bootstrap.ssl, sec);
    assert.ok(isHeraldError(err), `unclassified: ${err.message}`);
    assert.equal(err.code, 'BROKER_AUTH');
    assert.match(err.message, /^TLS: the broker's certificate is not trusted \(self-signed certificate in chain\) at 127\.0\.0\.1:\d+; check that .*untrusted-ca\.pem \(ssl\.truststore\.location in client\.properties\) is the CA that signed the broker certificate$/);
    // The same over SASL_SSL: TLS fails before any password is sent.
    const withSasl = await expectFailure(broker.bootstrap.saslSsl, kafkaSecurityFromProperties({ ...saslProps('SCRAM-SHA-512', password), 'ssl.truststore.location': broker.untrustedCaFile }, 'client.properties'));
    assert.ok(isHeraldError(withSasl) && withSasl.code === 'BROKER_AUTH', withSasl.message);
    assert.match(withSasl.message, /not trusted/);
  });

  it('a TLS-only client at a listener that requires a client certificate gets a hint, not a hang', { timeout: 60_000 }, async () => {
    const err = await expectFailure(broker.bootstrap.mtls, kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.location': broker.caFile }, 'client.properties'));
    assert.ok(isHeraldError(err), `unclassified: ${err.message}`);
    assert.match(err.message, /client certificate/);
  });

  it('SASL at a TLS-only listener says the mechanism is not accepted', { timeout: 60_000 }, async () => {
    const err = await expectFailure(broker.bootstrap.ssl, kafkaSecurityFromProperties(saslProps('PLAIN', password), 'client.properties'));
    assert.ok(isHeraldError(err), `unclassified: ${err.message}`);
    assert.equal(err.code, 'BROKER_AUTH');
    assert.match(err.message, /^SASL: the broker does not accept PLAIN at /);
  });
});

describe('the herald CLI against the secured broker (properties file and HERALD_KAFKA_* variables)', () => {
  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const r = await runCli(args, { env, timeoutMs: HANG_GUARD_MS * 2 });
    captured.push(r.stdout, r.stderr);
    return r;
  };
  const scramEnv = (mechanism: string, pw: string, ca = broker.caFile): NodeJS.ProcessEnv => ({
    HERALD_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', HERALD_KAFKA_SASL_MECHANISM: mechanism,
    HERALD_KAFKA_SASL_USERNAME: broker.users.username, HERALD_KAFKA_SASL_PASSWORD: pw, HERALD_KAFKA_CA_FILE: ca,
  });

  it('emit with --producer-properties (SCRAM-SHA-512 JAAS line), view and topics with variables (SCRAM-SHA-256)', { timeout: 120_000 }, async () => {
    const topic = uniqueName('secure-cli');
    const props = join(dir, 'cli.properties');
    writeFileSync(props, [
      'security.protocol=SASL_SSL', 'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${broker.users.username}" password="${password}";`,
      `ssl.truststore.location=${broker.caFile}`,
    ].join('\n') + '\n', { mode: 0o600 });
    const emit = await cli(['emit', '--brokers', broker.bootstrap.saslSsl, '--producer-properties', props, '--topic', topic,
      '--type', 'demo.secured', '--source', 'kafka-secure-test', '--data', '{"ok":true}']);
    assert.equal(emit.code, 0, emit.stderr);
    const view = await cli(['view', '--brokers', broker.bootstrap.saslSsl, '--topic', topic, '--from-beginning', '--max', '1', '--format', 'json', '--timeout', '20s'], scramEnv('SCRAM-SHA-256', password));
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /demo\.secured/);
    const topics = await cli(['topics', '--brokers', broker.bootstrap.saslSsl, '--format', 'json'], scramEnv('SCRAM-SHA-256', password));
    assert.equal(topics.code, 0, topics.stderr);
    assert.ok(topics.stdout.includes(topic), topics.stdout);
  });

  it('a wrong password and an untrusted CA: exit 1 with a message that says so, fast, without the secret', { timeout: 120_000 }, async () => {
    const wrong = `${password.slice(0, 6)}-but-wrong`;
    const bad = await cli(['topics', '--brokers', broker.bootstrap.saslSsl, '--timeout', '20s'], scramEnv('SCRAM-SHA-512', wrong));
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /authentication failed \(SCRAM-SHA-512\) for user alice/);
    assert.ok(!bad.stderr.includes(wrong) && !bad.stdout.includes(wrong), 'the wrong password is printed');
    const untrusted = await cli(['emit', '--brokers', broker.bootstrap.saslSsl, '--topic', uniqueName('secure-cli'), '--type', 'demo.x', '--source', 't', '--timeout', '20s'],
      scramEnv('SCRAM-SHA-512', password, broker.untrustedCaFile));
    assert.equal(untrusted.code, 1, untrusted.stderr);
    assert.match(untrusted.stderr, /TLS: the broker's certificate is not trusted/);
    const badConfig = await cli(['topics', '--brokers', broker.bootstrap.saslSsl], { ...scramEnv('SCRAM-SHA-1', password) });
    assert.equal(badConfig.code, 2, badConfig.stderr);
    assert.match(badConfig.stderr, /HERALD_KAFKA_SASL_MECHANISM: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
  });
});

describe('the Kafka sink (what serve and the outbox relay use) over SASL_SSL', () => {
  /** A pino logger whose lines land in `captured` (and so are searched for the password). */
  const capturingLogger = () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); captured.push(chunk.toString()); cb(); } });
    return { logger: createLogger({ level: 'debug', destination: stream }), lines };
  };

  it('publishes with producerProperties (SCRAM-SHA-256); kcat reads the record back', { timeout: 90_000 }, async () => {
    const topic = uniqueName('secure-sink');
    const props = join(dir, 'sink.properties');
    writeFileSync(props, [
      'security.protocol=SASL_SSL', 'sasl.mechanism=SCRAM-SHA-256', `sasl.username=${broker.users.username}`, `sasl.password=${password}`,
      `ssl.ca.location=${broker.caFile}`,
    ].join('\n') + '\n', { mode: 0o600 });
    const { logger } = capturingLogger();
    const sink = await sinkFor({ name: 'secure', type: 'kafka', brokers: [broker.bootstrap.saslSsl], producerProperties: props }, { logger, env: {} });
    try {
      const outcomes = await guard(sink.publish([{ eventId: 'e-1', topic, key: 'k', value: Buffer.from('sink over SCRAM-SHA-256') }]), 'sink publish');
      assert.deepEqual(outcomes, [{ ok: true }]);
    } finally {
      await sink.close();
    }
    const c = await run('kcat', ['-b', broker.bootstrap.plaintext, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e']);
    assert.equal(c.stdout.trim(), 'sink over SCRAM-SHA-256', c.stderr);
  });

  it('herald serve with a secured sink (SCRAM-SHA-512 over TLS) delivers through the outbox; its logs hold no secret', { timeout: 120_000 }, async () => {
    const topic = uniqueName('secure-serve');
    const props = join(dir, 'serve.properties');
    writeFileSync(props, [
      'security.protocol=SASL_SSL', 'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${broker.users.username}" password="${password}";`,
      `ssl.truststore.location=${broker.caFile}`,
    ].join('\n') + '\n', { mode: 0o600 });
    const config = join(dir, 'serve.yaml');
    writeFileSync(config, [
      `store: { url: "sqlite:${join(dir, 'serve.db')}" }`,
      'sinks:',
      `  - { name: secure, type: kafka, brokers: ["${broker.bootstrap.saslSsl}"], topic: ${topic}, producerProperties: "${props}" }`,
    ].join('\n') + '\n');
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((res) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const a = srv.address() as { port: number }; srv.close(() => res(a.port)); }); });
    const child = spawn(process.execPath, [CLI_PATH, 'serve', '--config', config, '--port', String(port), '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('herald serve to answer /healthz', () => fetch(`${base}/healthz`).then((r) => r.ok, () => false /* starting */), HANG_GUARD_MS, 200);
      const events = Array.from({ length: 25 }, (_, i) => ({ source: 'secure-test', type: 'com.example.secured', entity: { kind: 'host', id: `h${i % 3}` }, data: { i } }));
      const res = await fetch(`${base}/v2/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      assert.equal(res.status, 202);
      const { ids } = (await res.json()) as { ids: string[] };
      const status = await waitForValue('delivery through the outbox', async () => {
        const [s] = (await (await fetch(`${base}/v2/sinks`)).json()) as Array<{ delivered: number; pending: number; connected: boolean }>;
        return s && s.delivered >= 25 && s.pending === 0 ? s : undefined;
      }, 60_000, 250);
      assert.equal(status.connected, true);
      const c = await run('kcat', ['-b', broker.bootstrap.plaintext, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%h\n']);
      const got = c.stdout.split('\n').filter(Boolean).map((h) => /(?:^|,)ce_id=([^,]*)/.exec(h)?.[1]);
      assert.deepEqual(new Set(got), new Set(ids));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
      captured.push(logs);
    }
    assert.ok(!logs.includes(password), 'herald serve logged the password');
  });

  it('a wrong password: connect rejects with BROKER_AUTH naming mechanism and user, and nothing logs the password', { timeout: 60_000 }, async () => {
    const wrong = `${password.slice(0, 6)}-sink-wrong`;
    const { logger, lines } = capturingLogger();
    const sink = await sinkFor({ name: 'secure-bad', type: 'kafka', brokers: [broker.bootstrap.saslSsl], timeoutMs: 20_000 }, {
      logger,
      env: { HERALD_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', HERALD_KAFKA_SASL_USERNAME: 'alice', HERALD_KAFKA_SASL_PASSWORD: wrong, HERALD_KAFKA_CA_FILE: broker.caFile },
    });
    try {
      const err = await guard(sink.connect().then(() => undefined, (e: unknown) => e), 'sink connect');
      assert.ok(isHeraldError(err), String(err));
      assert.equal(err.code, 'BROKER_AUTH');
      assert.match(err.message, /^authentication failed \(SCRAM-SHA-512\) for user alice at 127\.0\.0\.1:\d+: check the username and password \(given by HERALD_KAFKA_SASL_USERNAME and HERALD_KAFKA_SASL_PASSWORD\)$/);
      captured.push(inspect(err, { depth: 20 }));
      assert.ok(!inspect(err, { depth: 20 }).includes(wrong));
      assert.ok(!lines.join('').includes(wrong));
    } finally {
      await sink.close();
    }
  });
});
