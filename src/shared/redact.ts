/**
 * Herald's one set of secret rules, used for events, entity states, log lines, error messages
 * and configuration echoes alike, with one mask: `[REDACTED]`.
 *
 * - Keys: a key is secret when one of its words is a secret word, compared after Unicode
 *   normalization (NFKC), with invisible characters removed and look-alike letters (Cyrillic,
 *   Greek) folded to Latin, so `pаssword` (Cyrillic а) or `pass\u200bword` are caught too.
 * - Text: credentials in URLs (`scheme://user:pass@host`, passwords with `/` or `@` as people
 *   really type them), `key=value` / `key: value` / `"key":"value"` pairs under secret keys,
 *   `Bearer`/`Basic` credentials, JSON Web Tokens, PEM private keys and well-known token
 *   formats (AWS access key ids, GitHub, Slack, Stripe, Standard Webhooks secrets).
 *
 * Written by hand: the redaction libraries of the ecosystem (pino's redact, fast-redact) mask
 * known paths of objects; none scans free text or normalizes look-alike keys.
 */

export const REDACTED = '[REDACTED]';

/**
 * Secret words matched anywhere inside a normalized key (`dbPassword`, `x-api-key`,
 * `client_secret`, `ssh_private_key`). Long enough never to hide in ordinary words.
 */
const SECRET_PARTS = [
  'password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'accesskey', 'privatekey',
  'credential', 'authorization', 'cookie', 'signature', 'bearer', 'pullsecret', 'sshkey',
  'jwt', 'sessionid', 'sessionkey', 'otpcode', 'mfacode', 'totp', 'hotp',
] as const;

/**
 * Short secret words matched as whole words of a key only (`user_pin`, `otp`, `auth`,
 * `db.pass`), so `spin`, `author` and `passenger` stay readable.
 */
const SECRET_WORDS = new Set(['pw', 'pwd', 'pass', 'pin', 'otp', 'auth', 'session', 'private', 'sig', 'mfa', 'pat', 'psk', 'creds', 'cred']);

/** Keys that hold a secret word but public data. */
const PUBLIC_KEYS = new Set(['sshpublickey', 'publickey', 'pubkey', 'sshpubkey', 'tokentype', 'tokenurl', 'tokenendpoint', 'authmethod', 'authtype']);

/** The built-in words, for docs and tests. */
export const BUILT_IN_SECRET_WORDS: readonly string[] = [...SECRET_PARTS, ...SECRET_WORDS];

/** Latin look-alikes of Cyrillic and Greek letters (the confusables that matter for key names). */
const LOOKALIKES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
};
const LOOKALIKE_RE = new RegExp(`[${Object.keys(LOOKALIKES).join('')}]`, 'g');
/** Format characters (zero-width space/joiners, BOM, soft hyphen...) and combining marks. */
const INVISIBLE = /[\p{Cf}\p{Mn}]/gu;

/** A key as the rules see it: NFKC, invisible characters removed, look-alikes folded, lower case. */
export function canonicalKey(key: string): string {
  // Decomposed first, so accents and other combining marks come off as marks of their own.
  return key.normalize('NFKD').replace(INVISIBLE, '').normalize('NFKC').toLowerCase().replace(LOOKALIKE_RE, (c) => LOOKALIKES[c]!);
}

/** A key's words: split at separators and camelCase humps, canonical. */
function keyWords(key: string): string[] {
  const spaced = key.normalize('NFKD').replace(INVISIBLE, '').normalize('NFKC').replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return canonicalKey(spaced).split(/[^a-z0-9]+/).filter((w) => w !== '');
}

/** Builds the key test with extra secret words (config redact.keys / HERALD_REDACT_KEYS). */
export function secretKeyTest(extra: readonly string[] = []): (key: string) => boolean {
  const parts = [...SECRET_PARTS, ...extra.map((k) => canonicalKey(k).replace(/[^a-z0-9]/g, '')).filter((k) => k.length > 0)];
  const cache = new Map<string, boolean>();
  return (key) => {
    let hit = cache.get(key);
    if (hit !== undefined) return hit;
    const words = keyWords(key);
    const joined = words.join('');
    hit = !(PUBLIC_KEYS.has(joined) || joined.endsWith('publickey') || joined.endsWith('pubkey'))
      && (parts.some((p) => joined.includes(p)) || words.some((w) => SECRET_WORDS.has(w)));
    if (cache.size > 10_000) cache.clear();
    cache.set(key, hit);
    return hit;
  };
}

