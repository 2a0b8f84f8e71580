/**
 * A bounded semaphore with a bounded wait queue: at most `limit` holders, at
 * most `queue` waiters, and `acquire()` answers `null` at once when both are
 * full, so the server can say 503 instead of piling up work it cannot finish.
 *
 * @module
 */

/** Limits of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Concurrent holders. */
  limit: number;
  /** Waiters allowed to queue once `limit` is reached. */
  queue: number;
}

/** Counting semaphore with a bounded FIFO queue. */
export class Semaphore {
  readonly #limit: number;
  readonly #queueLimit: number;
  #active = 0;
  #waiters: (() => void)[] = [];

  constructor(options: SemaphoreOptions) {
    if (!(options.limit >= 1) || !(options.queue >= 0)) {
      throw new RangeError("Cannot create semaphore: limit must be at least 1, queue at least 0");
    }
    this.#limit = options.limit;
    this.#queueLimit = options.queue;
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Waiters right now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for a slot. Resolves to a release function (idempotent), or to
   * `null` without waiting when every slot and queue place is taken.
   */
  acquire(): Promise<(() => void) | null> | (() => void) | null {
    if (this.#active < this.#limit) {
      this.#active++;
      return this.#releaser();
    }
    if (this.#waiters.length >= this.#queueLimit) return null;
    return new Promise((resolve) => {
      // The slot is handed over directly by release(), so #active stays counted.
      this.#waiters.push(() => resolve(this.#releaser()));
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#active--;
    };
  }
}
