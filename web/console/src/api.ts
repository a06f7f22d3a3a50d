/**
 * Talking to Herald: JSON requests and server-sent-event streams, both through fetch() so the
 * read token goes in the Authorization header (EventSource cannot send headers, and a token
 * in a URL ends up in logs). The token lives in sessionStorage: it is gone when the tab is.
 */
const TOKEN_KEY = 'herald.readToken';

/** The read token the user gave in this tab, if any. */
export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token === null || token === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled (private mode): the token then lasts until reload, which is acceptable.
  }
}

/** The server wants a (different) token: 401 or 403. */
export class AuthError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return token === null ? extra : { ...extra, authorization: `Bearer ${token}` };
}

async function failure(res: Response): Promise<Error> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  return res.status === 401 || res.status === 403 ? new AuthError(res.status, message) : new Error(message);
}

/** GET a JSON document. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: headers({ accept: 'application/json' }), ...(signal && { signal }) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** One server-sent message. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Reads a text/event-stream until it ends, the signal aborts or it fails. `onOpen` runs once
 * the server answered 200. Resolves when the server ended the stream (e.g. it shut down), so
 * callers reconnect.
 */
export async function readSse(path: string, handlers: { onOpen?: () => void; onMessage: (m: SseMessage) => void }, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal, cache: 'no-store' });
  if (!res.ok || res.body === null) throw await failure(res);
  handlers.onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) handlers.onMessage({ event, data: data.join('\n'), id });
          event = 'message';
          data = [];
          id = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Waits `ms`, or less when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
