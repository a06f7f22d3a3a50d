/**
 * A secret string that never prints, for SASL passwords and key passphrases: they reach the
 * Kafka client only through {@link Secret.reveal}.
 */
import { inspect } from 'node:util';

/**
 * A secret string that never prints: `String(s)`, `JSON.stringify(s)` and `util.inspect(s)`
 * all give `[hidden]`. Call {@link Secret.reveal} only where the value is handed to the client.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret itself. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[hidden]';
  }
  toJSON(): string {
    return '[hidden]';
  }
  [inspect.custom](): string {
    return '[hidden]';
  }
}
