/**
 * TLS and SASL settings for Herald's Kafka clients. Users write them the way the Kafka tools
 * they already have expect: Java client properties (`security.protocol`, `sasl.mechanism`,
 * `sasl.jaas.config`, `ssl.truststore.location`, ...), librdkafka/kcat properties
 * (`sasl.username`, `sasl.password`, `ssl.ca.location`, `ssl.certificate.location`,
 * `ssl.key.location`), or HERALD_KAFKA_* environment variables. This module validates them
 * once, remembers where each value came from (so errors name the key and the file or
 * variable), and maps them onto @platformatic/kafka's `tls` and `sasl` connection options.
 *
 * Secrets (SASL password, key passphrases) are held in {@link Secret}, which prints as
 * `[hidden]` in logs, JSON and `util.inspect`, and reach the client as a credential provider
 * function, so a dump of the client options never shows them either. No error message this
 * module raises echoes a value that could be a secret.
 */
import { readFileSync } from 'node:fs';
import { parseJaasConfig } from './jaas.js';
import { fail } from './problem.js';
import { Secret } from './secret.js';

export { Secret } from './secret.js';
export { parseJaasConfig, type JaasConfig } from './jaas.js';

/** Kafka's `security.protocol` values. */
export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
/** SASL mechanisms Herald supports (what the broker lists in `sasl.enabled.mechanisms`). */
export type KafkaSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export const KAFKA_SECURITY_PROTOCOLS: readonly KafkaSecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
export const KAFKA_SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** A file setting and where it was given (`ssl.truststore.location in ./kafka.properties`, `HERALD_KAFKA_CA_FILE`). */
export interface FileSetting {
  path: string;
  from: string;
}

/** Validated security settings of one Kafka connection. */
export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  /** Present for SASL_PLAINTEXT and SASL_SSL. */
  sasl?: {
    mechanism: KafkaSaslMechanism;
    username: string;
    password: Secret;
    /** Where the mechanism and the credentials were given, for error messages. */
    from: { mechanism: string; username: string; password: string };
  };
  /** Present for SSL and SASL_SSL. */
  tls?: {
    /** PEM file of the CA certificate(s) to trust; absent: Node.js's built-in roots. */
    caFile?: FileSetting;
    /** PEM client certificate (chain) for mutual TLS. */
    certFile?: FileSetting;
    /** PEM private key of the client certificate. */
    keyFile?: FileSetting;
    /** A PKCS12 keystore holding the client key and certificate (instead of certFile/keyFile). */
    pkcs12File?: FileSetting;
    /** Passphrase of the encrypted key or of the PKCS12 keystore. */
    passphrase?: Secret;
    /** Check that the broker's certificate names the host we connect to (Kafka's default: yes). */
    verifyHostname: boolean;
    /** Check the broker's certificate chain at all (librdkafka `enable.ssl.certificate.verification`). */
    verifyCertificate: boolean;
  };
  /** Risky but legal settings (a password in clear text, verification off), one sentence each. */
  warnings: string[];
}

/** One raw value and where it came from. */
interface Raw {
  value: string;
  from: string;
}

/** The raw settings of one or more sources, before validation (later sources override earlier ones). */
interface RawSecurity {
  protocol?: Raw;
  mechanism?: Raw;
  jaas?: Raw;
  username?: Raw;
  password?: Raw;
  caFile?: Raw;
  truststoreType?: Raw;
  /** Read so it is not reported as unknown; a PEM trust store needs no password. */
  truststorePassword?: Raw;
  certFile?: Raw;
  keyFile?: Raw;
  keystoreFile?: Raw;
  keystoreType?: Raw;
  keystorePassword?: Raw;
  keyPassword?: Raw;
  endpointIdentification?: Raw;
  certificateVerification?: Raw;
}

