/**
 * A corpus of secret-bearing probes, and one event (and one entity-state request) that carries
 * every probe at once, in every string field an event or a state has. Each probe's secret is a
 * unique string: a test looks for each of them in what it read back (a stored row, the SSE
 * stream, a broker message, a log line) and names the probes that leaked.
 *
 * The probes cover what redaction promises (docs/security.md): secret key names (also spelled
 * with look-alike letters, invisible characters, other cases and separators), URL credentials
 * (passwords with `/`, `@`, `:`), `key=value` pairs and HTTP credentials in free text, JSON
 * documents inside strings, known token formats, deep nesting, arrays.
 */
import type { EventInput } from '../../src/events/schema.js';

export interface Probe {
  name: string;
  /** The secret: it must appear nowhere in anything Herald stores, streams, logs or sends. */
  secret: string;
}

const probes: Probe[] = [];
let n = 0;
/** A fresh, unique secret (letters and digits only, so no rule depends on its shape). */
const fresh = (tag: string) => `Zq${tag}${(++n).toString().padStart(3, '0')}x9Kp`;
const add = (name: string, secret: string): string => {
  probes.push({ name, secret });
  return secret;
};

// 1. Secret keys in data: the value is replaced whole.
const SECRET_KEYS = [
  'password', 'Password', 'PASSWORD', 'passwd', 'pwd', 'pw', 'pass', 'db_pass', 'secret', 'client_secret', 'clientSecret',
  'token', 'access_token', 'refreshToken', 'id-token', 'apiKey', 'api_key', 'x-api-key', 'API-KEY', 'auth', 'basic_auth',
  'authorization', 'Authorization', 'jwt', 'bearer', 'session', 'sessionId', 'session_key', 'cookie', 'Set-Cookie', 'private',
  'privateKey', 'ssh_private_key', 'signature', 'webhookSignature', 'otp', 'otp_code', 'pin', 'user_pin', 'passphrase',
  'credentials', 'aws_credentials', 'pull_secret', 'pullSecret', 'bmc_password', 'db.password', 'smtp.auth.pass', 'mfa',
  'totp', 'accessKey', 'secretAccessKey', 'creds', 'Pass_Word', 'PassPhrase',
  // Look-alikes: Cyrillic а and о, Greek ο, zero-width space and joiner, soft hyphen, fullwidth letters, combining mark.
  'p\u0430ssword', 't\u043eken', 't\u03bfken', 'secr\u0435t', 'pass\u200bword', 'to\u200dken', 'se\u00adcret', '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44', 'pa\u0301ssword',
];
const keyed: Record<string, unknown> = {};
for (const key of SECRET_KEYS) keyed[key] = add(`data key ${JSON.stringify(key)}`, fresh('K'));
// Objects and arrays under a secret key go whole.
keyed.credentialsObject = { user: 'admin', value: add('object under a secret key', fresh('O')) };
keyed.tokens = [add('array under a secret key', fresh('A'))];

// 2. URL credentials, in strings of data and in the other fields.
const urlWith = (scheme: string, pass: string, rest = 'db.example:5432/app') => `${scheme}://app:${pass}@${rest}`;
const urls: string[] = [
  urlWith('postgres', add('postgres URL password', fresh('U'))),
  urlWith('amqp', add('amqp URL password', fresh('U')), 'mq:5672/vhost'),
  urlWith('https', add('https URL password', fresh('U')), 'proxy.example:3128'),
  urlWith('mongodb+srv', add('mongodb+srv URL password', fresh('U')), 'cluster0.example.net/db'),
  urlWith('redis', add('redis URL password', fresh('U')), 'cache:6379/0'),
  `nats://${add('NATS token in the user part', fresh('T'))}@nats.example:4222`,
  urlWith('postgres', `${add('URL password with a slash (first part)', fresh('S'))}/${add('URL password with a slash (second part)', fresh('S'))}`),
  urlWith('mysql', `${add('URL password with an @ (first part)', fresh('S'))}@${add('URL password with an @ (second part)', fresh('S'))}`, 'db:3306/x'),
  urlWith('ftp', `${add('URL password with a colon (first part)', fresh('S'))}:${add('URL password with a colon (second part)', fresh('S'))}`, 'files.example/'),
  urlWith('https', `${add('URL password percent-encoded', fresh('S'))}%40x`, 'api.example/v1'),
  `jdbc:postgresql://app:${add('JDBC URL password', fresh('U'))}@db:5432/x`,
];
const urlStrings: Record<string, unknown> = { dsn: urls[0], broker: urls[1], proxy: urls[2], mongo: urls[3], cache: urls[4], nats: urls[5], slash: urls[6], at: urls[7], colon: urls[8], encoded: urls[9], jdbc: urls[10] };

