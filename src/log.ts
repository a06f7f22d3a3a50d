/** pino loggers; a redaction list keeps secrets out of log lines. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'sasl.password', '*.sasl.password',
  'config.auth', 'auth.apiTokens', 'auth.readTokens',
];

/** A logger writing JSON lines to stderr (stdout stays free for command output). */
export function createLogger(options: { level?: LevelWithSilent; name?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const dest = options.destination ?? 2;
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: options.name ?? 'herald' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : (dest as NodeJS.WritableStream),
  );
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = pino({ level: 'silent' });
