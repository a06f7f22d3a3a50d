/** /v2/entities: the entity state registry. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { EntitiesQuery, Entity, EntityParams, errors, ref, StateBody, StateResult } from '../schemas.js';

export const entitiesRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.put('/v2/entities/:kind/:id/state', {
    config: { access: 'write' },
    schema: {
      summary: 'Set the state of an entity; publishes leave/enter/list notifications',
      operationId: 'setEntityState',
      tags: ['entities'],
      params: EntityParams,
      body: StateBody,
      response: {
        200: ref(StateResult, { description: 'The entity before and after, and the notifications stored' }),
        ...errors([400, 'The kind, the id or the body is invalid (`details` names the field: `kind`, `state`, `attributes.x`)'], 401, 403, 413, 415, 503, 507),
      },
    },
  }, async (request) => {
    const { kind, id } = request.params;
    const attributes = request.body.attributes as Record<string, unknown> | undefined;
    const change = await ctx.ingest.state({ kind, id, state: request.body.state, ...(attributes !== undefined && { attributes }) });
    ctx.metrics.stateChanges.inc();
    if (change.events.length > 0) {
      // The record's kind and id, not the path's: they are redacted.
      const { kind: k, id: i } = change.current;
      ctx.logger.info({ kind: k, id: i, previous: change.previous?.state ?? null, state: change.current.state, events: change.events.length }, `${k} ${i} is now ${change.current.state}`);
    }
    return { previous: change.previous, current: change.current, events: change.events.map((e) => e.id) };
  });

  app.get('/v2/entities', {
    config: { access: 'read' },
    schema: {
      summary: 'Entities with their current state',
      operationId: 'listEntities',
      tags: ['entities'],
      querystring: EntitiesQuery,
      response: {
        200: { ...Type.Array(ref(Entity)), 'x-response-description': 'The entities, filtered by kind and state' },
        ...errors(400, 401, 403, 503),
      },
    },
  }, async (request) => ctx.store.listEntities({
    ...(request.query.kind !== undefined && { kind: request.query.kind }),
    ...(request.query.state !== undefined && { state: request.query.state }),
  }));
};
