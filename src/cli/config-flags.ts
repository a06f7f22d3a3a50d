/**
 * The configuration flags commands that run against the store share (`serve`, `replay`,
 * `bridge`): --config, --db, --log-level; flags override environment variables and the file.
 */
import { loadConfig } from '../config/load.js';
import { LOG_LEVELS, type HeraldConfig, type HeraldConfigInput } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { oneOf } from './args.js';

export const CONFIG_FLAGS = {
  db: { type: 'string' },
} as const;

/** Loads the configuration with --config, --db and --log-level applied (plus `extra` overrides). */
export function configFromFlags(values: Record<string, unknown>, extra: HeraldConfigInput = {}): HeraldConfig {
  const overrides: HeraldConfigInput = { ...extra };
  if (typeof values.db === 'string') {
    if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(values.db)) {
      throw new UsageError('--db must be sqlite:PATH or postgres://user@host/db', [{ path: '--db', message: 'must be sqlite:PATH or postgres://user@host/db' }]);
    }
    overrides.store = { url: values.db };
  }
  if (typeof values['log-level'] === 'string') overrides.logLevel = oneOf(values['log-level'], LOG_LEVELS, '--log-level');
  return loadConfig({ ...(typeof values.config === 'string' && { file: values.config }), overrides });
}

/** The configured sink named by --sink; exit 2 listing the configured names otherwise. */
export function namedSink(config: HeraldConfig, name: unknown): HeraldConfig['sinks'][number] {
  const names = config.sinks.map((s) => s.name);
  if (typeof name !== 'string') {
    throw new UsageError(`--sink is required: the name of a configured sink (${names.length > 0 ? names.join(', ') : 'none configured; add one in --config'})`, [{ path: '--sink', message: 'is required' }]);
  }
  const sink = config.sinks.find((s) => s.name === name);
  if (!sink) {
    throw new UsageError(`--sink "${name}" is not a configured sink; configured: ${names.length > 0 ? names.join(', ') : 'none (add sinks in --config)'}`, [{ path: '--sink', message: 'unknown sink' }]);
  }
  return sink;
}
