/**
 * Wakes live streams when this process stored events, so they do not wait for their next
 * poll. Streams still poll the store, because other replicas (PostgreSQL) or processes
 * (SQLite: herald replay, bridge) write too.
 */
export interface Notifier {
  /** Resolves at the next notify() or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void>;
  notify(): void;
  /** How many times notify() was called: what was read before a change has an older number. */
  readonly generation: number;
}

export function createNotifier(): Notifier {
  let waiters: Array<() => void> = [];
  let generation = 0;
  return {
    get generation() {
      return generation;
    },
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
      generation += 1;
      const current = waiters;
      waiters = [];
      for (const w of current) w();
    },
  };
}
