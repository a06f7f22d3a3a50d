/**
 * Flag parsing for every command: node:util parseArgs in strict mode, with errors turned into
 * UsageError (exit 2) that name the flag and what is allowed.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { closest } from './suggest.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command accepts. */
export const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * Thrown by parseFlags instead of parsing while `collectFlags` is on: `herald completion`
 * learns every command's flags by running it this way (each command parses its flags before
 * it does anything else), so the completion scripts can never miss a flag a command takes.
 */
export class FlagsCollected extends Error {
  constructor(readonly command: string, readonly options: OptionSpec) {
    super(`flags of herald ${command}`);
  }
}

export const flagCollection = { active: false };

export function parseFlags(command: string, argv: string[], options: OptionSpec, allowPositionals = false): ParsedFlags {
  if (flagCollection.active) throw new FlagsCollected(command, { ...GLOBAL_OPTIONS, ...options });
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, strict: true, allowPositionals });
  } catch (err) {
    const msg = (err as Error).message;
    const m = /'(-{1,2}[^' ]+)/.exec(msg);
    const flag = m?.[1] ?? '';
    const known = Object.keys(options).map((k) => `--${k}`).join(', ');
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const guess = closest(flag.replace(/^-+/, ''), Object.keys({ ...GLOBAL_OPTIONS, ...options }));
      const hint = guess !== undefined ? ` (did you mean --${guess}?)` : '';
      throw new UsageError(`herald ${command}: unknown flag ${flag}${hint}; allowed flags: ${known}, --config, --log-level`, [{ path: flag, message: guess !== undefined ? `unknown flag; did you mean --${guess}?` : 'unknown flag' }]);
    }
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`herald ${command}: ${flag} ${/requires an argument|argument missing/.test(msg) ? 'needs a value' : 'takes no value'}`, [{ path: flag, message: msg }]);
    }
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`herald ${command}: unexpected argument ${/'([^']+)'/.exec(msg)?.[1] ?? ''}; values go after a flag, e.g. --type my.type`);
    }
    throw new UsageError(`herald ${command}: ${msg}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `10s`, `2m`, `1h` (a bare number means seconds). */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag} must be a duration such as 500ms, 10s, 2m or 1h, got "${value}"`, [{ path: flag, message: 'must be a duration (500ms, 10s, 2m, 1h)' }]);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

export function parseIntFlag(value: string, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`, [{ path: flag, message: `must be a whole number from ${min} to ${max}` }]);
  }
  return Number(value);
}

export { parseBrokers } from '../transports/kafka/address.js';

export function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`, [{ path: flag, message: `must be one of ${allowed.join(', ')}` }]);
  }
  return value as T;
}
