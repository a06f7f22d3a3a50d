/**
 * The probe endpoint: GET /health, /ready and /metrics on node:http. Three read-only routes
 * that answer from memory do not need a framework; node:http keeps the sidecar's start-up and
 * footprint small next to a JVM that already uses most of the pod's memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeraldError } from '../errors.js';
import type { HealthReport } from './types.js';

/** What the endpoint asks the sidecar for, at each request. */
export interface ProbeSource {
  health(): HealthReport;
  /** undefined when ready, else why not. */
  notReady(): string | undefined;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The Connect URL with credentials masked. */
  readonly connectUrl: string;
}

/** A listening probe endpoint. */
export interface ProbeServer {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts listening; rejects with a HeraldError naming --host/--port when the address is taken. */
export async function listenProbeServer(source: ProbeSource, host: string, port: number): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    handle(source, req, res).catch((err: unknown) => {
      send(res, 500, { status: 'error', error: (err as Error).message });
    });
  });
  // Probes are tiny; a slow or stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new HeraldError('INTERNAL', `cannot listen on ${host}:${port} (--host, --port): ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    server,
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function handle(source: ProbeSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const known = path === '/health' || path === '/ready' || path === '/metrics';
  if (!known) {
    send(res, 404, { error: `no route ${path}; try /health, /ready or /metrics` });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, { error: `${req.method} is not allowed on ${path}; use GET` });
    return;
  }
  if (path === '/health') {
    const report = source.health();
    send(res, report.healthy ? 200 : 500, {
      status: report.healthy ? 'healthy' : 'unhealthy',
      connectUrl: source.connectUrl,
      ...(report.lastSuccess ? { lastSuccess: report.lastSuccess } : {}),
      ...(report.healthy ? {} : { reasons: report.reasons }),
      connectors: report.connectors,
    });
  } else if (path === '/ready') {
    const why = source.notReady();
    send(res, why === undefined ? 200 : 503, why === undefined ? { status: 'ready' } : { status: 'starting', reason: why });
  } else {
    const m = await source.metrics();
    res.statusCode = 200;
    res.setHeader('content-type', m.contentType);
    res.end(req.method === 'HEAD' ? undefined : m.body);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
