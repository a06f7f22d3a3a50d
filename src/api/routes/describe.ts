/**
 * What Herald publishes: the AsyncAPI 3.0 document of the running configuration
 * (`/asyncapi.json`, `/asyncapi.yaml`) and the payload schemas per profile (`/v2/schemas`).
 * Both describe hosts and topics, never credentials; they are read routes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { stringify } from 'yaml';
import { describeConfig, type AsyncApiDocument } from '../../describe/asyncapi.js';
import { schemaCatalogue, schemaEntry, servedSchema, SCHEMA_PATH } from '../../describe/schemas.js';
import type { ApiContext } from '../context.js';
import { errors, named, ref } from '../schemas.js';

const SchemaListItem = named('PayloadSchemaEntry', Type.Object({
  profile: Type.String(),
  name: Type.String(),
  mediaType: Type.String({ description: 'application/schema+json (JSON Schema 2020-12) or text/plain (a .proto)' }),
  description: Type.String(),
  url: Type.String({ description: 'where it is served' }),
}), 'One payload schema of a profile and where it is served');

/** The named schemas of these routes, registered by buildApp (see COMPONENTS in ../schemas.ts). */
export const DESCRIBE_COMPONENTS = [SchemaListItem];

const NAME = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' });

export const describeRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  // The configuration does not change while the service runs: build the document once, on first use.
  let doc: AsyncApiDocument | undefined;
  const document = (): AsyncApiDocument => (doc ??= describeConfig(ctx.config));

  app.get('/asyncapi.json', {
    config: { access: 'read' },
    schema: {
      summary: 'AsyncAPI 3.0 document of what the configured sinks publish (servers, channels, messages, schemas; no credentials)',
      operationId: 'getAsyncApiDocument',
      tags: ['describe'],
      response: {
        200: { description: 'The AsyncAPI document', content: { 'application/json': { schema: Type.Unknown({ description: 'AsyncAPI 3.0 (a JSON object, sent as it is built once)' }) } } },
        ...errors(400, 401, 403),
      },
    },
  }, async (_request, reply) => reply.type('application/json').send(JSON.stringify(document())));

  app.get('/asyncapi.yaml', {
    config: { access: 'read' },
    schema: {
      summary: 'The AsyncAPI document as YAML',
      operationId: 'getAsyncApiDocumentYaml',
      tags: ['describe'],
      response: {
        200: { description: 'The AsyncAPI document', content: { 'application/yaml': { schema: Type.String({ description: 'AsyncAPI 3.0 as YAML' }) } } },
        ...errors(400, 401, 403),
      },
    },
  }, async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(stringify(document(), { aliasDuplicateObjects: false })));

  app.get('/v2/schemas', {
    config: { access: 'read' },
    schema: {
      summary: 'The payload schemas per profile (JSON Schema 2020-12; the .proto for AliECS)',
      operationId: 'listPayloadSchemas',
      tags: ['describe'],
      response: { 200: { ...Type.Array(ref(SchemaListItem)), 'x-response-description': 'Every payload schema' }, ...errors(400, 401, 403) },
    },
  }, async () => schemaCatalogue().map((e) => ({ profile: e.profile, name: e.name, mediaType: e.mediaType, description: e.description, url: `${SCHEMA_PATH}/${e.profile}/${e.name}` })));

  app.get('/v2/schemas/:profile/:name', {
    config: { access: 'read' },
    schema: {
      summary: 'One payload schema: JSON Schema 2020-12 (application/schema+json), or the .proto (text/plain)',
      operationId: 'getPayloadSchema',
      tags: ['describe'],
      params: Type.Object({ profile: NAME, name: NAME }),
      response: {
        200: {
          description: 'The schema',
          content: {
            'application/schema+json': { schema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema 2020-12' }) },
            'text/plain': { schema: Type.String({ description: 'A .proto file (AliECS)' }) },
          },
        },
        ...errors([400, 'The profile or the name is not a name (`details`: `profile`, `name`)'], 401, 403, [404, 'No such profile or schema (`details` says which)']),
      },
    },
  }, async (request, reply) => {
    const entry = schemaEntry(request.params.profile, request.params.name);
    if (entry.text !== undefined) return reply.type('text/plain; charset=utf-8').send(entry.text);
    return reply.type('application/schema+json').send(JSON.stringify(servedSchema(entry)));
  });
};