/** Property keys this module reads, mapped to the raw field they fill. Aliases share a field. */
const PROPERTY_KEYS: Record<string, keyof RawSecurity> = {
  'security.protocol': 'protocol',
  'sasl.mechanism': 'mechanism',
  'sasl.mechanisms': 'mechanism', // librdkafka spelling
  'sasl.jaas.config': 'jaas',
  'sasl.username': 'username',
  'sasl.password': 'password',
  'ssl.truststore.location': 'caFile',
  'ssl.ca.location': 'caFile',
  'ssl.truststore.type': 'truststoreType',
  'ssl.truststore.password': 'truststorePassword',
  'ssl.certificate.location': 'certFile',
  'ssl.key.location': 'keyFile',
  'ssl.keystore.location': 'keystoreFile',
  'ssl.keystore.type': 'keystoreType',
  'ssl.keystore.password': 'keystorePassword',
  'ssl.key.password': 'keyPassword',
  'ssl.endpoint.identification.algorithm': 'endpointIdentification',
  'enable.ssl.certificate.verification': 'certificateVerification',
};

/** The property keys {@link kafkaSecurityFromProperties} understands (others are left to the caller). */
export const KAFKA_SECURITY_PROPERTY_KEYS: readonly string[] = Object.keys(PROPERTY_KEYS);

/** Environment variables and the raw field each fills. */
const ENV_KEYS: Record<string, keyof RawSecurity> = {
  HERALD_KAFKA_SECURITY_PROTOCOL: 'protocol',
  HERALD_KAFKA_SASL_MECHANISM: 'mechanism',
  HERALD_KAFKA_SASL_USERNAME: 'username',
  HERALD_KAFKA_SASL_PASSWORD: 'password',
  HERALD_KAFKA_CA_FILE: 'caFile',
  HERALD_KAFKA_CERT_FILE: 'certFile',
  HERALD_KAFKA_KEY_FILE: 'keyFile',
  HERALD_KAFKA_KEY_PASSWORD: 'keyPassword',
};

/** The environment variables {@link kafkaSecurityFromEnv} reads. */
export const KAFKA_SECURITY_ENV_VARS: readonly string[] = [...Object.keys(ENV_KEYS), 'HERALD_KAFKA_SASL_PASSWORD_FILE'];

/** Fields whose value is a secret: never echoed, wrapped in Secret. */
const SECRET_FIELDS = new Set<keyof RawSecurity>(['password', 'keystorePassword', 'keyPassword', 'truststorePassword', 'jaas']);


function rawFromProperties(props: Record<string, string> | ReadonlyMap<string, string>, origin: string): RawSecurity {
  const raw: RawSecurity = {};
  const entries = props instanceof Map ? [...props.entries()] : Object.entries(props);
  for (const [key, value] of entries) {
    const field = PROPERTY_KEYS[key];
    if (field === undefined) continue;
    raw[field] = { value: value.trim(), from: `${key} in ${origin}` };
  }
  return raw;
}

