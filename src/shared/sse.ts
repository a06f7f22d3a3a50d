/**
 * Writing server-sent events with back-pressure. A live stream reads the store only as fast as
 * its client takes the bytes: each message waits for the socket to drain when its buffer is
 * full, so what a slow client has not read stays in the store, not in this process's memory.
 * A client that takes nothing for `stallMs` is cut off (SseStalled); an EventSource reconnects
 * with Last-Event-ID and resumes where it really stopped reading.
 */
import type { ServerResponse } from 'node:http';

/** The client left its buffer full for longer than allowed. */
export class SseStalled extends Error {
  constructor(readonly stallMs: number) {
    super(`the client read nothing for ${stallMs} ms`);
    this.name = 'SseStalled';
  }
}

export interface SseWriter {
  /**
   * Writes one chunk without waiting. False when the socket's buffer is now full: the caller
   * should drop what it holds (it is still in the store) and `await ready()` before the next.
   */
  write(chunk: string): boolean;
  /** Resolves once the client has taken the buffered bytes (or is gone); SseStalled after stallMs. */
  ready(): Promise<void>;
  /** write() then, if the buffer is full, ready(): for small frames the caller holds nothing for. */
  send(chunk: string): Promise<void>;
  /** False once the client is gone. */
  readonly open: boolean;
}

export function sseWriter(res: ServerResponse, stallMs: number): SseWriter {
  let open = true;
  res.once('close', () => {
    open = false;
  });
  const isOpen = () => open && !res.writableEnded && !res.destroyed;
  // One pair of listeners per wait, both removed when it ends: a feed waits for every full
  // buffer, and what a wait leaves attached (a reaction on a shared "closed" promise once)
  // stays in memory, with its timer, until the client leaves.
  const ready = (): Promise<void> => {
    if (!isOpen() || !res.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const settle = (stalled: boolean) => {
        clearTimeout(timer);
        res.off('drain', drained);
        res.off('close', drained);
        if (stalled) reject(new SseStalled(stallMs));
        else resolve();
      };
      const drained = () => settle(false);
      const timer = setTimeout(() => settle(true), stallMs);
      res.once('drain', drained);
      res.once('close', drained);
    });
  };
  const write = (chunk: string): boolean => (isOpen() ? res.write(chunk) : false);
  return {
    get open() {
      return isOpen();
    },
    write,
    ready,
    async send(chunk) {
      if (!write(chunk)) await ready();
    },
  };
}
