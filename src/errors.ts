/**
 * Herald's one error catalogue. Every error Herald raises on purpose is a HeraldError with a
 * code from this closed list; the CLI maps codes to exit codes and the API to HTTP status
 * codes from the same table, so the two never disagree.
 */

/** A problem with one field of an input, named by its path (`data.user.name`, `sinks[0].brokers`). */
export interface FieldProblem {
  path: string;
  message: string;
}

export const ERROR_CODES = {
  /** An event (or a batch) failed validation. */
  INVALID_EVENT: { status: 400, exit: 2 },
  /** A request parameter, query string or body shape is wrong. */
  INVALID_REQUEST: { status: 400, exit: 2 },
  /** Command-line usage: unknown flag, bad flag value, missing argument. */
  USAGE: { status: 400, exit: 2 },
  /** Configuration (file, environment, producer properties) is invalid. */
  CONFIG: { status: 500, exit: 2 },
  /** Missing bearer token. */
  UNAUTHORIZED: { status: 401, exit: 1 },
  /** Bearer token given but not accepted. */
  FORBIDDEN: { status: 403, exit: 1 },
  NOT_FOUND: { status: 404, exit: 1 },
  PAYLOAD_TOO_LARGE: { status: 413, exit: 1 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 1 },
  /** The store (SQLite/PostgreSQL) cannot be reached right now; retry later (the API sends Retry-After). */
  STORE_UNAVAILABLE: { status: 503, exit: 1 },
  /** The store has no space left (disk full, PostgreSQL disk_full); writes fail until space returns. */
  STORE_FULL: { status: 507, exit: 1 },
  /** A broker could not be reached in time, refused the connection, or timed out. */
  BROKER_UNAVAILABLE: { status: 503, exit: 1 },
  /** The broker rejected a message permanently (too large, invalid topic, not authorised). */
  BROKER_REJECTED: { status: 502, exit: 1 },
  /** Authentication with a broker failed (wrong credentials, untrusted certificate). */
  BROKER_AUTH: { status: 502, exit: 1 },
  /** A message could not be decoded by any known format. */
  DECODE: { status: 400, exit: 1 },
  /** An operation did not finish within its time limit. */
  TIMEOUT: { status: 504, exit: 1 },
  /** A resource was used after close(). */
  CLOSED: { status: 503, exit: 1 },
  INTERNAL: { status: 500, exit: 1 },
} as const satisfies Record<string, { status: number; exit: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface HeraldErrorOptions {
  cause?: unknown;
  details?: FieldProblem[];
}

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldProblem[];

  constructor(code: ErrorCode, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.details = options.details ?? [];
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** The JSON body the API returns for this error. */
  toJSON(): { error: string; code: ErrorCode; details?: FieldProblem[] } {
    return this.details.length > 0
      ? { error: this.message, code: this.code, details: this.details }
      : { error: this.message, code: this.code };
  }
}

/** Validation failure of an event or a batch; `details` lists every problem with its path. */
export class ValidationError extends HeraldError {
  constructor(message: string, details: FieldProblem[], code: 'INVALID_EVENT' | 'INVALID_REQUEST' = 'INVALID_EVENT') {
    super(code, message, { details });
    this.name = 'ValidationError';
  }
}

/** Bad command-line usage; the message names the flag and what is allowed. */
export class UsageError extends HeraldError {
  constructor(message: string, details: FieldProblem[] = []) {
    super('USAGE', message, { details });
    this.name = 'UsageError';
  }
}

/** Invalid configuration; the message names the key or variable and what is allowed. */
export class ConfigError extends HeraldError {
  constructor(message: string, details: FieldProblem[] = []) {
    super('CONFIG', message, { details });
    this.name = 'ConfigError';
  }
}

export function isHeraldError(err: unknown): err is HeraldError {
  return err instanceof HeraldError;
}

/** Renders problems as indented lines for terminal output. */
export function formatProblems(details: FieldProblem[]): string {
  return details.map((d) => `  - ${d.path || '(root)'}: ${d.message}`).join('\n');
}
