/**
 * What an endpoint's answer means for delivery, as the Standard Webhooks specification and
 * the issue set it out: 2xx acknowledges; 408, 429 and 5xx are transient (retried with
 * backoff, `Retry-After` honoured); 3xx is transient too (redirects are not followed: the
 * message names the new location so the URL can be fixed, and nothing is parked meanwhile);
 * every other 4xx is permanent (the entry is parked with the status and the first bytes of
 * the response). Connection errors and timeouts are transient.
 */
import { HeraldError } from '../../errors.js';
import { certificateProblem, describeCertificateProblem, errorChain, str } from '../shared/tls-errors.js';
import { errorMessage, redactText } from '../shared/url.js';

/** How much of a response body an error quotes. */
export const SNIPPET_BYTES = 256;
/** The longest `Retry-After` honoured; a longer one is cut to it (an endpoint cannot stall a sink for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** The classification of one attempt. */
export interface AttemptFailure {
  permanent: boolean;
  error: HeraldError;
  /**
   * The endpoint as a whole is in trouble (unreachable, timing out, rate limiting, 502-504):
   * the sink starts no further request of the batch.
   */
  endpointDown: boolean;
  /** Wait at least this long before the next request (from `Retry-After`). */
  retryAfterMs?: number;
}

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    ms = t - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** The first bytes of a response body as one readable line (controls escaped, secrets redacted). */
export function snippet(body: Buffer, secrets: readonly string[]): string {
  if (body.length === 0) return '';
  const text = body.subarray(0, SNIPPET_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/\r?\n|\r/g, ' ').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).trim();
  return redactText(line, secrets) + (body.length > SNIPPET_BYTES ? '…' : '');
}

/** Classifies a non-2xx answer. */
export function classifyStatus(status: number, headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer, where: string, secrets: readonly string[], now = Date.now()): AttemptFailure {
  const text = snippet(body, secrets);
  const quoted = text === '' ? '' : `: ${text}`;
  const retryAfterMs = status === 429 || status >= 500 ? parseRetryAfter(headers['retry-after'], now) : undefined;
  const after = retryAfterMs !== undefined ? ` (Retry-After ${Math.ceil(retryAfterMs / 1000)} s)` : '';
  if (status >= 300 && status < 400) {
    const location = headers.location;
    const to = typeof location === 'string' ? redactText(location.slice(0, 200), secrets) : undefined;
    return {
      permanent: false,
      endpointDown: true,
      error: new HeraldError('BROKER_UNAVAILABLE', `POST ${where} answered ${status} (a redirect${to !== undefined ? ` to ${to}` : ''}); redirects are not followed: set the sink's url to the new address${quoted}`),
    };
  }
  if (status === 408 || status === 429 || status >= 500) {
    return {
      permanent: false,
      endpointDown: status === 429 || status === 502 || status === 503 || status === 504,
      error: new HeraldError(status === 408 || status === 504 ? 'TIMEOUT' : 'BROKER_UNAVAILABLE', `POST ${where} answered ${status}${after}${quoted}`),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  const code = status === 401 || status === 403 ? 'BROKER_AUTH' : 'BROKER_REJECTED';
  return { permanent: true, endpointDown: false, error: new HeraldError(code, `POST ${where} answered ${status}${quoted}`) };
}

/** Codes of the HTTP client's errors that mean the time was up. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Classifies a request that got no answer: refused, reset, timed out, TLS failure, bad request shape. */
export function classifyRequestError(err: unknown, where: string, secrets: readonly string[], timeoutMs: number, timedOut: boolean): AttemptFailure {
  const chain = errorChain(err);
  const codes = chain.map((e) => str(e.code));
  if (timedOut || codes.some((c) => TIMEOUT_CODES.has(c)) || chain.some((e) => str((e as { name?: unknown }).name) === 'TimeoutError')) {
    return { permanent: false, endpointDown: true, error: new HeraldError('TIMEOUT', `POST ${where}: no answer within ${timeoutMs} ms`) };
  }
  const cert = certificateProblem(err);
  if (cert !== undefined) {
    return { permanent: false, endpointDown: true, error: new HeraldError('BROKER_AUTH', `TLS with ${where} failed: ${describeCertificateProblem(cert, 'tls.ca')}`) };
  }
  if (codes.includes('UND_ERR_INVALID_ARG')) {
    return { permanent: true, endpointDown: false, error: new HeraldError('BROKER_REJECTED', `POST ${where}: the request cannot be sent: ${errorMessage(err, secrets)}`) };
  }
  const code = codes.find((c) => /^E[A-Z]+$/.test(c) || c.startsWith('UND_ERR_') || c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS'));
  const what = code === 'ECONNREFUSED' ? 'connection refused'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found'
      : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'connection closed by the endpoint'
        : errorMessage(err, secrets);
  return { permanent: false, endpointDown: true, error: new HeraldError('BROKER_UNAVAILABLE', `POST ${where} failed: ${what}${code !== undefined && !what.includes(code) ? ` (${code})` : ''}`) };
}