/** The built-in key test. */
export const isSecretKey = secretKeyTest();

/** `scheme://` followed by the rest of the token (up to white space or a quote/bracket). */
const URL_TOKEN = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>`]+?)(?=,[a-z][a-z0-9+.-]*:\/\/|[\s"'<>`]|$)/gi;
/** What may follow the `@` of user info: a host, an optional port, then the end or a path. */
const HOST_AFTER = /^(\[[0-9a-f:.]+\]|[^\s/?#@:[\]]+)(:\d*)?([/?#,;)]|$)/i;

/**
 * The user info of one URL token (what follows `scheme://`), or -1 when it has none: the last
 * `@` that is followed by a host and preceded by `user:password` (which may hold `/` and `@`
 * as people type them), else the first `@` before any `/` (a token: `nats://TOKEN@host`).
 */
function userInfoEnd(rest: string): number {
  let best = -1;
  for (let i = rest.indexOf('@'); i >= 0; i = rest.indexOf('@', i + 1)) {
    if (!HOST_AFTER.test(rest.slice(i + 1))) continue;
    const before = rest.slice(0, i);
    if (before.includes(':') || !before.includes('/')) best = i;
  }
  return best;
}

/**
 * Removes the credentials of every URL in `text`: `scheme://user:[REDACTED]@host`; a user
 * alone becomes `[REDACTED]` too, since `nats://TOKEN@host` carries a token in that place.
 */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_TOKEN, (m, scheme: string, rest: string) => {
    const at = userInfoEnd(rest);
    if (at < 0) return m;
    const info = rest.slice(0, at);
    const colon = info.indexOf(':');
    const kept = colon >= 0 && !info.slice(0, colon).includes('/') ? `${info.slice(0, colon)}:${REDACTED}` : REDACTED;
    return `${scheme}${kept}${rest.slice(at)}`;
  });
}

/** A key and its separator: `key=`, `key: `, `"key": "`, `key='` (the key test decides). */
const KEY_SEP = /(["']?)([\p{L}\p{N}_.\-\u200b-\u200f\u2060\ufeff]{2,64})\1(\s*[=:]\s*)(["']?)/gu;
/** The value after a secret key: an optional HTTP auth scheme, then up to a delimiter. */
const VALUE = /^(?:(?:Bearer|Basic|Digest|Token|Negotiate)\s+)?[^\s"'&,;)}\]]+/i;

/** Replaces the values of `key=value`-style pairs whose key is secret. */
function redactPairs(text: string, isSecret: (key: string) => boolean): string {
  let out = '';
  let from = 0;
  KEY_SEP.lastIndex = 0;
  for (let m = KEY_SEP.exec(text); m !== null; m = KEY_SEP.exec(text)) {
    const end = m.index + m[0].length;
    if (!isSecret(m[2]!)) continue;
    const value = VALUE.exec(text.slice(end))?.[0];
    if (value === undefined || value.startsWith(REDACTED) || value.startsWith('//')) continue;
    out += text.slice(from, end) + REDACTED;
    from = end + value.length;
    KEY_SEP.lastIndex = from;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** HTTP credentials with their scheme. */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Negotiate)\s+[A-Za-z0-9._~+/=-]{6,}/g;
/** Formats that are secrets whatever their key: JWTs, PEM private keys, well-known token prefixes. */
const KNOWN_SECRETS: RegExp[] = [
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----[\s\S]*?(-----END ([A-Z ]+ )?PRIVATE KEY-----|$)/g,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
  /\b[sr]k_(live|test)_[A-Za-z0-9]{16,}\b/g,
  /\bwhsec_[A-Za-z0-9+/=]{16,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g,
];

/** Redacts secrets in free text (see the module comment); `isSecret` decides for pairs. */
export function redactSecretsInText(text: string, isSecret: (key: string) => boolean = isSecretKey): string {
  let out = redactUrlCredentials(text);
  if (/[=:]/.test(out)) out = redactPairs(out, isSecret);
  if (/Bearer|Basic|Digest|Negotiate/.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  for (const re of KNOWN_SECRETS) out = out.replace(re, REDACTED);
  return out;
}

/**
 * Redacts URL credentials and the given secret values (tokens, passwords a client library may
 * echo back in an error) from a message. Values shorter than 4 characters are ignored: they
 * would hide ordinary words, and real secrets are longer.
 */
export function redactKnownSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = redactSecretsInText(text);
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.split(s).join(REDACTED);
  }
  return out;
}
