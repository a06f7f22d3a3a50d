/**
 * The validator compiler for every route. Event bodies go through the event module
 * (batchProblems/eventProblems: one validation for API, CLI and library); everything else
 * through Ajv with the route's TypeBox schema, query strings and path parameters with type
 * coercion (they arrive as strings). Failures are ValidationErrors naming the field.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ValidationError } from '../errors.js';
import { ajvProblems, batchProblems, eventProblems, summarize } from '../events/validate.js';
import { EVENTS_BODY, MAX_BATCH } from './schemas.js';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const newAjv = (coerce: boolean) => {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: coerce, useDefaults: true, removeAdditional: false });
  addFormats(ajv);
  ajv.addKeyword(EVENTS_BODY);
  return ajv;
};

const WHAT: Record<string, string> = { body: 'request body', querystring: 'query parameter', params: 'path parameter', headers: 'header' };

/** Validates one event or a batch the way every Herald entry point does. */
export function eventsBodyProblems(body: unknown) {
  if (Array.isArray(body)) return batchProblems(body, MAX_BATCH);
  return eventProblems(body);
}

/** Builds the Fastify validator compiler (one Ajv per coercion mode and app). */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = newAjv(false);
  const coercing = newAjv(true);
  return ({ schema, httpPart }) => {
    if (httpPart === 'body' && (schema as Record<string, unknown>)[EVENTS_BODY] === true) {
      return (data: unknown) => {
        const problems = eventsBodyProblems(data);
        if (problems.length === 0) return { value: data };
        return { error: new ValidationError(summarize(problems, Array.isArray(data) ? 'invalid batch' : 'invalid event'), problems) };
      };
    }
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
