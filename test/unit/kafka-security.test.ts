import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ConfigError, HeraldError } from '../../src/errors.js';
import {
  describeKafkaSecurity,
  kafkaSecurityFromEnv,
  kafkaSecurityFromProperties,
  parseJaasConfig,
  resolveKafkaSecurity,
} from '../../src/transports/kafka/security/settings.js';
import { toClientOptions } from '../../src/transports/kafka/security/client.js';
import { classifyKafkaSecurityError } from '../../src/transports/kafka/security/errors.js';

const SECRET = 's3cr3t-Pa55"word\\x';
const jaasPlain = (u: string, p: string) =>
  `org.apache.kafka.common.security.plain.PlainLoginModule required username="${u}" password="${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}";`;
const jaasScram = (u: string, p: string) =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required\n  username="${u}"\n  password="${p}";`;

/** Runs fn, expects a ConfigError, and checks it never contains the secret. */
function configError(fn: () => unknown, secret = SECRET): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes(secret), `message leaks the secret: ${err.message}`);
    assert.ok(!JSON.stringify(err.toJSON()).includes(secret));
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('parseJaasConfig', () => {
  it('reads the login module, flag and quoted options, with escapes', () => {
    const j = parseJaasConfig(jaasPlain('alice', SECRET));
    assert.equal(j.loginModule, 'org.apache.kafka.common.security.plain.PlainLoginModule');
    assert.equal(j.flag, 'required');
    assert.deepEqual(j.options, { username: 'alice', password: SECRET });
  });

  it('reads bare values and multi-line lines', () => {
    const j = parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule required\n username=bob\n password=pw tokenauth=false ;');
    assert.deepEqual(j.options, { username: 'bob', password: 'pw', tokenauth: 'false' });
  });

  it('rejects a missing semicolon, a missing flag, an unclosed quote and two modules, without echoing values', () => {
    const cases: [string, RegExp][] = [
      [`org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="pw"`, /semicolon/],
      [`org.apache.kafka.common.security.plain.PlainLoginModule username="a" password="${SECRET}";`, /control flag/],
      [`org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="pw;`, /the value of option password has no closing quote/],
      [`${jaasPlain('a', SECRET)} ${jaasPlain('b', SECRET)}`, /more than one login module/],
      [`org.apache.kafka.common.security.plain.PlainLoginModule required password ${SECRET};`, /option password must be followed by =/],
      // An unescaped quote inside the password: the rest of it must not show up as an option name.
      [`org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="${SECRET}";`, /option 3 must be followed by =/],
    ];
    for (const [text, re] of cases) {
      const err = configError(() => parseJaasConfig(text, 'sasl.jaas.config in client.properties'));
      assert.match(err.message, re);
      assert.match(err.message, /^sasl\.jaas\.config in client\.properties: /);
      assert.equal(err.details[0]?.path, 'sasl.jaas.config');
    }
  });
});

