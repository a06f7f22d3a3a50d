/**
 * The web console as a Fastify plugin: the page and its assets (GET /, GET /console/*) and
 * the console's live feed (GET /console/live, see live.ts). Events reach the page through the
 * public GET /v2/events/stream; the page reads it with fetch() rather than EventSource, so
 * read tokens travel in the Authorization header and never in a URL (URLs end up in logs and
 * browser history).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { HeraldError } from '../errors.js';
import { SseStalled, sseWriter } from '../shared/sse.js';
import type { EventStore } from '../store/types.js';
import { loadConsoleAssets, type ConsoleAsset } from './assets.js';
import { DEFAULT_LIVE_TIMING, runLiveFeed, SinkSampler, type LiveTiming, type SinkStatusSource, type Wakeup } from './live.js';
import { createCloser } from '../shared/closer.js';

/** What the plugin needs of the API's authorizer: a read check that throws when refused. */
export interface ReadCheck {
  check(access: 'read', authorization: string | undefined): void;
}

export interface ConsolePluginOptions {
  store: EventStore;
  /** Sink status for the sinks panel (the outbox's SinkRouting); without it the panel is empty. */
  sinks?: SinkStatusSource;
  /**
   * Checks read access for the live feed. Inside buildApp() the app's onRequest hook already
   * does (the route is marked `access: 'read'`); pass the authorizer when the plugin is
   * registered on an app without that hook.
   */
  auth?: ReadCheck;
  /** Wakes the live feed when this process stored events (the API's notifier); else it polls. */
  wakeup?: Wakeup;
  /** Directory of the built console (default: dist/console/assets of this package). */
  assetsDir?: string;
  /** Poll, sink-status and heartbeat intervals (tests shorten them). */
  timing?: Partial<LiveTiming>;
  /** How long a live-feed client may leave its buffer full before it is cut off (server.streamStallMs). */
  stallMs?: number;
}

const sleeper: Wakeup = { wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

const NOT_BUILT = 'the web console is not built: run "npm run build:console" (npm run build does it too)';

function sendAsset(reply: FastifyReply, asset: ConsoleAsset) {
  return reply
    .header('content-type', asset.contentType)
    .header('cache-control', asset.cacheControl)
    .header('x-content-type-options', 'nosniff')
    .send(asset.body);
}

/** The live feed in the OpenAPI document (errors are added by the API's document, when it is in one). */
const LIVE_SCHEMA: FastifySchema = {
  summary: 'The web console\'s live feed (entities, sinks) as server-sent events',
  operationId: 'streamConsoleLive',
  tags: ['console'],
  response: {
    200: {
      description: 'The feed: it stays open until the client or the server ends it',
      content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-sent events: `entities` (the whole board, once), `entity` (one entity after a state change), `sinks-history` (recent samples, once) and `sinks` (every sink, at each sample)' } } },
    },
  },
};

/** Registers the console: GET /, GET /console/:file and GET /console/live. */
export const consolePlugin: FastifyPluginAsync<ConsolePluginOptions> = async (app, options) => {
  const { store, sinks, auth } = options;
  const timing: LiveTiming = { ...DEFAULT_LIVE_TIMING, ...options.timing };
  const wakeup = options.wakeup ?? sleeper;
  const stallMs = options.stallMs ?? 30_000;
  const assets = loadConsoleAssets(options.assetsDir);
  const sampler = new SinkSampler(sinks, timing.sinksMs);
  app.addHook('onClose', async () => sampler.stop());

  const page = (_request: FastifyRequest, reply: FastifyReply) => {
    const index = assets.get('index.html');
    if (index === undefined) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    // The page itself holds no data (that needs a read token); a strict CSP keeps injected
    // markup from running even if an event's text were ever rendered as HTML by mistake.
    return sendAsset(reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"), index);
  };
  app.get('/', { config: { access: 'open' }, schema: { hide: true } }, page);
  app.get('/console', { config: { access: 'open' }, schema: { hide: true } }, page);

  app.get<{ Params: { file: string } }>('/console/:file', { config: { access: 'open' }, schema: { hide: true } }, async (request, reply) => {
    const asset = request.params.file === 'index.html' ? undefined : assets.get(request.params.file);
    if (asset === undefined) {
      return reply.code(404).send({ error: `no console file "${request.params.file}"`, code: 'NOT_FOUND' });
    }
    return sendAsset(reply, asset);
  });

  const open = new Set<ServerResponse>();
  let closing = false;
  app.addHook('preClose', async () => {
    // Hijacked responses would keep server.close() waiting: end them first.
    closing = true;
    for (const res of open) res.end();
  });

  app.get('/console/live', {
    config: { access: 'read' },
    schema: LIVE_SCHEMA,
  }, async (request, reply) => {
    if (auth !== undefined) {
      try {
        auth.check('read', request.headers.authorization);
      } catch (err) {
        if (!(err instanceof HeraldError)) throw err;
        if (err.code === 'UNAUTHORIZED') void reply.header('WWW-Authenticate', 'Bearer');
        return reply.code(err.status).send(err.toJSON());
      }
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const out = sseWriter(res, stallMs);
    await out.send(': herald console live feed\n\n');
    open.add(res);
    const left = createCloser();
    request.raw.on('close', () => left.close());
    try {
      await runLiveFeed({
        store,
        sampler,
        timing,
        wakeup: { wait: async (ms) => { await left.race(wakeup.wait(ms)); } },
        write: (chunk) => out.send(chunk),
        isOpen: () => out.open && !closing,
      });
    } catch (err) {
      if (err instanceof SseStalled) {
        // The page reconnects by itself and reads the board anew.
        request.log.info({ stallMs: err.stallMs }, `console live feed cut off: ${err.message}`);
        res.destroy();
      } else {
        request.log.warn({ err }, 'console live feed stopped');
      }
    } finally {
      open.delete(res);
      if (!res.writableEnded && !res.destroyed) res.end();
    }
  });
};

export default consolePlugin;