// 3. Free text: pairs under secret keys, HTTP credentials, known formats.
const text: string[] = [
  `login failed: password=${add('password= in text', fresh('P'))}`,
  `retrying with token: ${add('token: in text', fresh('P'))} now`,
  `Authorization: Bearer ${add('Authorization: Bearer in text', fresh('B'))}`,
  `curl -H "Authorization: Basic ${add('Basic credentials in text', fresh('B'))}"`,
  `sent Bearer ${add('bare Bearer in text', fresh('B'))} to the API`,
  `GET /callback?code=1&access_token=${add('access_token in a query string', fresh('Q'))}&state=2`,
  `api_key='${add("api_key='...' in text", fresh('P'))}'`,
  `pwd = ${add('pwd = in text', fresh('P'))}`,
  `{"password":"${add('JSON pair inside text', fresh('J'))}"}`,
  `client_secret: "${add('client_secret: "..." in text', fresh('P'))}"`,
  `p\u0430ssword=${add('look-alike key in a text pair', fresh('P'))}`,
  `SESSION=${add('SESSION= in text', fresh('P'))}`,
];
const KNOWN = {
  jwt: add('a JSON Web Token', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${fresh('W')}`),
  aws: add('an AWS access key id', `AKIA${'Q'.repeat(4)}${String(++n).padStart(12, '7')}`),
  github: add('a GitHub token', `ghp_${fresh('G')}${'a'.repeat(24)}`),
  slack: add('a Slack token', `xoxb-1234567890-${fresh('L')}`),
  stripe: add('a Stripe key', `sk_live_${fresh('R')}abcdef`),
  whsec: add('a Standard Webhooks secret', `whsec_${fresh('H')}MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`),
  pem: `-----BEGIN PRIVATE KEY-----\nMIIE${add('a PEM private key', fresh('M'))}\n-----END PRIVATE KEY-----`,
};
const knownStrings = { note1: `use ${KNOWN.jwt} for the call`, note2: `key ${KNOWN.aws} leaked`, note3: KNOWN.github, note4: `slack ${KNOWN.slack}`, note5: KNOWN.stripe, note6: KNOWN.whsec, note7: KNOWN.pem };

// 4. JSON documents inside strings (once and twice encoded), arrays, deep nesting.
const embedded = JSON.stringify({ service: 'db', password: add('JSON document inside a string', fresh('E')), nested: { url: urlWith('postgres', add('URL inside embedded JSON', fresh('E'))) } });
const twice = JSON.stringify(JSON.stringify({ token: add('JSON encoded twice inside a string', fresh('E')) }));
let deep: unknown = { password: add('a secret key 60 levels deep', fresh('D')), note: `password=${add('a text pair 60 levels deep', fresh('D'))}` };
for (let i = 0; i < 60; i++) deep = { level: deep };
const list = [1, 'x', { items: [{ name: 'a' }, { token: add('a secret key in an array of arrays', fresh('L')) }] }, [`Bearer ${add('Bearer in an array', fresh('L'))}`]];

// 5. The other fields of an event (one probe each: they hold one string).
const fields = {
  message: text.join(' | ').slice(0, 4000),
  subject: `backup to ${urlWith('s3', add('subject: URL password', fresh('F')), 'bucket.example/b')}`,
  entityId: urlWith('https', add('entity.id: URL password', fresh('F')), 'h.example/x').slice(0, 250),
  partitionkey: urlWith('https', add('partitionkey (the Kafka key): URL password', fresh('F')), 'k.example/k'),
  dataschema: `https://schemas:${add('dataschema: URL password', fresh('F'))}@schemas.example/event.json`,
  source: `https://ci:${add('source: URL password', fresh('F'))}@ci.example/job`,
};

/** Every probe of the event (data, message, subject, entity id, partitionkey, dataschema, source). */
export const EVENT_PROBES: readonly Probe[] = [...probes];

/** The event carrying every probe; `run` makes its id unique. */
export function corpusEvent(run: string): EventInput & { id: string } {
  return {
    id: `${run}-corpus`,
    source: fields.source,
    type: 'com.example.redaction.corpus',
    subject: fields.subject,
    entity: { kind: 'host', id: fields.entityId },
    partitionkey: fields.partitionkey,
    dataschema: fields.dataschema,
    message: fields.message,
    data: { keyed, urls: urlStrings, text, known: knownStrings, embedded, twice, deep, list, public: { ssh_public_key: 'ssh-ed25519 AAAAC3Nza public', user: 'admin' } },
  };
}

// 6. An entity-state request: the path id, the state, the attributes.
const stateProbes: Probe[] = [];
const addState = (name: string, secret: string) => {
  stateProbes.push({ name, secret });
  return secret;
};
/** Every probe of the state request. */
export const STATE_PROBES: readonly Probe[] = stateProbes;
export const corpusState = {
  kind: 'environment',
  id: `https://op:${addState('state: entity id (the PUT path): URL password', fresh('I'))}@env.example/1`,
  state: `RUNNING password=${addState('state: a pair in the state value', fresh('V'))}`,
  attributes: {
    password: addState('state attributes: secret key', fresh('X')),
    p\u0430ssword: addState('state attributes: look-alike key', fresh('X')),
    dsn: urlWith('postgres', addState('state attributes: URL password', fresh('X'))),
    note: `Authorization: Bearer ${addState('state attributes: Bearer in text', fresh('X'))}`,
    nested: { list: [{ apiKey: addState('state attributes: nested secret key', fresh('X')) }] },
    json: JSON.stringify({ secret: addState('state attributes: JSON inside a string', fresh('X')) }),
  },
};

/** The names of the probes whose secret appears in `text`. */
export function leaks(text: string, set: readonly Probe[] = [...EVENT_PROBES, ...STATE_PROBES]): string[] {
  return set.filter((p) => text.includes(p.secret)).map((p) => p.name);
}

/** Every probe. */
export const ALL_PROBES: readonly Probe[] = [...EVENT_PROBES, ...STATE_PROBES];

/** A value no redaction may touch: readable data beside the secrets stays as it was. */
export const PUBLIC_VALUE = 'ssh-ed25519 AAAAC3Nza public';
