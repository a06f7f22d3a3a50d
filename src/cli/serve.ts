/**
 * `herald serve`: the REST API, the event store and (when attached) the outbox relay.
 * Flags override environment variables, which override the config file.
 */
import { loadConfig } from '../config/load.js';
import { LOG_LEVELS, type HeraldConfigInput } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { startService, type OutboxFactory } from '../service/index.js';
import { UsageError } from '../errors.js';
import { oneOf, parseFlags, parseIntFlag } from './args.js';

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
} as const;

const HELP = `usage: herald serve [--config FILE] [--host HOST] [--port PORT] [--db URL] [--log-level LEVEL]

  --host HOST       bind address (default 127.0.0.1; HERALD_HOST)
  --port PORT       port (default 8080; HERALD_PORT)
  --db URL          sqlite:PATH (default sqlite:./data/herald.db) or postgres://user@host/db (HERALD_DB)
  --config FILE     YAML or JSON configuration (HERALD_CONFIG)
  --log-level LVL   ${LOG_LEVELS.join(', ')}
`;

/**
 * The outbox relay factory, when the outbox module is present. Loaded lazily so `serve`
 * works (store and API only) before the outbox exists.
 */
async function loadOutbox(logger: Logger): Promise<OutboxFactory | undefined> {
  try {
    const mod = (await import('../outbox/index.js' as string)) as { createOutboxFactory?: () => OutboxFactory; outboxFactory?: OutboxFactory };
    const factory = mod.outboxFactory ?? mod.createOutboxFactory?.();
    if (factory === undefined) logger.warn('the outbox module exports no outboxFactory: events are stored but not relayed to sinks');
    return factory;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /outbox[/\\]index/.test((err as Error).message)) return undefined;
    throw err;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('serve', argv, OPTIONS);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const overrides: HeraldConfigInput = {};
  const host = values.host as string | undefined;
  const port = values.port as string | undefined;
  if (host !== undefined || port !== undefined) {
    overrides.server = { ...(host !== undefined && { host }), ...(port !== undefined && { port: parseIntFlag(port, '--port', 0, 65535) }) };
  }
  if (values.db !== undefined) {
    const db = values.db as string;
    if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(db)) {
      throw new UsageError('--db must be sqlite:PATH or postgres://user@host/db', [{ path: '--db', message: 'must be sqlite:PATH or postgres://user@host/db' }]);
    }
    overrides.store = { url: db };
  }
  if (values['log-level'] !== undefined) overrides.logLevel = oneOf(values['log-level'] as string, LOG_LEVELS, '--log-level');
  const config = loadConfig({ ...(values.config !== undefined && { file: values.config as string }), overrides });
  const logger = createLogger({ level: config.logLevel });

  const outbox = await loadOutbox(logger);
  const service = await startService(config, { logger, ...(outbox !== undefined && { outbox }) });

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
