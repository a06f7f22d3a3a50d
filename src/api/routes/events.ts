/**
 * /v2/events: ingest (one or a batch, atomic), list with filters and counts, get by id; and,
 * beside it, the Assisted Installer's list at its own base path (routes/assisted.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import { SEVERITIES } from '../../events/schema.js';
import type { ApiContext } from '../context.js';
import { toEventQuery } from '../query.js';
import { assistedRoutes } from './assisted.js';
import { Accepted, errors, Event, EventPage, EventsBody, EventsQuery, ref } from '../schemas.js';

/** The list's count headers, one per severity, in the order they are sent. */
const SEVERITY_HEADERS = SEVERITIES.map((s) => [`Severity-Count-${s[0]!.toUpperCase()}${s.slice(1)}`, s] as const);

const count = (description: string) => Type.Integer({ minimum: 0, description });

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
      description: 'The answer 202 comes once the events are durably stored (with an outbox, their deliveries too). A bad event rejects the whole request: 400 with every problem and its path (`[3].type` in a batch). An id already stored is accepted again and stored once (safe retries).',
      operationId: 'ingestEvents',
      tags: ['events'],
      // Only read by the OpenAPI generator: the media types the JSON parser takes (app.ts).
      consumes: ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'],
      body: EventsBody,
      response: {
        202: ref(Accepted, { description: 'Stored' }),
        ...errors(
          [400, 'An event is invalid (INVALID_EVENT: `details` lists every problem with its path, `[3].type` in a batch), or the body is not JSON, not UTF-8 or empty (INVALID_REQUEST)'],
          401, 403, 413, 415, 503, 507,
        ),
      },
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
      operationId: 'listEvents',
      tags: ['events'],
      querystring: EventsQuery,
      response: {
        // @fastify/swagger documents response headers given as a plain name -> schema map.
        200: ref(EventPage, {
          description: 'One page of the matching events, with the counts in the headers',
          headers: {
            'Event-Count': count('Events matching every filter, ignoring limit and offset'),
            ...Object.fromEntries(SEVERITY_HEADERS.map(([name, severity]) => [name, count(`Events of severity ${severity} matching every filter except severities (the counts of the other severities stay visible), ignoring limit and offset`)])),
          },
        }),
        ...errors([400, 'A query parameter is invalid (`details` names it: a negative or too large `limit`, an unknown `order` or severity, a date that is not RFC 3339, `since` after `until`, an Assisted alias with `entity_kind`/`entity_id`)'], 401, 403, 503),
      },
    },
  }, async (request, reply) => {
    const page = await ctx.store.query(toEventQuery(request.query));
    void reply.headers({
      'Event-Count': String(page.total),
      ...Object.fromEntries(SEVERITY_HEADERS.map(([name, severity]) => [name, String(page.severityCounts[severity])])),
    });
    return page.events;
  });

  app.get('/v2/events/:id', {
    config: { access: 'read' },
    schema: {
      summary: 'One event by id',
      operationId: 'getEvent',
      tags: ['events'],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 255, description: 'The event id' }) }),
      response: {
        200: ref(Event, { description: 'The event' }),
        ...errors([400, 'The id is longer than 255 characters (`details`: `id`)'], 401, 403, [404, 'No event with this id (never stored, or removed by retention)'], 503),
      },
    },
  }, async (request) => {
    const event = await ctx.store.get(request.params.id);
    if (event === undefined) throw new HeraldError('NOT_FOUND', `no event with id "${request.params.id}"`);
    return event;
  });
};
