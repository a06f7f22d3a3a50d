/** The one way the Kafka security modules report a bad setting: a ConfigError naming the key and its source. */
import { ConfigError } from '../../../errors.js';

/** Throws ConfigError; `from` names the key and its source (`sasl.mechanism in ./kafka.properties`). */
export function fail(from: string, message: string): never {
  const path = from.split(' ')[0] ?? from;
  throw new ConfigError(`${from}: ${message}`, [{ path, message }]);
}
