/**
 * Work serialised per key: a task starts when the previous task of its key has settled; keys run
 * independently. A failed task rejects its own promise only: the next task of the key still runs.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(() => task());
    // The tail never rejects, so the chain (and its cleanup) raise no unhandled rejection.
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** True while a task of `key` is queued or running. */
  has(key: string): boolean {
    return this.tails.has(key);
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves when every task queued before the call has settled (never rejects). */
  async settled(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
