/**
 * `herald connect-health`: a Kubernetes health sidecar for Kafka Connect. Parses flags, starts
 * the sidecar (src/connect-health) and runs until SIGTERM or SIGINT.
 */
import { UsageError } from '../errors.js';
import { parseDuration, parseFlags, parseIntFlag, oneOf, type OptionSpec } from './args.js';
import { createLogger } from '../log.js';
import { DEFAULT_OPTIONS, type ConnectHealthOptions } from '../connect-health/options.js';
import { startConnectHealth } from '../connect-health/sidecar.js';

const OPTIONS = {
  'connect-url': { type: 'string' },
  connector: { type: 'string', multiple: true },
  host: { type: 'string' },
  port: { type: 'string' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  grace: { type: 'string' },
  'worker-id': { type: 'string' },
  'allow-paused': { type: 'boolean' },
  'restart-failed': { type: 'boolean' },
  'max-restarts': { type: 'string' },
  'restart-window': { type: 'string' },
  'restart-backoff': { type: 'string' },
} as const satisfies OptionSpec;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const HELP = `usage: herald connect-health [flags]

Polls the Kafka Connect REST API and answers Kubernetes probes:
  GET /health   200 when every watched connector and task is RUNNING, else 500 with reasons
  GET /ready    200 while the Connect REST API answers (503 before the first poll)
  GET /metrics  Prometheus metrics

flags:
  --connect-url URL       Connect REST API (default ${DEFAULT_OPTIONS.connectUrl}); user:password@ becomes Basic auth
  --connector NAME        connector to watch, repeatable (default: every connector the worker has)
  --host ADDRESS          address to listen on (default ${DEFAULT_OPTIONS.host}; 0.0.0.0 in a pod)
  --port PORT             port to listen on (default ${DEFAULT_OPTIONS.port})
  --interval DURATION     time between polls (default 10s)
  --timeout DURATION      time limit of one request to Connect (default 5s)
  --grace DURATION        how long UNASSIGNED/RESTARTING may last before it is a failure (default 60s)
  --worker-id HOST:PORT   judge and restart only what runs on this worker (distributed Connect, several replicas)
  --allow-paused          PAUSED and STOPPED connectors count as healthy
  --restart-failed        restart failed connectors and tasks through the REST API first
  --max-restarts N        at most N restarts of one connector per --restart-window (default ${DEFAULT_OPTIONS.maxRestarts})
  --restart-window DUR    the window of --max-restarts (default 1h)
  --restart-backoff DUR   first wait between restarts; doubles up to 5m (default 10s)
  --log-level LEVEL       ${LOG_LEVELS.join(', ')} (default info)
`;

/** Turns the command line into sidecar options; throws UsageError naming the bad flag. */
export function parseConnectHealthArgs(argv: string[]): { options: Partial<ConnectHealthOptions> & { connectUrl: string }; logLevel: (typeof LOG_LEVELS)[number]; help: boolean } {
  const { values: v } = parseFlags('connect-health', argv, OPTIONS);
  if (v.config !== undefined) {
    throw new UsageError('herald connect-health takes no --config file; pass its settings as flags', [{ path: '--config', message: 'not supported by connect-health' }]);
  }
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const connectUrl = str('connect-url') ?? DEFAULT_OPTIONS.connectUrl;
  checkUrl(connectUrl);
  const host = str('host');
  if (host !== undefined && host.trim() === '') throw new UsageError('--host must be a host name or address, e.g. 127.0.0.1 or 0.0.0.0', [{ path: '--host', message: 'must not be empty' }]);
  const connectors = (v.connector as string[] | undefined)?.map((c) => c.trim());
  if (connectors?.some((c) => c === '')) throw new UsageError('--connector needs a connector name', [{ path: '--connector', message: 'must not be empty' }]);
  const workerId = str('worker-id');
  if (workerId !== undefined && !/^[^\s:]+:\d+$/.test(workerId)) {
    throw new UsageError(`--worker-id must be the worker's advertised HOST:PORT (as in the worker_id of /connectors/NAME/status), got "${workerId}"`, [{ path: '--worker-id', message: 'must be HOST:PORT' }]);
  }
  const positive = (flag: string): number | undefined => {
    const raw = str(flag);
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw, `--${flag}`);
    if (ms <= 0) throw new UsageError(`--${flag} must be longer than 0, got "${raw}"`, [{ path: `--${flag}`, message: 'must be longer than 0' }]);
    return ms;
  };
  const grace = str('grace');
  const port = str('port');
  const maxRestarts = str('max-restarts');
  const logLevel = oneOf(str('log-level') ?? 'info', LOG_LEVELS, '--log-level');
  return {
    help: v.help === true,
    logLevel,
    options: {
      connectUrl,
      ...(connectors ? { connectors } : {}),
      ...(host !== undefined ? { host } : {}),
      ...(port !== undefined ? { port: parseIntFlag(port, '--port', 0, 65535) } : {}),
      intervalMs: positive('interval'),
      timeoutMs: positive('timeout'),
      ...(grace !== undefined ? { graceMs: parseDuration(grace, '--grace') } : {}),
      ...(workerId !== undefined ? { workerId } : {}),
      allowPaused: v['allow-paused'] === true,
      restartFailed: v['restart-failed'] === true,
      ...(maxRestarts !== undefined ? { maxRestarts: parseIntFlag(maxRestarts, '--max-restarts', 1, 1_000_000) } : {}),
      restartWindowMs: positive('restart-window'),
      restartBackoffMs: positive('restart-backoff'),
    },
  };
}

function checkUrl(raw: string): void {
  let ok = false;
  try {
    const u = new URL(raw);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) {
    // The value may hold a password: name the flag, never echo the value.
    throw new UsageError('--connect-url must be an http:// or https:// URL such as http://127.0.0.1:8083', [{ path: '--connect-url', message: 'must be an http(s) URL' }]);
  }
}

/** Runs the sidecar until SIGTERM or SIGINT; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { options, logLevel, help } = parseConnectHealthArgs(argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const logger = createLogger({ level: logLevel, name: 'herald-connect-health' });
  const sidecar = await startConnectHealth(options, { logger });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
  logger.info({ signal }, `received ${signal}, shutting down`);
  await sidecar.close();
  return 0;
}
