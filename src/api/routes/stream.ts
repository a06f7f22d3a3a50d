/**
 * GET /v2/events/stream: server-sent events, live, with the list's filters. Each message is
 * one event as JSON with the event id as the SSE id, so a reconnecting EventSource resumes
 * after the last event it saw (Last-Event-ID). Without one, the stream starts at "now"; with
 * one the store no longer holds, it says so (`event: gap`) and starts at now. Writes wait for
 * the client (back-pressure, see shared/sse.ts): a client that reads nothing for
 * server.streamStallMs is cut off and resumes with its Last-Event-ID.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SseStalled, sseWriter } from '../../shared/sse.js';
import type { ApiContext } from '../context.js';
import { toEventQuery } from '../query.js';
import { errors, StreamQuery } from '../schemas.js';

const BATCH = 500;
/** Poll interval for events written by other processes or replicas. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

/**
 * One event's SSE frame: its stored JSON as the data line (JSON text has no raw line breaks),
 * its id as the SSE id. An id with a line break would break the framing: such events go
 * without an SSE id.
 */
const frameOf = (id: string, doc: string): string => `${/[\r\n]/.test(id) ? '' : `id: ${id}\n`}data: ${doc}\n\n`;

/** A page of the tail as frames: built once, when the page is read, for every stream it serves. */
type TailPage = Array<{ seq: number; id: string; frame: string }>;

/**
 * Pages of the store's tail shared by streams with the same filters at the same position: a
 * hundred live clients woken by one write read and parse the new events once. The notifier
 * wakes them together, so they all ask while the first one's read is still in flight; a page
 * is shared only that long (and only while nothing was stored since: the notifier's
 * generation), then let go. Keeping pages for 100 ms after their read, or even until the next
 * turn of the event loop (setImmediate), made them outlive two young-generation collections:
 * V8 moved them to the old generation, and one reader of 10,000 events of 1 KB grew the
 * server's RSS by about 70 MB instead of 30 MB (docs/benchmarks.md, "Stalled live-stream clients").
 */
export class TailPages {
  readonly #pages = new Map<string, { generation: number; page: Promise<TailPage> }>();
  read(key: string, generation: number, load: () => Promise<TailPage>): Promise<TailPage> {
    const hit = this.#pages.get(key);
    if (hit !== undefined && hit.generation === generation) return hit.page;
    const page = load();
    const entry = { generation, page };
    this.#pages.set(key, entry);
    const release = () => {
      if (this.#pages.get(key) === entry) this.#pages.delete(key);
    };
    page.then(release, release);
    return page;
  }

  /** Pages held now (for tests). */
  get size(): number {
    return this.#pages.size;
  }

  clear(): void {
    this.#pages.clear();
  }
}

export const streamRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const open = new Set<ServerResponse>();
  const pages = new TailPages();
  let closing = false;
  app.addHook('preClose', async () => {
    // Hijacked responses would keep server.close() waiting forever: end them first.
    closing = true;
    ctx.notifier.notify();
    for (const res of open) res.end();
  });

  app.get('/v2/events/stream', {
    config: { access: 'read' },
    schema: {
      summary: 'Live events as server-sent events (text/event-stream), same filters as the list; resumes after Last-Event-ID',
      operationId: 'streamEvents',
      tags: ['events'],
      querystring: StreamQuery,
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ description: 'Resume after this event id (what an EventSource sends when it reconnects); wins over `last_event_id`' })),
      }),
      response: {
        200: {
          description: 'The stream: it stays open until the client or the server ends it',
          content: {
            'text/event-stream': {
              schema: Type.String({
                description: 'Server-sent events. Each event is a message with `id: <event id>` and `data: <the Event as JSON>`. '
                  + 'A resume point the store no longer holds gives one `event: gap` message (`data`: `{"code":"RESUME_POINT_GONE","lastEventId","message"}`), then the stream continues from now; '
                  + 'a failing store read gives `event: error` (`data`: `{"error","code"}`) and the stream keeps trying. Comments (`:`) keep the connection alive. '
                  + 'A client that reads nothing for server.streamStallMs is cut off; it resumes with Last-Event-ID.',
              }),
            },
          },
        },
        ...errors(400, 401, 403, 503),
      },
    },
  }, async (request, reply) => {
    const { last_event_id: lastIdParam, ...filters } = request.query;
    const { limit: _l, offset: _o, order: _d, ...q } = toEventQuery(filters);
    const filterKey = JSON.stringify(q);
    const header = request.headers['last-event-id'];
    const lastId = (Array.isArray(header) ? header[0] : header) ?? lastIdParam;
    const resumeSeq = lastId !== undefined ? await ctx.store.seqOf(lastId) : undefined;
    let seq = resumeSeq ?? (await ctx.store.lastSeq());

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const out = sseWriter(res, ctx.config.server.streamStallMs);
    open.add(res);
    request.raw.on('close', () => ctx.notifier.notify());
    let lastWrite = Date.now();
    let lastSent = lastId;
    try {
      if (lastId === undefined) {
        await out.send(': live from now\n\n');
      } else if (resumeSeq !== undefined) {
        await out.send(`: resuming after ${JSON.stringify(lastId)}\n\n`);
      } else {
        // The resume point is gone (an unknown id, or one retention removed): say so in a form
        // a client can act on, instead of silently starting from now.
        await out.send(`event: gap\ndata: ${JSON.stringify({ code: 'RESUME_POINT_GONE', lastEventId: lastId, message: `event ${JSON.stringify(lastId)} is not in the store (unknown id, or removed by retention); the stream continues from now: fetch what you missed with GET /v2/events?since=<time of the last event you have>` })}\n\n`);
      }
      while (out.open && !closing) {
        let batch: TailPage = [];
        try {
          const after = seq;
          batch = await pages.read(`${filterKey}|${after}`, ctx.notifier.generation, async () => (await ctx.store.tailDocs(q, after, BATCH)).map((r) => ({ seq: r.seq, id: r.id, frame: frameOf(r.id, r.doc) })));
        } catch (err) {
          await out.send(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message, code: (err as { code?: string }).code ?? 'STORE_UNAVAILABLE' })}\n\n`);
          lastWrite = Date.now();
        }
        let full = false;
        for (const { seq: s, id, frame } of batch) {
          if (!out.open || closing) break;
          full = !out.write(frame);
          seq = s;
          lastSent = id;
          lastWrite = Date.now();
          if (full) break;
        }
        const pageWasFull = batch.length === BATCH;
        if (full) {
          // A slow client: let go of the rest of the page before waiting (it is in the store and
          // is read again once the client has caught up), so a hundred stalled clients hold
          // nothing but their socket buffers.
          batch = [];
          await out.ready();
          continue;
        }
        if (pageWasFull) continue;
        if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          await out.send(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await ctx.notifier.wait(POLL_MS);
      }
    } catch (err) {
      if (!(err instanceof SseStalled)) throw err;
      // What the client has not read stays in the store; it resumes with its Last-Event-ID.
      request.log.info({ lastEventId: lastSent, stallMs: err.stallMs }, `live stream client cut off: ${err.message}`);
      res.destroy();
    } finally {
      open.delete(res);
      if (open.size === 0) pages.clear();
      if (!res.writableEnded && !res.destroyed) res.end();
    }
  });
};
