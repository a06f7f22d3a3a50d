#!/usr/bin/env node
/**
 * `herald <command>`: dispatches to one module per command. Each command module exports
 * `run(argv): Promise<number>` (the exit code). Errors become exit codes from the catalogue.
 */
import { formatProblems, isHeraldError } from '../errors.js';

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  serve: { summary: 'REST API, event store and durable outbox relay to the configured sinks', load: () => import('./serve.js') },
  emit: { summary: 'publish one event to a broker, or through a running herald serve (--server)', load: () => import('./emit.js') },
  view: { summary: 'tail events from Kafka topics, NATS subjects or an AMQP exchange', load: () => import('./view.js') },
  tally: { summary: 'observe lifecycle events and serve Prometheus metrics', load: () => import('./tally.js') },
  'connect-health': { summary: 'health sidecar for Kafka Connect connectors (Kubernetes probes)', load: () => import('./connect-health.js') },
  topics: { summary: 'list topics of a Kafka cluster with their settings', load: () => import('./topics.js') },
  replay: { summary: 're-publish stored events to a sink through the outbox', load: () => import('./replay.js') },
  bridge: { summary: 'consume from one transport and publish to a sink through the outbox', load: () => import('./bridge.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: herald <command> [flags]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'global flags: --config FILE (YAML or JSON), --log-level LEVEL, --help',
    'exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`herald: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
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
