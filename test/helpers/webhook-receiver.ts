/**
 * A real HTTP(S) webhook receiver on loopback for the tests (node:http / node:https, no mock
 * of Herald's code): it records every request as it arrived and answers as the test says —
 * any status and headers, a delay, or no answer at all (hanging). It can be stopped and
 * started again on the same port, to play an endpoint that is down for a while.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string>;
  body: Buffer;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** Set for TLS connections that presented a client certificate: its subject CN. */
  clientCert?: string;
}

/** What the receiver answers to one request. */
export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the request hangs until the client gives up or the receiver stops). */
  hang?: boolean;
  /** Answer after this long. */
  delayMs?: number;
}

export interface ReceiverOptions {
  /** HTTPS with this key and certificate (PEM). */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean };
  /** Fixed port (default: any free one). */
  port?: number;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** How to answer; default 204. Replaced by tests at will. */
  answer: (req: ReceivedRequest, n: number) => Answer | Promise<Answer> = () => ({ status: 204 });
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port = 0;

  constructor(private readonly options: ReceiverOptions = {}) {}

  get port(): number {
    return this.#port;
  }

  /** `http(s)://127.0.0.1:PORT` + path. */
  url(path = '/hooks'): string {
    return `${this.options.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${this.#port}${path}`;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const t = this.options.tls;
    const server: Server = t !== undefined
      ? createHttpsServer({ key: t.key, cert: t.cert, ...(t.ca !== undefined && { ca: t.ca }), requestCert: t.requestCert ?? false, rejectUnauthorized: t.requestCert ?? false }, handler) as unknown as Server
      : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port || this.options.port || 0, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and drops every connection (hanging requests included). */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s === undefined) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const sock of this.#sockets) sock.destroy();
    this.#sockets.clear();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
    const got: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks), at: Date.now(), ...(peer?.subject?.CN !== undefined && { clientCert: peer.subject.CN }) };
    const n = this.requests.push(got) - 1;
    const a = await this.answer(got, n);
    if (a.hang) return;
    if (a.delayMs !== undefined) await new Promise((r) => setTimeout(r, a.delayMs));
    if (res.destroyed) return;
    res.writeHead(a.status ?? 204, a.headers ?? {});
    res.end(a.body ?? '');
  }
}

/**
 * Verifies a request with the `standardwebhooks` package (the specification's own JavaScript
 * library, an independent verifier) and returns the parsed JSON payload; throws when no
 * signature matches. Bodies that are not JSON are verified by re-signing with the library.
 */
export function verifyStandardWebhook(secret: string, r: ReceivedRequest): unknown {
  const wh = new Webhook(secret);
  const headers = { 'webhook-id': r.headers['webhook-id']!, 'webhook-timestamp': r.headers['webhook-timestamp']!, 'webhook-signature': r.headers['webhook-signature']! };
  return wh.verify(r.body.toString('utf8'), headers);
}

const startedReceivers = new Set<WebhookReceiver>();

/** Starts a receiver that stopReceivers() stops (for a test file's after()). */
export async function startReceiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  startedReceivers.add(r);
  return r;
}

/** Stops every receiver startReceiver() started. */
export async function stopReceivers(): Promise<void> {
  for (const r of startedReceivers) await r.stop();
  startedReceivers.clear();
}
