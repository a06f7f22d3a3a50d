#!/usr/bin/env node
/**
 * `herald <command>`: dispatches to one module per command. Each command module exports
 * `run(argv): Promise<number>` (the exit code). Errors become exit codes from the catalogue.
 *
 * Start-up matters (people script `herald emit` in loops): this module imports only the error
 * catalogue, and each command is a dynamic import, so `herald --help` and `--version` read
 * nothing else and a command loads only what it uses (see scripts/build-cli.mjs).
 */
import { readFileSync } from 'node:fs';
import { formatProblems, isHeraldError } from '../errors.js';
import { COMMANDS, type CommandEntry } from './commands.js';
import { closest } from './suggest.js';

export type { CommandModule } from './commands.js';

/** The commands, and `completion` (which reads the others' flags, so it is not one of COMMANDS). */
const ALL: Record<string, CommandEntry> = {
  ...COMMANDS,
  completion: { summary: 'print a shell completion script: herald completion bash|zsh', load: () => import('./completion.js') },
};

/** The package version (package.json sits two levels above this module, in src/ and dist/ alike). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export function usage(): string {
  const width = Math.max(...Object.keys(ALL).map((c) => c.length));
  return [
    'usage: herald <command> [flags]',
    '       herald help <command>    the flags of one command (same as herald <command> --help)',
    '',
    'commands:',
    ...Object.entries(ALL).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'global flags: --config FILE (YAML or JSON), --log-level LEVEL, --help; herald --version (-V)',
    'exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration',
  ].join('\n');
}

function unknownCommand(name: string): number {
  const guess = closest(name, Object.keys(ALL));
  process.stderr.write(`herald: unknown command "${name}"${guess !== undefined ? ` (did you mean "${guess}"?)` : ''}; commands: ${Object.keys(ALL).join(', ')}\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`herald ${version()}\n`);
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    // `herald help emit` is `herald emit --help`.
    name = rest[0]!;
    rest = ['--help'];
    if (!Object.hasOwn(ALL, name)) return unknownCommand(name);
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(ALL, name)) return unknownCommand(name);
  const command = ALL[name]!;
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    if (isHeraldError(err)) {
      const details = err.details.length > 1 ? '\n' + formatProblems(err.details) : '';
      process.stderr.write(`herald ${name}: ${err.message.replace(new RegExp(`^herald ${name}: `), '')}${details}\n`);
      return err.exitCode;
    }
    process.stderr.write(`herald ${name}: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

// Run when executed as the bin (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/(?:^|[/\\])(?:main\.(?:js|ts)|herald)$/.test(invoked)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(String(err) + '\n');
      process.exitCode = 1;
    },
  );
}
