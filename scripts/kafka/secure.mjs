#!/usr/bin/env node
// A throw-away *secured* single-node KRaft broker for tests and manual trials of Herald's TLS
// and SASL support. Everything secret is generated at start-up and lives only in `dir`:
//   - a test CA, a broker certificate (SAN localhost + 127.0.0.1) and a client certificate
//     signed by it, plus a second, unrelated CA that the broker does NOT use (to prove that an
//     untrusted broker certificate is refused);
//   - one user (`alice`) with a random password, known to PLAIN (JAAS on the broker) and to
//     SCRAM-SHA-256 / SCRAM-SHA-512 (credentials written into the metadata at format time).
// Listeners: SASL_SSL, SSL (TLS only), SASL_PLAINTEXT, MTLS (SSL with a required client
// certificate), PLAINTEXT (inter-broker, and handy for test set-up) and the controller.
// Usage from code: `const b = await startSecuredBroker({ dir }); ...; await b.stop();`
// Usage by hand:   `node scripts/kafka/secure.mjs DIR` prints the addresses and files as JSON
//                  and runs until Ctrl-C (the password is written to DIR/credentials.json only).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, startCluster } from './lib.mjs';

/** SASL mechanisms the secured broker enables on its SASL listeners. */
export const SECURE_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${what}: cannot run ${cmd}: ${r.error.message}`);
  // Never echo the command line: it may carry a keystore password.
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout;
}

/** A self-signed CA: returns {certFile, keyFile}. */
function makeCa(dir, name, cn) {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], `creating ${name}`);
  return { certFile, keyFile };
}

/** A leaf certificate signed by `ca`; `ext` is an OpenSSL extensions section. */
function makeLeaf(dir, name, cn, ca, ext) {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${cn}`], `creating the ${name} key`);
  run('openssl', ['x509', '-req', '-sha256', '-days', '2', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-CAcreateserial', '-out', certFile, '-extfile', extFile], `signing the ${name} certificate`);
  return { certFile, keyFile };
}

/**
 * Generates the CA, broker and client certificates under `dir`. The broker keystore is a
 * PKCS12 file (what the JVM reads); clients get PEM files (what Node.js and librdkafka read).
 */
export function generateTlsMaterial(dir) {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'ca', 'Herald test CA');
  const other = makeCa(dir, 'untrusted-ca', 'Herald untrusted CA');
  const broker = makeLeaf(dir, 'broker', 'localhost', ca,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const client = makeLeaf(dir, 'client', 'herald-client', ca,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const storePassword = randomBytes(12).toString('hex');
  const keystoreFile = join(dir, 'broker.p12');
  run('openssl', ['pkcs12', '-export', '-in', broker.certFile, '-inkey', broker.keyFile, '-certfile', ca.certFile,
    '-name', 'broker', '-out', keystoreFile, '-passout', `pass:${storePassword}`], 'exporting the broker keystore');
  return {
    caFile: ca.certFile,
    untrustedCaFile: other.certFile,
    clientCertFile: client.certFile,
    clientKeyFile: client.keyFile,
    keystoreFile,
    storePassword,
  };
}

/**
 * Starts a secured single-node broker in `dir` (created if missing; the caller removes it).
 * Resolves to {
 *   bootstrap: {saslSsl, ssl, saslPlaintext, mtls, plaintext},   // HOST:PORT each
 *   caFile, untrustedCaFile, clientCertFile, clientKeyFile,       // PEM files
 *   users: {username, password, mechanisms},                      // alice, for every mechanism
 *   cluster, stop() }
 */
export async function startSecuredBroker({ dir, heap = '512m', timeoutMs = 120_000 } = {}) {
  if (!dir) throw new Error('startSecuredBroker: dir is required');
  dir = resolve(dir);
  const tlsDir = join(dir, 'tls');
  const tls = generateTlsMaterial(tlsDir);
  const username = 'alice';
  // Hex keeps the password safe inside JAAS quotes and StorageTool's [name=...,password=...].
  const password = randomBytes(16).toString('hex');
  const ports = {
    saslSsl: await freePort(),
    ssl: await freePort(),
    saslPlaintext: await freePort(),
    mtls: await freePort(),
  };
  const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`;
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const extra = (node) => {
    const named = [
      `SASL_SSL://127.0.0.1:${ports.saslSsl}`,
      `SSL://127.0.0.1:${ports.ssl}`,
      `SASL_PLAINTEXT://127.0.0.1:${ports.saslPlaintext}`,
      `MTLS://127.0.0.1:${ports.mtls}`,
    ];
    const props = {
      listeners: [`PLAINTEXT://127.0.0.1:${node.port}`, `CONTROLLER://127.0.0.1:${node.controllerPort}`, ...named].join(','),
      'advertised.listeners': [`PLAINTEXT://127.0.0.1:${node.port}`, ...named].join(','),
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL',
      // Inter-broker and controller traffic stay on PLAINTEXT: only client listeners are under test.
      'inter.broker.listener.name': 'PLAINTEXT',
      'sasl.enabled.mechanisms': SECURE_MECHANISMS.join(','),
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': tls.keystoreFile,
      'ssl.keystore.password': tls.storePassword,
      'ssl.key.password': tls.storePassword,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': tls.caFile,
      'ssl.client.auth': 'none',
      'listener.name.mtls.ssl.client.auth': 'required',
    };
    for (const l of ['sasl_ssl', 'sasl_plaintext']) {
      props[`listener.name.${l}.plain.sasl.jaas.config`] = plainJaas;
      props[`listener.name.${l}.scram-sha-256.sasl.jaas.config`] = scramJaas;
      props[`listener.name.${l}.scram-sha-512.sasl.jaas.config`] = scramJaas;
    }
    return props;
  };
  const formatArgs = ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${username},password=${password}]`]);
  const cluster = await startCluster({ dir, size: 1, extra, formatArgs, heap, timeoutMs });
  const credentialsFile = join(dir, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify({ username, password }, null, 2) + '\n', { mode: 0o600 });
  const at = (port) => `127.0.0.1:${port}`;
  return {
    bootstrap: {
      saslSsl: at(ports.saslSsl),
      ssl: at(ports.ssl),
      saslPlaintext: at(ports.saslPlaintext),
      mtls: at(ports.mtls),
      plaintext: cluster.bootstrap,
    },
    caFile: tls.caFile,
    untrustedCaFile: tls.untrustedCaFile,
    clientCertFile: tls.clientCertFile,
    clientKeyFile: tls.clientKeyFile,
    credentialsFile,
    users: { username, password, mechanisms: [...SECURE_MECHANISMS] },
    logFile: cluster.nodes[0].logFile,
    cluster,
    stop: () => cluster.stop(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/kafka/secure.mjs DIR   (starts a secured broker with its data and certificates in DIR)');
    process.exit(2);
  }
  const b = await startSecuredBroker({ dir });
  const { users, cluster, stop, ...shown } = b;
  console.log(JSON.stringify({ ...shown, users: { username: users.username, mechanisms: users.mechanisms, password: `(in ${b.credentialsFile})` } }, null, 2));
  const down = () => { stop().finally(() => process.exit(0)); };
  process.on('SIGINT', down);
  process.on('SIGTERM', down);
  setInterval(() => {}, 1 << 30);
}
