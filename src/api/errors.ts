/**
 * One mapping from anything thrown in a request to Herald's error catalogue, so every error
 * response has the same JSON body `{error, code, details?}` and the status of its code.
 */
import { HeraldError, ValidationError } from '../errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** Seconds a client should wait before retrying, by code (the `Retry-After` header). */
export const RETRY_AFTER_SECONDS: Partial<Record<HeraldError['code'], number>> = {
  STORE_UNAVAILABLE: 2,
  CLOSED: 2,
  STORE_FULL: 30,
};

/** Converts Fastify's own errors (body parsing, limits) and unknown errors into HeraldErrors. */
export function toHeraldError(err: unknown, bodyLimit: number): HeraldError {
  if (err instanceof HeraldError) return err;
  const e = (err ?? {}) as FastifyLikeError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HeraldError('PAYLOAD_TOO_LARGE', `request body is larger than ${bodyLimit} bytes (server.bodyLimit); send fewer events per request`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HeraldError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type; send the body as application/json (or application/cloudevents+json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('request body is empty; send a JSON document', [{ path: '', message: 'body is empty' }], 'INVALID_REQUEST');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError(`request body is not valid JSON: ${e.message ?? ''}`.trim(), [{ path: '', message: 'is not valid JSON' }], 'INVALID_REQUEST');
    // @fastify/static (the /docs assets) refuses odd names (`..`, NUL, `\`, too long) with 403 or
    // 500: to a client such a file simply does not exist.
    case 'FST_STATIC_FORBIDDEN_PATH':
    case 'ENAMETOOLONG':
    case 'ENOENT':
    case 'EISDIR':
    case 'ENOTDIR':
    case 'ERR_INVALID_ARG_VALUE':
      return new HeraldError('NOT_FOUND', 'no such file');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationError('Content-Length does not match the body', [{ path: 'Content-Length', message: 'does not match the body' }], 'INVALID_REQUEST');
    default:
      break;
  }
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
    return new ValidationError(`request body is not valid JSON: ${e.message ?? ''}`.trim(), [{ path: '', message: 'is not valid JSON' }], 'INVALID_REQUEST');
  }
  switch (e.statusCode) {
    case 400: return new HeraldError('INVALID_REQUEST', e.message ?? 'bad request');
    case 403: case 404: return new HeraldError('NOT_FOUND', 'not found');
    case 413: return new HeraldError('PAYLOAD_TOO_LARGE', `request body is larger than ${bodyLimit} bytes (server.bodyLimit)`);
    case 415: return new HeraldError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type; send application/json');
    default: return new HeraldError('INTERNAL', 'internal error; the server log has the details', { cause: err });
  }
}