function rawFromEnv(env: NodeJS.ProcessEnv): RawSecurity {
  const raw: RawSecurity = {};
  for (const [name, field] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[field] = { value: field === 'password' ? value : value.trim(), from: name };
  }
  const passwordFile = env.HERALD_KAFKA_SASL_PASSWORD_FILE;
  if (passwordFile !== undefined && passwordFile !== '') {
    if (raw.password !== undefined) fail('HERALD_KAFKA_SASL_PASSWORD_FILE', 'give either HERALD_KAFKA_SASL_PASSWORD or HERALD_KAFKA_SASL_PASSWORD_FILE, not both');
    let text: string;
    try {
      text = readFileSync(passwordFile, 'utf8');
    } catch (err) {
      fail('HERALD_KAFKA_SASL_PASSWORD_FILE', `cannot read ${passwordFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // Secret files (Kubernetes, Docker) usually end with a newline that is not part of the password.
    raw.password = { value: text.replace(/\r?\n$/, ''), from: `HERALD_KAFKA_SASL_PASSWORD_FILE (${passwordFile})` };
  }
  return raw;
}

const PLAIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';

function parseProtocol(raw: Raw): KafkaSecurityProtocol {
  const v = raw.value.toUpperCase();
  if (!(KAFKA_SECURITY_PROTOCOLS as readonly string[]).includes(v)) fail(raw.from, `must be one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}, got "${raw.value}"`);
  return v as KafkaSecurityProtocol;
}

function parseMechanism(raw: Raw): KafkaSaslMechanism {
  const v = raw.value.toUpperCase();
  if (v === 'OAUTHBEARER' || v === 'GSSAPI') fail(raw.from, `${v} is not supported by Herald; use one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(v)) fail(raw.from, `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, got "${raw.value}"`);
  return v as KafkaSaslMechanism;
}

function parseBoolean(raw: Raw): boolean {
  const v = raw.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(raw.from, `must be true or false, got "${raw.value}"`);
}

/** Validates merged raw settings into a KafkaSecurity. */
function validate(raw: RawSecurity): KafkaSecurity {
  const warnings: string[] = [];
  const saslGiven = raw.mechanism !== undefined || raw.jaas !== undefined || raw.username !== undefined || raw.password !== undefined;
  const tlsGiven = raw.caFile !== undefined || raw.certFile !== undefined || raw.keyFile !== undefined || raw.keystoreFile !== undefined;

  // Without security.protocol, infer it from what was given (Java would silently use PLAINTEXT
  // and then fail against a secured listener, which helps nobody).
  let protocol: KafkaSecurityProtocol;
  if (raw.protocol !== undefined) protocol = parseProtocol(raw.protocol);
  else if (saslGiven) protocol = tlsGiven ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  else protocol = tlsGiven ? 'SSL' : 'PLAINTEXT';
  const isSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const isTls = protocol === 'SSL' || protocol === 'SASL_SSL';

  if (!isSasl && saslGiven) {
    const given = (raw.mechanism ?? raw.jaas ?? raw.username ?? raw.password)!;
    fail(raw.protocol?.from ?? 'security.protocol', `is ${protocol}, but SASL settings are given (${given.from.split(' ')[0]}); use SASL_SSL or SASL_PLAINTEXT`);
  }

  const security: KafkaSecurity = { protocol, warnings };

  if (isSasl) {
    let mechanism: KafkaSaslMechanism | undefined = raw.mechanism !== undefined ? parseMechanism(raw.mechanism) : undefined;
    let mechanismFrom = raw.mechanism?.from;
    let username = raw.username;
    let password = raw.password;
    if (raw.jaas !== undefined) {
      const jaas = parseJaasConfig(raw.jaas.value, raw.jaas.from);
      const expected = jaas.loginModule === PLAIN_MODULE ? 'PLAIN' : jaas.loginModule === SCRAM_MODULE ? 'SCRAM' : undefined;
      if (expected === undefined) {
        fail(raw.jaas.from, `login module ${jaas.loginModule} is not supported; use ${PLAIN_MODULE} (PLAIN) or ${SCRAM_MODULE} (SCRAM-SHA-256, SCRAM-SHA-512)`);
      }
      if (mechanism === undefined) {
        if (expected === 'SCRAM') fail(raw.jaas.from, 'uses ScramLoginModule: set sasl.mechanism to SCRAM-SHA-256 or SCRAM-SHA-512');
        mechanism = 'PLAIN';
        mechanismFrom = raw.jaas.from;
      } else if ((expected === 'PLAIN') !== (mechanism === 'PLAIN')) {
        fail(raw.jaas.from, `uses ${expected === 'PLAIN' ? 'PlainLoginModule' : 'ScramLoginModule'}, which does not match sasl.mechanism ${mechanism} (${raw.mechanism!.from})`);
      }
      // Explicit sasl.username / sasl.password or HERALD_KAFKA_SASL_* win over the JAAS line.
      if (username === undefined && jaas.options.username !== undefined) username = { value: jaas.options.username, from: raw.jaas.from };
      if (password === undefined && jaas.options.password !== undefined) password = { value: jaas.options.password, from: raw.jaas.from };
    }
    if (mechanism === undefined) {
      fail(raw.mechanism?.from ?? 'sasl.mechanism', `is required with security.protocol ${protocol}: one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
    }
    if (username === undefined || username.value === '') {
      fail(raw.jaas?.from ?? 'sasl.username', `a SASL username is required for ${mechanism}: give username="..." in sasl.jaas.config, sasl.username, or HERALD_KAFKA_SASL_USERNAME`);
    }
    if (password === undefined || password.value === '') {
      fail(raw.jaas?.from ?? 'sasl.password', `a SASL password is required for ${mechanism} (user ${username.value}): give password="..." in sasl.jaas.config, sasl.password, HERALD_KAFKA_SASL_PASSWORD or HERALD_KAFKA_SASL_PASSWORD_FILE`);
    }
    security.sasl = {
      mechanism,
      username: username.value,
      password: new Secret(password.value),
      from: { mechanism: mechanismFrom ?? 'sasl.mechanism', username: username.from, password: password.from },
    };
    if (protocol === 'SASL_PLAINTEXT' && mechanism === 'PLAIN') {
      warnings.push(`SASL PLAIN over SASL_PLAINTEXT sends the password of user ${username.value} unencrypted; prefer SASL_SSL`);
    }
  }

  if (isTls) {
    const tls: NonNullable<KafkaSecurity['tls']> = { verifyHostname: true, verifyCertificate: true };
    if (raw.truststoreType !== undefined && raw.truststoreType.value.toUpperCase() !== 'PEM') {
      fail(raw.truststoreType.from, `${raw.truststoreType.value} trust stores cannot be read by Node.js; convert it to PEM (keytool -exportcert -rfc -alias ALIAS -keystore FILE -file ca.pem, or openssl pkcs12 -in FILE -nokeys -out ca.pem) and set ssl.truststore.type=PEM`);
    }
    if (raw.caFile !== undefined) tls.caFile = { path: raw.caFile.value, from: raw.caFile.from };
    if (raw.certFile !== undefined) tls.certFile = { path: raw.certFile.value, from: raw.certFile.from };
    if (raw.keyFile !== undefined) tls.keyFile = { path: raw.keyFile.value, from: raw.keyFile.from };
    if (raw.keystoreFile !== undefined) {
      const type = (raw.keystoreType?.value ?? 'PKCS12').toUpperCase();
      if (type === 'PKCS12') {
        tls.pkcs12File = { path: raw.keystoreFile.value, from: raw.keystoreFile.from };
        if (raw.keystorePassword !== undefined) tls.passphrase = new Secret(raw.keystorePassword.value);
      } else if (type === 'PEM') {
        // A Java PEM keystore holds the private key and the certificate chain in one file.
        tls.certFile ??= { path: raw.keystoreFile.value, from: raw.keystoreFile.from };
        tls.keyFile ??= { path: raw.keystoreFile.value, from: raw.keystoreFile.from };
      } else {
        fail(raw.keystoreType?.from ?? raw.keystoreFile.from, `${type} keystores cannot be read by Node.js; use PKCS12 (keytool -importkeystore -srckeystore FILE -destkeystore client.p12 -deststoretype PKCS12) or PEM files`);
      }
    }
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      const given = (tls.certFile ?? tls.keyFile)!;
      fail(given.from, 'a client certificate needs both the certificate and its private key (ssl.certificate.location and ssl.key.location, or HERALD_KAFKA_CERT_FILE and HERALD_KAFKA_KEY_FILE)');
    }
    if (tls.pkcs12File !== undefined && tls.certFile !== undefined && raw.keystoreType?.value.toUpperCase() !== 'PEM') {
      fail(tls.pkcs12File.from, 'give the client certificate either as a PKCS12 keystore or as PEM certificate and key files, not both');
    }
    if (raw.keyPassword !== undefined && tls.passphrase === undefined) tls.passphrase = new Secret(raw.keyPassword.value);
    if (raw.endpointIdentification !== undefined) {
      const v = raw.endpointIdentification.value.toLowerCase();
      if (v === '' || v === 'none') tls.verifyHostname = false;
      else if (v !== 'https') fail(raw.endpointIdentification.from, `must be https (check the broker's host name, the default) or empty (do not), got "${raw.endpointIdentification.value}"`);
    }
    if (raw.certificateVerification !== undefined) tls.verifyCertificate = parseBoolean(raw.certificateVerification);
    if (!tls.verifyCertificate) warnings.push(`TLS certificate verification is off (${raw.certificateVerification!.from}): any server can impersonate the broker`);
    else if (!tls.verifyHostname) warnings.push(`TLS host name verification is off (${raw.endpointIdentification!.from}): the broker's certificate is trusted for any host name`);
    security.tls = tls;
  } else {
    const stray = raw.caFile ?? raw.certFile ?? raw.keyFile ?? raw.keystoreFile;
    if (stray !== undefined) fail(raw.protocol?.from ?? 'security.protocol', `is ${protocol}, but TLS files are given (${stray.from.split(' ')[0]}); use SSL or SASL_SSL`);
  }
  return security;
}

function mergeRaw(...sources: RawSecurity[]): RawSecurity {
  const out: RawSecurity = {};
  for (const s of sources) {
    for (const [k, v] of Object.entries(s) as [keyof RawSecurity, Raw][]) out[k] = v;
  }
  // An explicit username/password (env) overrides the JAAS line only for that field, which
  // validate() does; a JAAS line from a file and a mechanism from env are checked together.
  return out;
}

/**
 * Security settings from Kafka client properties (a parsed producer/consumer properties file,
 * or a config object using the same keys). `origin` names the source in error messages, e.g.
 * the file path. Keys this module does not know are ignored (the caller reports them).
 * @throws ConfigError naming the key and the origin when a value is invalid.
 */
export function kafkaSecurityFromProperties(props: Record<string, string> | ReadonlyMap<string, string>, origin: string): KafkaSecurity {
  return validate(rawFromProperties(props, origin));
}

/**
 * Security settings from HERALD_KAFKA_* environment variables, or undefined when none is set.
 * @throws ConfigError naming the variable when a value is invalid.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv): KafkaSecurity | undefined {
  const raw = rawFromEnv(env);
  return Object.keys(raw).length === 0 ? undefined : validate(raw);
}

/**
 * Properties and environment together, the environment overriding the file key by key
 * (CONTRACT: variables override the file). Undefined when neither says anything about security.
 */
export function resolveKafkaSecurity(input: { properties?: Record<string, string> | ReadonlyMap<string, string>; origin?: string; env?: NodeJS.ProcessEnv }): KafkaSecurity | undefined {
  const fromFile = input.properties !== undefined ? rawFromProperties(input.properties, input.origin ?? 'producer properties') : {};
  const fromEnv = input.env !== undefined ? rawFromEnv(input.env) : {};
  const merged = mergeRaw(fromFile, fromEnv);
  return Object.keys(merged).length === 0 ? undefined : validate(merged);
}

/** A one-line, secret-free description for logs: `SASL_SSL, SCRAM-SHA-512 as alice, CA from HERALD_KAFKA_CA_FILE`. */
export function describeKafkaSecurity(sec: KafkaSecurity): string {
  const parts: string[] = [sec.protocol];
  if (sec.sasl !== undefined) parts.push(`${sec.sasl.mechanism} as ${sec.sasl.username}`);
  if (sec.tls !== undefined) {
    parts.push(sec.tls.caFile !== undefined ? `CA ${sec.tls.caFile.path}` : 'system CAs');
    if (sec.tls.certFile !== undefined || sec.tls.pkcs12File !== undefined) parts.push('client certificate');
    if (!sec.tls.verifyCertificate) parts.push('certificate verification OFF');
    else if (!sec.tls.verifyHostname) parts.push('host name verification off');
  }
  return parts.join(', ');
}

/** True when `field` of the raw settings is a secret; exported for tests of the redaction rules. */
export function isSecretSetting(keyOrVar: string): boolean {
  const field = PROPERTY_KEYS[keyOrVar] ?? ENV_KEYS[keyOrVar];
  return keyOrVar === 'HERALD_KAFKA_SASL_PASSWORD_FILE' ? false : field !== undefined && SECRET_FIELDS.has(field);
}
