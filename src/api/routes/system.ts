/** Sinks status, health, readiness and metrics. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { errors, SinkStatusSchema, Status } from '../schemas.js';

export const systemRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/v2/sinks', {
    config: { access: 'read' },
    schema: {
      summary: 'Each sink: enabled, connected, pending (outbox lag), delivered, failed, last error',
      tags: ['sinks'],
      response: { 200: Type.Array(SinkStatusSchema), ...errors(401, 403, 503) },
    },
  }, async () => (ctx.sinks === undefined ? [] : ctx.sinks.status()));

  app.get('/healthz', {
    config: { access: 'open' },
    schema: { summary: 'Liveness: the process is up', tags: ['health'], response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { access: 'open' },
    schema: {
      summary: 'Readiness: the store answers and takes writes (a broker outage does not make Herald unready)',
      tags: ['health'],
      response: { 200: Status, 503: errors(503)[503]! },
    },
  }, async () => {
    if (!(await ctx.store.ping())) {
      throw new HeraldError('STORE_UNAVAILABLE', `the event store (${ctx.store.dialect}) does not answer; check the database is running and reachable`);
    }
    // Answering reads is not enough: a store whose writes fail (a full disk) is not ready.
    const problem = ctx.store.writeProblem;
    if (problem !== undefined) {
      throw new HeraldError('STORE_UNAVAILABLE', `the event store (${ctx.store.dialect}) answers but cannot write: ${problem.message}`);
    }
    return { status: 'ready', store: ctx.store.dialect };
  });

  app.get('/metrics', {
    config: { access: 'open' },
    schema: { summary: 'Prometheus metrics of the service', tags: ['health'], produces: ['text/plain'] },
  }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
};