describe('kafkaSecurityFromProperties', () => {
  let dir: string;
  let ca: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-sec-unit-'));
    ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('maps SASL_SSL + PLAIN JAAS + truststore', () => {
    const sec = kafkaSecurityFromProperties({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'PLAIN',
      'sasl.jaas.config': jaasPlain('alice', SECRET),
      'ssl.truststore.location': ca,
      'bootstrap.servers': 'b:9093',
    }, 'client.properties');
    assert.equal(sec.protocol, 'SASL_SSL');
    assert.equal(sec.sasl?.mechanism, 'PLAIN');
    assert.equal(sec.sasl?.username, 'alice');
    assert.equal(sec.sasl?.password.reveal(), SECRET);
    assert.equal(sec.tls?.caFile?.path, ca);
    assert.equal(sec.tls?.caFile?.from, 'ssl.truststore.location in client.properties');
    assert.equal(sec.tls?.verifyHostname, true);
  });

  it('maps SCRAM with a JAAS line and accepts a Map, lower-case values and the librdkafka spellings', () => {
    const sec = kafkaSecurityFromProperties(new Map([
      ['security.protocol', 'sasl_ssl'],
      ['sasl.mechanisms', 'scram-sha-512'],
      ['sasl.jaas.config', jaasScram('bob', 'pw')],
      ['ssl.ca.location', ca],
    ]), 'f');
    assert.equal(sec.sasl?.mechanism, 'SCRAM-SHA-512');
    assert.equal(sec.sasl?.username, 'bob');
    assert.equal(sec.tls?.caFile?.from, 'ssl.ca.location in f');
  });

  it('takes sasl.username / sasl.password (librdkafka style) and infers SASL_PLAINTEXT without TLS files', () => {
    const sec = kafkaSecurityFromProperties({ 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'carol', 'sasl.password': SECRET }, 'f');
    assert.equal(sec.protocol, 'SASL_PLAINTEXT');
    assert.equal(sec.tls, undefined);
    assert.equal(sec.sasl?.from.password, 'sasl.password in f');
  });

  it('defaults to PLAIN for a PlainLoginModule line and infers SASL_SSL with a CA', () => {
    const sec = kafkaSecurityFromProperties({ 'sasl.jaas.config': jaasPlain('a', 'b'), 'ssl.ca.location': ca }, 'f');
    assert.equal(sec.protocol, 'SASL_SSL');
    assert.equal(sec.sasl?.mechanism, 'PLAIN');
  });

  it('PLAINTEXT when nothing is given; SSL alone is TLS without SASL', () => {
    assert.deepEqual(kafkaSecurityFromProperties({}, 'f'), { protocol: 'PLAINTEXT', warnings: [] });
    const sec = kafkaSecurityFromProperties({ 'security.protocol': 'SSL' }, 'f');
    assert.equal(sec.sasl, undefined);
    assert.deepEqual(toClientOptions(sec), { tls: {} });
  });

  it('errors name the key and the origin, and never echo a secret', () => {
    const cases: [Record<string, string>, RegExp, string][] = [
      [{ 'security.protocol': 'SASL_TLS' }, /security\.protocol in f: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/, 'security.protocol'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-1', 'sasl.password': SECRET }, /sasl\.mechanism in f: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/, 'sasl.mechanism'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'OAUTHBEARER' }, /OAUTHBEARER is not supported/, 'sasl.mechanism'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.password': SECRET }, /sasl\.mechanism: is required with security\.protocol SASL_SSL/, 'sasl.mechanism'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.password': SECRET }, /a SASL username is required for PLAIN/, 'sasl.username'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u' }, /a SASL password is required for PLAIN \(user u\)/, 'sasl.password'],
      [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.jaas.config': jaasPlain('u', SECRET) }, /uses PlainLoginModule, which does not match sasl\.mechanism SCRAM-SHA-256 \(sasl\.mechanism in f\)/, 'sasl.jaas.config'],
      [{ 'sasl.jaas.config': jaasScram('u', 'pw') }, /uses ScramLoginModule: set sasl\.mechanism to SCRAM-SHA-256 or SCRAM-SHA-512/, 'sasl.jaas.config'],
      [{ 'sasl.jaas.config': `com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true password="pw";` }, /login module com\.sun\.security\.auth\.module\.Krb5LoginModule is not supported/, 'sasl.jaas.config'],
      [{ 'security.protocol': 'PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.password': SECRET }, /security\.protocol in f: is PLAINTEXT, but SASL settings are given \(sasl\.mechanism\)/, 'security.protocol'],
      [{ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaasPlain('u', SECRET), 'ssl.ca.location': ca }, /is SASL_PLAINTEXT, but TLS files are given \(ssl\.ca\.location\)/, 'security.protocol'],
      [{ 'security.protocol': 'SSL', 'ssl.truststore.location': 'x.jks', 'ssl.truststore.type': 'JKS', 'ssl.truststore.password': SECRET }, /ssl\.truststore\.type in f: JKS trust stores cannot be read by Node\.js; convert it to PEM/, 'ssl.truststore.type'],
      [{ 'security.protocol': 'SSL', 'ssl.keystore.location': 'x.jks', 'ssl.keystore.type': 'JKS', 'ssl.keystore.password': SECRET }, /JKS keystores cannot be read/, 'ssl.keystore.type'],
      [{ 'security.protocol': 'SSL', 'ssl.certificate.location': 'c.pem' }, /ssl\.certificate\.location in f: a client certificate needs both/, 'ssl.certificate.location'],
      [{ 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': 'dns' }, /must be https .* or empty/, 'ssl.endpoint.identification.algorithm'],
      [{ 'security.protocol': 'SSL', 'enable.ssl.certificate.verification': 'nope' }, /must be true or false/, 'enable.ssl.certificate.verification'],
    ];
    for (const [props, re, path] of cases) {
      const err = configError(() => kafkaSecurityFromProperties(props, 'f'));
      assert.match(err.message, re, `for ${JSON.stringify(Object.keys(props))}`);
      assert.equal(err.details[0]?.path, path);
      assert.equal(err.exitCode, 2);
    }
  });

  it('keeps secrets out of logs: the password prints as [hidden] in JSON, inspect and String', () => {
    const sec = kafkaSecurityFromProperties({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': SECRET, 'ssl.key.password': SECRET, 'ssl.ca.location': ca }, 'f');
    for (const text of [JSON.stringify(sec), inspect(sec, { depth: 10 }), String(sec.sasl?.password), describeKafkaSecurity(sec)]) {
      assert.ok(!text.includes(SECRET), text);
    }
    assert.match(JSON.stringify(sec), /"password":"\[hidden\]"/);
    assert.equal(describeKafkaSecurity(sec), `SASL_SSL, SCRAM-SHA-512 as alice, CA ${ca}`);
    // The client gets the password through a provider function, not as a string property.
    const opts = toClientOptions(sec);
    assert.ok(!JSON.stringify(opts).includes(SECRET));
    assert.equal(typeof opts.sasl?.password, 'function');
    assert.equal((opts.sasl?.password as () => string)(), SECRET);
    assert.equal(opts.sasl?.mechanism, 'SCRAM-SHA-512');
    assert.equal(opts.tls?.passphrase, SECRET);
  });

  it('warns about PLAIN without TLS and about turned-off verification', () => {
    const a = kafkaSecurityFromProperties({ 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': SECRET }, 'f');
    assert.match(a.warnings.join('\n'), /unencrypted/);
    const b = kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': '' }, 'f');
    assert.equal(b.tls?.verifyHostname, false);
    assert.match(b.warnings.join('\n'), /host name verification is off \(ssl\.endpoint\.identification\.algorithm in f\)/);
    const opts = toClientOptions(b);
    assert.equal(opts.tls?.rejectUnauthorized, undefined, 'the chain is still verified');
    assert.equal(opts.tls?.checkServerIdentity?.('x', {} as never), undefined);
    const c = kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'enable.ssl.certificate.verification': 'false' }, 'f');
    assert.equal(toClientOptions(c).tls?.rejectUnauthorized, false);
    assert.match(c.warnings.join('\n'), /certificate verification is off/);
  });
});

describe('toClientOptions reads the files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-sec-unit-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'client.pem'), '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'client.key'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    writeFileSync(join(dir, 'bundle.pem'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'store.jks'), Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    writeFileSync(join(dir, 'client.p12'), Buffer.from([0x30, 0x82, 0x01, 0x00]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('CA, client certificate and key as PEM', () => {
    const sec = kafkaSecurityFromProperties({
      'security.protocol': 'SSL',
      'ssl.ca.location': join(dir, 'ca.pem'),
      'ssl.certificate.location': join(dir, 'client.pem'),
      'ssl.key.location': join(dir, 'client.key'),
    }, 'f');
    const tls = toClientOptions(sec).tls!;
    assert.match(String(tls.ca), /MIIB/);
    assert.match(String(tls.cert), /MIIC/);
    assert.match(String(tls.key), /MIIE/);
  });

  it('a PEM keystore (Java ssl.keystore.type=PEM) gives both cert and key; PKCS12 goes to pfx', () => {
    const pem = toClientOptions(kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': join(dir, 'bundle.pem') }, 'f')).tls!;
    assert.match(String(pem.cert), /BEGIN CERTIFICATE/);
    assert.match(String(pem.key), /BEGIN PRIVATE KEY/);
    const p12 = toClientOptions(kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.keystore.location': join(dir, 'client.p12'), 'ssl.keystore.password': SECRET }, 'f')).tls!;
    assert.ok(Buffer.isBuffer(p12.pfx));
    assert.equal(p12.passphrase, SECRET);
  });

  it('a missing file or a non-PEM trust store is a ConfigError naming the key and file', () => {
    const missing = configError(() => toClientOptions(kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.location': join(dir, 'nope.pem') }, 'client.properties')));
    assert.match(missing.message, /^ssl\.truststore\.location in client\.properties: cannot read CA certificate file .*nope\.pem \(ENOENT\)/);
    const jks = configError(() => toClientOptions(kafkaSecurityFromProperties({ 'security.protocol': 'SSL', 'ssl.truststore.location': join(dir, 'store.jks') }, 'client.properties')));
    assert.match(jks.message, /store\.jks is not a PEM CA certificate .*Node\.js reads PEM files only/);
    const env = configError(() => toClientOptions(kafkaSecurityFromEnv({ HERALD_KAFKA_SECURITY_PROTOCOL: 'SSL', HERALD_KAFKA_CA_FILE: join(dir, 'nope.pem') })!));
    assert.match(env.message, /^HERALD_KAFKA_CA_FILE: cannot read/);
  });
});

describe('kafkaSecurityFromEnv and resolveKafkaSecurity', () => {
  it('undefined when no variable is set', () => {
    assert.equal(kafkaSecurityFromEnv({ PATH: '/bin', HERALD_KAFKA_BROKERS: 'x:1' }), undefined);
    assert.equal(resolveKafkaSecurity({ properties: { acks: 'all' }, origin: 'f', env: {} }), undefined);
  });

  it('maps every variable and infers the protocol', () => {
    const sec = kafkaSecurityFromEnv({
      HERALD_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      HERALD_KAFKA_SASL_USERNAME: 'alice',
      HERALD_KAFKA_SASL_PASSWORD: ` ${SECRET} `,
      HERALD_KAFKA_CA_FILE: '/etc/ca.pem',
      HERALD_KAFKA_CERT_FILE: '/etc/c.pem',
      HERALD_KAFKA_KEY_FILE: '/etc/c.key',
    })!;
    assert.equal(sec.protocol, 'SASL_SSL');
    assert.equal(sec.sasl?.password.reveal(), ` ${SECRET} `, 'a password is taken verbatim, spaces included');
    assert.equal(sec.sasl?.from.username, 'HERALD_KAFKA_SASL_USERNAME');
    assert.equal(sec.tls?.certFile?.from, 'HERALD_KAFKA_CERT_FILE');
  });

  it('reads HERALD_KAFKA_SASL_PASSWORD_FILE without its trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-sec-unit-'));
    try {
      writeFileSync(join(dir, 'pw'), `${SECRET}\n`);
      const sec = kafkaSecurityFromEnv({ HERALD_KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', HERALD_KAFKA_SASL_MECHANISM: 'PLAIN', HERALD_KAFKA_SASL_USERNAME: 'u', HERALD_KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw') })!;
      assert.equal(sec.sasl?.password.reveal(), SECRET);
      const both = configError(() => kafkaSecurityFromEnv({ HERALD_KAFKA_SASL_PASSWORD: SECRET, HERALD_KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw') }));
      assert.match(both.message, /not both/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('errors name the variable and never echo the password', () => {
    const e1 = configError(() => kafkaSecurityFromEnv({ HERALD_KAFKA_SECURITY_PROTOCOL: 'TLS', HERALD_KAFKA_SASL_PASSWORD: SECRET }));
    assert.match(e1.message, /^HERALD_KAFKA_SECURITY_PROTOCOL: must be one of/);
    assert.equal(e1.details[0]?.path, 'HERALD_KAFKA_SECURITY_PROTOCOL');
    const e2 = configError(() => kafkaSecurityFromEnv({ HERALD_KAFKA_SASL_MECHANISM: 'PLAIN', HERALD_KAFKA_SASL_PASSWORD: SECRET }));
    assert.match(e2.message, /SASL username is required .*HERALD_KAFKA_SASL_USERNAME/);
  });

  it('the environment overrides the file key by key; the JAAS line fills the rest', () => {
    const sec = resolveKafkaSecurity({
      properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaasPlain('file-user', 'file-pw') },
      origin: 'kafka.properties',
      env: { HERALD_KAFKA_SASL_PASSWORD: SECRET },
    })!;
    assert.equal(sec.sasl?.username, 'file-user');
    assert.equal(sec.sasl?.password.reveal(), SECRET);
    assert.equal(sec.sasl?.from.username, 'sasl.jaas.config in kafka.properties');
    assert.equal(sec.sasl?.from.password, 'HERALD_KAFKA_SASL_PASSWORD');
    const mech = resolveKafkaSecurity({ properties: { 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p' }, origin: 'f', env: { HERALD_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' } })!;
    assert.equal(mech.sasl?.mechanism, 'SCRAM-SHA-512');
  });
});

describe('classifyKafkaSecurityError', () => {
  const sec = kafkaSecurityFromProperties({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': SECRET }, 'client.properties');
  // Shapes as @platformatic/kafka 1.35 builds them: AggregateError of NetworkErrors with causes.
  const wrap = (cause: object) => Object.assign(new AggregateError([Object.assign(new Error('Connection to 127.0.0.1:9093 failed.'), { code: 'PLT_KFK_NETWORK', cause })], 'metadata failed 4 times.'), { code: 'PLT_KFK_MULTIPLE' });

  it('a SASL authentication failure names mechanism, user and where the credentials came from, not the password', () => {
    const err = wrap(Object.assign(new Error('SASL authentication failed.'), { code: 'PLT_KFK_AUTHENTICATION', cause: { errors: [{ apiId: 'SASL_AUTHENTICATION_FAILED', message: 'x' }] } }));
    const h = classifyKafkaSecurityError(err, sec, ['127.0.0.1:9093']);
    assert.ok(h instanceof HeraldError);
    assert.equal(h.code, 'BROKER_AUTH');
    assert.equal(h.message, 'authentication failed (SCRAM-SHA-512) for user alice at 127.0.0.1:9093: check the username and password (given by sasl.username in client.properties and sasl.password in client.properties)');
    assert.ok(!h.message.includes(SECRET));
  });

  it('an untrusted certificate says so and how to fix it', () => {
    const err = wrap(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }));
    const h = classifyKafkaSecurityError(err, sec, ['127.0.0.1:9093'])!;
    assert.equal(h.code, 'BROKER_AUTH');
    assert.match(h.message, /^TLS: the broker's certificate is not trusted \(self-signed certificate in chain\) at 127\.0\.0\.1:9093; set ssl\.truststore\.location .*HERALD_KAFKA_CA_FILE/);
  });

  it('leaves other errors to the general mapping', () => {
    assert.equal(classifyKafkaSecurityError(wrap(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), sec), undefined);
    assert.equal(classifyKafkaSecurityError(new HeraldError('TIMEOUT', 'x'), sec), undefined);
  });
});

describe('resolveKafkaConnection: file and environment together', () => {
  it('a password from HERALD_KAFKA_SASL_PASSWORD completes a properties file without one', async () => {
    const { resolveKafkaConnection } = await import('../../src/transports/kafka/connection.js');
    const dir = mkdtempSync(join(tmpdir(), 'herald-sec-unit-'));
    try {
      const file = join(dir, 'p.properties');
      writeFileSync(file, 'bootstrap.servers=127.0.0.1:9093\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=u\n');
      const conn = resolveKafkaConnection({ producerProperties: file, env: { HERALD_KAFKA_SASL_PASSWORD: SECRET } });
      assert.equal(conn.security?.sasl?.username, 'u');
      assert.equal((conn.sasl?.password as () => string)(), SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
