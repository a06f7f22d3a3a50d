/**
 * Maps validated security settings onto @platformatic/kafka's `tls` and `sasl` connection
 * options, reading the PEM / PKCS12 files they name.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { fail } from './problem.js';
import type { FileSetting, KafkaSaslMechanism, KafkaSecurity } from './settings.js';

function readPem(file: FileSetting, what: string, marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file.path);
  } catch (err) {
    return fail(file.from, `cannot read ${what} file ${file.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!marker.test(data.toString('latin1'))) {
    fail(file.from, `${file.path} is not a PEM ${what} (no "-----BEGIN ..." block); Node.js reads PEM files only (convert JKS/PKCS12 with keytool or openssl)`);
  }
  return data;
}

/**
 * The SASL options Herald gives @platformatic/kafka's clients. Herald's own shape (a subset of
 * the library's SASLOptions, checked where the clients are built) so the published .d.ts never
 * import the library's types: those need @types/debug, which a consumer compiling without
 * skipLibCheck would otherwise have to install.
 */
export interface KafkaSaslClientOptions {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** A credential provider, so the password never sits in the options as plain text. */
  password: () => string;
}

/** The options @platformatic/kafka's clients (Producer, Consumer, Admin) take for TLS and SASL. */
export interface KafkaSecurityClientOptions {
  tls?: TlsConnectionOptions;
  sasl?: KafkaSaslClientOptions;
}

/**
 * Maps validated settings onto @platformatic/kafka connection options: spread the result into
 * the options of `new Producer(...)`, `new Consumer(...)` or `new Admin(...)`. Reads the PEM /
 * PKCS12 files now, so a missing or wrong file is a ConfigError at start-up, not a broker error.
 * The SASL password is passed as a credential provider function so it never sits in the
 * options object as plain text.
 */
export function toClientOptions(sec: KafkaSecurity): KafkaSecurityClientOptions {
  const out: KafkaSecurityClientOptions = {};
  if (sec.tls !== undefined) {
    const t = sec.tls;
    const tls: TlsConnectionOptions = {};
    if (t.caFile !== undefined) tls.ca = readPem(t.caFile, 'CA certificate', /-----BEGIN (TRUSTED )?CERTIFICATE-----/);
    if (t.certFile !== undefined) tls.cert = readPem(t.certFile, 'client certificate', /-----BEGIN CERTIFICATE-----/);
    if (t.keyFile !== undefined) tls.key = readPem(t.keyFile, 'private key', /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/);
    if (t.pkcs12File !== undefined) {
      try {
        tls.pfx = readFileSync(t.pkcs12File.path);
      } catch (err) {
        fail(t.pkcs12File.from, `cannot read PKCS12 keystore ${t.pkcs12File.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (t.passphrase !== undefined) tls.passphrase = t.passphrase.reveal();
    if (!t.verifyCertificate) tls.rejectUnauthorized = false;
    // Kafka's ssl.endpoint.identification.algorithm= (empty) skips only the host name check;
    // the chain is still verified against the CA.
    if (!t.verifyHostname) tls.checkServerIdentity = () => undefined;
    out.tls = tls;
  }
  if (sec.sasl !== undefined) {
    const password = sec.sasl.password;
    out.sasl = { mechanism: sec.sasl.mechanism, username: sec.sasl.username, password: () => password.reveal() };
  }
  return out;
}
