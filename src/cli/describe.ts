/**
 * `herald describe`: prints the AsyncAPI 3.0 document of a configuration — what its sinks
 * publish, where and in what shape — without starting a server (the same document as
 * `GET /asyncapi.json`). Credentials are never part of it.
 */
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { describeConfig } from '../describe/asyncapi.js';
import { UsageError } from '../errors.js';
import { oneOf, parseFlags } from './args.js';

const USAGE = `usage: herald describe --config FILE [--format json|yaml]

  --config FILE      YAML or JSON configuration (HERALD_CONFIG): its sinks are described
  --format FORMAT    json (default) or yaml`;

/** Runs `herald describe`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('describe', argv, { format: { type: 'string' } });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const format = oneOf(typeof values.format === 'string' ? values.format : 'json', ['json', 'yaml'] as const, '--format');
  const file = typeof values.config === 'string' ? values.config : process.env.HERALD_CONFIG || undefined;
  if (file === undefined) throw new UsageError('herald describe: --config FILE is required (or HERALD_CONFIG)', [{ path: '--config', message: 'is required' }]);
  const doc = describeConfig(loadConfig({ file }));
  process.stdout.write(format === 'yaml' ? stringify(doc, { aliasDuplicateObjects: false }) : JSON.stringify(doc, null, 2) + '\n');
  return 0;
}
