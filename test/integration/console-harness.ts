/**
 * Starts the real service (startService: store, outbox, API) with the web console in front,
 * for the console tests. When buildApp() already registers the console plugin, the service
 * answers everything itself; until then a second Fastify app with consolePlugin answers the
 * console's paths (/, /console/*) on the same port, so the page talks to one origin exactly
 * as it will in production.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAuthorizer } from '../../src/api/auth.js';
import type { HeraldConfig } from '../../src/config/schema.js';
import { consolePlugin } from '../../src/console/index.js';
import type { SinkStatusSource } from '../../src/console/index.js';
import { startService, type Service } from '../../src/service/index.js';

/** The browser the tests drive; CI installs it with apt-get install chromium. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * Why browser tests skip, or false when they can run. Only outside CI: under CI (which installs
 * Chromium) a missing browser must fail the run, not hide the tests.
 */
export const browserSkip: string | false = existsSync(CHROMIUM) || process.env.CI === 'true'
  ? false
  : `${CHROMIUM} is missing: install it with "apt-get install -y chromium"`;

let built = false;
/** Builds the console bundle once per test process (the tests run from source, not from a package). */
export function buildConsole(): void {
  if (built) return;
  const r = spawnSync(process.execPath, ['web/console/build.mjs'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`console build failed: ${r.stderr || r.stdout}`);
  built = true;
}

export interface ConsoleServer {
  base: string;
  port: number;
  service: Service;
  /** Whether the service's own app serves the console (buildApp wired the plugin). */
  wired: boolean;
  close(): Promise<void>;
}

/** Starts the service and the console; `port` 0 picks a free one (pass the old one to restart). */
export async function startConsoleServer(config: HeraldConfig, options: { sinks?: SinkStatusSource; port?: number; storeSchema?: string } = {}): Promise<ConsoleServer> {
  buildConsole();
  const service = await startService(config, { listen: false, ...(options.storeSchema !== undefined && { storeSchema: options.storeSchema }) });
  let front: FastifyInstance | undefined;
  let server: Server | undefined;
  try {
    const probe = await service.app.inject({ method: 'GET', url: '/' });
    const wired = probe.statusCode === 200 && /text\/html/.test(String(probe.headers['content-type']));
    if (!wired) {
      const sinks = options.sinks ?? service.pipeline.outbox;
      front = Fastify();
      await front.register(consolePlugin, {
        store: service.store,
        auth: createAuthorizer(config.auth),
        timing: { pollMs: 200, sinksMs: 1000 },
        ...(sinks !== undefined && { sinks }),
      });
      await front.ready();
    }
    const consolePaths = /^\/(\?|$)|^\/console(\/|\?|$)/;
    const app = service.app;
    const frontApp = front;
    server = createServer((req, res) => {
      if (frontApp !== undefined && consolePaths.test(req.url ?? '')) frontApp.routing(req, res);
      else app.routing(req, res);
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    let closing: Promise<void> | undefined;
    return {
      base: `http://127.0.0.1:${port}`,
      port,
      service,
      wired,
      close() {
        closing ??= (async () => {
          // The apps end their open streams in preClose; then the socket can close.
          await frontApp?.close();
          await service.close();
          s.closeAllConnections();
          await new Promise<void>((resolve) => s.close(() => resolve()));
        })();
        return closing;
      },
    };
  } catch (err) {
    await front?.close().catch(() => undefined);
    await service.close().catch(() => undefined);
    server?.close();
    throw err;
  }
}
