/**
 * /v2/events: ingest (one or a batch, atomic), list with filters and counts, get by id; and,
 * beside it, the Assisted Installer's list at its own base path (routes/assisted.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { toEventQuery } from '../query.js';
import { assistedRoutes } from './assisted.js';
import { Accepted, errors, Event, EventsBody, EventsQuery } from '../schemas.js';

/** Every this many accepted events, one info line (a milestone), instead of a line per request. */
const MILESTONE = 10_000;

export const eventsRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  let acceptedSinceStart = 0;
  // Its own plugin: the upstream-compatible list answers errors in the service's shapes.
  await app.register(assistedRoutes, { ctx });

  app.post('/v2/events', {
    config: { access: 'write' },
    schema: {
      summary: 'Ingest one event or a batch (at most 1000), all or nothing',
      tags: ['events'],
      body: EventsBody,
      response: { 202: Accepted, ...errors(400, 401, 403, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const body: unknown = request.body;
    const { events, inserted } = await ctx.ingest.events(body);
    ctx.metrics.eventsAccepted.inc(events.length);
    const before = acceptedSinceStart;
    acceptedSinceStart += events.length;
    if (Array.isArray(body)) ctx.logger.info({ accepted: events.length, inserted }, 'event batch stored');
    else ctx.logger.debug({ id: events[0]!.id, type: events[0]!.type, inserted }, 'event stored');
    if (Math.floor(before / MILESTONE) !== Math.floor(acceptedSinceStart / MILESTONE)) {
      ctx.logger.info({ acceptedSinceStart }, `${Math.floor(acceptedSinceStart / MILESTONE) * MILESTONE} events accepted since start`);
    }
    return reply.code(202).send({ accepted: events.length, ids: events.map((e) => e.id) });
  });

  app.get('/v2/events', {
    config: { access: 'read' },
    schema: {
      summary: 'List events with filters, paging and counts (Event-Count, Severity-Count-* headers)',
      tags: ['events'],
      querystring: EventsQuery,
      response: {
        200: {
          ...Type.Array(Event),
          // @fastify/swagger documents response headers given as a plain name -> schema map.
          headers: {
            'Event-Count': Type.Integer({ description: 'Events matching every filter (ignoring limit/offset)' }),
            'Severity-Count-Info': Type.Integer({ description: 'Events per severity within every filter except severities' }),
            'Severity-Count-Warning': Type.Integer(),
            'Severity-Count-Error': Type.Integer(),
            'Severity-Count-Critical': Type.Integer(),
          },
        },
        ...errors(400, 401, 403, 503),
      },
    },
  }, async (request, reply) => {
    const page = await ctx.store.query(toEventQuery(request.query));
    void reply.headers({
      'Event-Count': String(page.total),
      'Severity-Count-Debug': String(page.severityCounts.debug),
      'Severity-Count-Info': String(page.severityCounts.info),
      'Severity-Count-Warning': String(page.severityCounts.warning),
      'Severity-Count-Error': String(page.severityCounts.error),
      'Severity-Count-Critical': String(page.severityCounts.critical),
    });
    return page.events;
  });

  app.get('/v2/events/:id', {
    config: { access: 'read' },
    schema: {
      summary: 'One event by id',
      tags: ['events'],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) }),
      response: { 200: Event, ...errors(401, 403, 404, 503) },
    },
  }, async (request) => {
    const event = await ctx.store.get(request.params.id);
    if (event === undefined) throw new HeraldError('NOT_FOUND', `no event with id "${request.params.id}"`);
    return event;
  });
};
