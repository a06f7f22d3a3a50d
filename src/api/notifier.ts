/**
 * Wakes live streams when this process stored events, so they do not wait for their next
 * poll. Streams still poll the store, because other replicas (PostgreSQL) or processes
 * (SQLite: herald replay, bridge) write too.
 */
export interface Notifier {
  /** Resolves at the next notify() or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void>;
  notify(): void;
}

export function createNotifier(): Notifier {
  let waiters: Array<() => void> = [];
  return {
    wait(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== done);
          resolve();
        }
        waiters.push(done);
      });
    },
    notify() {
      const current = waiters;
      waiters = [];
      for (const w of current) w();
    },
  };
}
