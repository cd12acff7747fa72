/**
 * A request's time budget. Every step of a request checks it before starting, and the whole
 * request races it, so a request ends by its deadline whatever Redis does, even if a command
 * is stuck on a connection to a frozen server.
 */
export class Deadline {
  /** In `performance.now()` time: monotonic, so a clock step cannot stretch a wait. */
  readonly at: number;

  constructor(readonly timeoutMs: number) {
    this.at = performance.now() + timeoutMs;
  }

  get remainingMs(): number {
    return Math.max(0, this.at - performance.now());
  }

  get passed(): boolean {
    return this.remainingMs === 0;
  }

  /**
   * Settles with `work`, or rejects with `expired()` when the deadline passes first. Work left
   * running is not awaited; its eventual failure is swallowed (it has already been reported).
   */
  race<T>(work: Promise<T>, expired: () => Error): Promise<T> {
    work.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(expired()), this.remainingMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Waits `ms`, or until the deadline if that comes first. */
  async sleep(ms: number): Promise<void> {
    const wait = Math.min(ms, this.remainingMs);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
