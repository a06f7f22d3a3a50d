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

/** Logs at most one warning per interval, with the count of what was suppressed. */
export function rateLimitedWarn(warn: (msg: string) => void, intervalMs = 10_000, now: () => number = Date.now) {
  let last = -Infinity;
  let suppressed = 0;
  return (msg: string) => {
    const t = now();
    if (t - last >= intervalMs) {
      warn(suppressed > 0 ? `${msg} (and ${suppressed} more since the last report)` : msg);
      last = t;
      suppressed = 0;
    } else {
      suppressed++;
    }
  };
}
