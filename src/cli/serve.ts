/**
 * `herald serve`: the REST API, the event store and (when attached) the outbox relay.
 * Flags override environment variables, which override the config file.
 */
import { LOG_LEVELS } from '../config/schema.js';
import { createLogger } from '../log.js';
import { startService } from '../service/index.js';
import { parseFlags, parseIntFlag } from './args.js';
import { CONFIG_FLAGS, configFromFlags } from './config-flags.js';

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  ...CONFIG_FLAGS,
} as const;

const HELP = `usage: herald serve [--config FILE] [--host HOST] [--port PORT] [--db URL] [--log-level LEVEL]

  --host HOST       bind address (default 127.0.0.1; HERALD_HOST)
  --port PORT       port (default 8080; HERALD_PORT)
  --db URL          sqlite:PATH (default sqlite:./data/herald.db) or postgres://user@host/db (HERALD_DB)
  --config FILE     YAML or JSON configuration (HERALD_CONFIG)
  --log-level LVL   ${LOG_LEVELS.join(', ')}
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('serve', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const host = values.host as string | undefined;
  const port = values.port as string | undefined;
  const server = host !== undefined || port !== undefined
    ? { server: { ...(host !== undefined && { host }), ...(port !== undefined && { port: parseIntFlag(port, '--port', 0, 65535) }) } }
    : {};
  const config = configFromFlags(values, server);
  const logger = createLogger({ level: config.logLevel });
  const service = await startService(config, { logger });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      service.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
