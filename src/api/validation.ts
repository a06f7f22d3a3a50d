/**
 * The validator compiler for every route. Event bodies are left to the ingest pipeline (the one
 * validation of every entry point, src/pipeline/ingest.ts), so the API reports the same
 * problems with the same paths as the CLI and the library; everything else goes through Ajv
 * with the route's TypeBox schema, query strings and path parameters with type coercion (they
 * arrive as strings). Failures are ValidationErrors naming the field.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ValidationError } from '../errors.js';
import { ajvProblems, summarize } from '../events/validate.js';
import { EVENTS_BODY } from './schemas.js';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const newAjv = (coerce: boolean) => {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: coerce, useDefaults: true, removeAdditional: false });
  addFormats(ajv);
  ajv.addKeyword(EVENTS_BODY);
  return ajv;
};

const WHAT: Record<string, string> = { body: 'request body', querystring: 'query parameter', params: 'path parameter', headers: 'header' };

/** Builds the Fastify validator compiler (one Ajv per coercion mode and app). */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = newAjv(false);
  const coercing = newAjv(true);
  return ({ schema, httpPart }) => {
    if (httpPart === 'body' && (schema as Record<string, unknown>)[EVENTS_BODY] === true) return (data: unknown) => ({ value: data });
    const part = httpPart ?? 'body';
    const validate: ValidateFunction = (part === 'body' ? strict : coercing).compile(schema as object);
    const what = WHAT[part] ?? part;
    return (data: unknown) => {
      if (part === 'body' && data === undefined) {
        const problems = [{ path: '', message: 'a JSON body is required' }];
        return { error: new ValidationError(`${what}: a JSON body is required`, problems, 'INVALID_REQUEST') };
      }
      if (validate(data)) return { value: data };
      const problems = ajvProblems(validate.errors);
      return { error: new ValidationError(summarize(problems, `invalid ${what}`), problems, 'INVALID_REQUEST') };
    };
  };
}
