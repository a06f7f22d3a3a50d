/**
 * Parsing `sasl.jaas.config` lines the way the Java client writes them. Errors name where the
 * line came from and the part that is wrong, never an option's value (the password is one).
 */
import { fail } from './problem.js';

/** A parsed JAAS line: the login module class and its options. */
export interface JaasConfig {
  loginModule: string;
  flag: string;
  options: Record<string, string>;
}

/**
 * Parses a `sasl.jaas.config` value such as
 * `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`.
 * Values may be quoted (with `\"` and `\\` escapes) or bare. Errors name `from` and the part
 * that is wrong, never an option's value (the password is one).
 */
export function parseJaasConfig(text: string, from = 'sasl.jaas.config'): JaasConfig {
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && /\s/.test(text[i]!)) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < n && /[A-Za-z0-9_.$-]/.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  skipSpace();
  const loginModule = word();
  if (loginModule === '') fail(from, 'must start with a login module class, e.g. org.apache.kafka.common.security.plain.PlainLoginModule');
  skipSpace();
  const flag = word().toLowerCase();
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag)) {
    fail(from, `the login module ${loginModule} must be followed by a control flag (required)`);
  }
  const options: Record<string, string> = {};
  let optionCount = 0;
  for (;;) {
    skipSpace();
    if (i >= n) fail(from, 'must end with a semicolon (;)');
    if (text[i] === ';') {
      i++;
      break;
    }
    const key = word();
    optionCount++;
    // Name an option only when it is a well-known one: in a malformed line (say, an unescaped
    // quote inside the password) the "option name" may be a piece of the secret.
    const named = KNOWN_JAAS_OPTIONS.has(key) ? `option ${key}` : `option ${optionCount}`;
    if (key === '') fail(from, `unexpected character in option ${optionCount}: expected name="value" or ;`);
    skipSpace();
    if (text[i] !== '=') fail(from, `${named} must be followed by = and a value (are the quotes in a value escaped as \\"?)`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) fail(from, `the value of ${named} has no closing quote (")`);
    } else {
      const start = i;
      while (i < n && !/[\s;]/.test(text[i]!)) i++;
      value = text.slice(start, i);
      if (value === '') fail(from, `${named} has no value`);
    }
    options[key] = value;
  }
  skipSpace();
  if (i < n) fail(from, 'holds more than one login module; Kafka clients take exactly one');
  return { loginModule, flag, options };
}

/** JAAS option names that are safe to quote in error messages. */
const KNOWN_JAAS_OPTIONS = new Set(['username', 'password', 'tokenauth', 'serviceName', 'unsecuredLoginStringClaim_sub']);
