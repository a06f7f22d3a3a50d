/**
 * `herald completion bash|zsh`: prints a completion script for the shell. The flags are read
 * from the commands themselves (each is run with flag collection on, see args.ts), so a flag
 * added to a command is completed without touching this file. The script is static: the
 * shell never runs herald to complete, so sourcing it costs nothing at shell start.
 */
import { LOG_LEVELS } from '../config/schema.js';
import { SEVERITIES } from '../events/schema.js';
import { UsageError } from '../errors.js';
import { PROFILE_NAMES } from '../profiles/registry.js';
import { FlagsCollected, flagCollection, parseFlags, type OptionSpec } from './args.js';
import { COMMANDS } from './commands.js';

const SHELLS = ['bash', 'zsh'] as const;

/** Values some flags take, completed as words. */
const FLAG_VALUES: Record<string, readonly string[]> = {
  profile: PROFILE_NAMES,
  format: ['pretty', 'json', 'raw', 'table'],
  severity: SEVERITIES,
  mode: ['binary', 'structured'],
  offset: ['beginning', 'end'],
  'log-level': LOG_LEVELS,
};
/** Flags whose value is a file. */
const FILE_FLAGS = new Set(['config', 'input', 'producer-properties', 'creds', 'ca', 'cert', 'key-file']);

export interface CommandFlags {
  name: string;
  summary: string;
  /** Flag name (without --) → takes a value. */
  flags: Record<string, boolean>;
}

/** Every command's flags, learned by running each command with flag collection on. */
export async function commandFlags(): Promise<CommandFlags[]> {
  const out: CommandFlags[] = [];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const mod = await entry.load();
    let options: OptionSpec | undefined;
    flagCollection.active = true;
    try {
      await mod.run([]);
    } catch (err) {
      if (!(err instanceof FlagsCollected)) throw err;
      options = err.options;
    } finally {
      flagCollection.active = false;
    }
    if (options === undefined) throw new Error(`herald ${name} did not parse its flags first`);
    out.push({ name, summary: entry.summary, flags: Object.fromEntries(Object.entries(options).map(([f, o]) => [f, o.type === 'string'])) });
  }
  return out;
}

const words = (list: Iterable<string>) => [...list].join(' ');

export function bashScript(commands: readonly CommandFlags[]): string {
  const names = [...commands.map((c) => c.name), 'help', 'completion'];
  const valueCases = Object.entries(FLAG_VALUES).map(([f, v]) => `    --${f}) COMPREPLY=( $(compgen -W "${words(v)}" -- "$cur") ); return ;;`);
  const perCommand = commands.map((c) => `    ${c.name}) flags="${words(Object.keys(c.flags).map((f) => `--${f}`))}" ;;`);
  const valueFlags = new Set(commands.flatMap((c) => Object.entries(c.flags).filter(([, v]) => v).map(([f]) => `--${f}`)));
  return `# bash completion for herald (herald completion bash).
# Load it now with: source <(herald completion bash)
# or for every shell: herald completion bash > ~/.local/share/bash-completion/completions/herald
_herald() {
  local cur prev cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${words(names)} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
    help) COMPREPLY=( $(compgen -W "${words(commands.map((c) => c.name))}" -- "$cur") ); return ;;
    completion) COMPREPLY=( $(compgen -W "${words(SHELLS)}" -- "$cur") ); return ;;
  esac
  case "$prev" in
${valueCases.join('\n')}
    ${words([...FILE_FLAGS].map((f) => `--${f}`)).replace(/ /g, '|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    ${[...valueFlags].filter((f) => !(f.slice(2) in FLAG_VALUES) && !FILE_FLAGS.has(f.slice(2))).join('|') || '--'}) COMPREPLY=(); return ;;
  esac
  case "$cmd" in
${perCommand.join('\n')}
    *) return ;;
  esac
  COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
}
complete -o default -F _herald herald
`;
}

const zq = (s: string) => s.replace(/[[\]:'\\]/g, (c) => `\\${c}`);

export function zshScript(commands: readonly CommandFlags[]): string {
  const described = commands.map((c) => `    '${c.name}:${zq(c.summary)}'`);
  const perCommand = commands.map((c) => {
    const specs = Object.entries(c.flags).map(([f, takesValue]) => {
      if (!takesValue) return `'--${f}'`;
      const action = FLAG_VALUES[f] !== undefined ? `(${FLAG_VALUES[f]!.join(' ')})` : FILE_FLAGS.has(f) ? '_files' : ' ';
      return `'*--${f}:${f}:${action}'`;
    });
    return `    ${c.name}) _arguments -S ${specs.join(' ')} ;;`;
  });
  return `#compdef herald
# zsh completion for herald (herald completion zsh).
# Load it now with: source <(herald completion zsh)
# or for every shell: herald completion zsh > "\${fpath[1]}/_herald" (then restart zsh)
_herald() {
  local -a commands
  commands=(
${described.join('\n')}
    'help:the flags of one command'
    'completion:print a shell completion script'
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'herald command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
${perCommand.join('\n')}
    help) _describe -t commands 'herald command' commands ;;
    completion) _values 'shell' ${SHELLS.join(' ')} ;;
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _herald "$@"
else
  compdef _herald herald
fi
`;
}

const HELP = `usage: herald completion bash|zsh

Prints a completion script for the shell: commands, every command's flags, and the values of
--profile, --format, --severity, --mode, --offset and --log-level.
  source <(herald completion bash)      # this shell
  herald completion bash > ~/.local/share/bash-completion/completions/herald
  herald completion zsh > "\${fpath[1]}/_herald"`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('completion', argv, {}, true);
  if (values.help === true) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const shell = positionals[0];
  if (shell === undefined || positionals.length > 1 || !(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`give the shell: herald completion ${SHELLS.join('|')}${shell !== undefined ? ` (got "${positionals.join(' ')}")` : ''}`, [{ path: 'shell', message: `must be one of ${SHELLS.join(', ')}` }]);
  }
  const commands = await commandFlags();
  process.stdout.write(shell === 'bash' ? bashScript(commands) : zshScript(commands));
  return 0;
}
