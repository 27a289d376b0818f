/** FIFO async mutex. */
export class AsyncLock {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  get pending(): number {
    return this.waiting;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const prev = this.tail;
    this.tail = new Promise<void>((r) => (release = r));
    this.waiting++;
    try {
      await prev;
      return await fn();
    } finally {
      this.waiting--;
      release();
    }
  }
}
