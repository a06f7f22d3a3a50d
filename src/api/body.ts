/**
 * The JSON body parser of every route: the bytes must be UTF-8 (invalid sequences are refused,
 * never replaced silently with U+FFFD); then Fastify's own parser (prototype poisoning
 * protection) parses. Nesting depth is not limited here: V8's JSON.parse is not recursive,
 * and the event and entity-state validation (events/validate.ts, iterative) refuses data
 * nested deeper than MAX_DATA_DEPTH with the path of the field, before anything recursive
 * (redaction, encoding, the store) sees it.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';

type StringParser = (request: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => void;

/** Registers the checked parser for application/json and `types` (replacing Fastify's). */
export function registerJsonParser(app: FastifyInstance, types: string[]): void {
  const parse = app.getDefaultJsonParser('error', 'ignore') as unknown as StringParser;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', ...types], { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new ValidationError('request body is not valid UTF-8; send JSON text encoded as UTF-8', [{ path: '', message: 'is not valid UTF-8' }], 'INVALID_REQUEST'));
      return;
    }
    parse(request, bytes.toString('utf8'), done);
  });
}
