/**
 * Waits that end early when something closes (a client leaves, a command is stopped). Racing
 * each wait against one long-lived "closed" promise leaves a reaction on that promise per
 * wait, holding the wait and what it resolved with until the close: a feed that waits once
 * a second leaks all day. Here each wait gets a promise of its own, woken by the close.
 */
export interface Closer {
  readonly closed: boolean;
  close(): void;
  /** `p`'s result, or undefined once closed, whichever comes first. One wait at a time. */
  race<T>(p: Promise<T>): Promise<T | undefined>;
}

export function createCloser(): Closer {
  let closed = false;
  let wake: () => void = () => undefined;
  return {
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      wake();
    },
    race<T>(p: Promise<T>): Promise<T | undefined> {
      if (closed) {
        p.catch(() => undefined);
        return Promise.resolve(undefined);
      }
      return new Promise<T | undefined>((resolve, reject) => {
        wake = () => resolve(undefined);
        p.then(resolve, reject);
      });
    },
  };
}
