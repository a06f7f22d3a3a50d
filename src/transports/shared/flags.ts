/** Reading command-line flag values in a transport's CLI mapping; problems name the flag (exit 2). */
import { UsageError } from '../../errors.js';

/** Parsed flag values of a command (strings, booleans, string lists). */
export type FlagValues = Readonly<Record<string, unknown>>;

/** A string flag, if given. */
export const flag = (values: FlagValues, name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

/** A repeatable flag whose values may also be comma lists; blanks dropped. */
export function flagList(values: FlagValues, name: string): string[] {
  const v = values[name];
  return (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Compiles a `--pattern` regular expression; a bad one is a usage error naming the flag. */
export function parsePattern(value: string, name = '--pattern'): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new UsageError(`${name} is not a valid regular expression: ${(err as Error).message}`, [{ path: name, message: 'must be a regular expression' }]);
  }
}
