import { ResyncRequiredError } from '../shared/errors';

/** More undelivered events than this means the client cannot keep up: it must reload and resubscribe. */
export const MAX_QUEUED_EVENTS = 5000;

/**
 * A push-based async iterator with cleanup, the transport-agnostic shape of every live
 * stream: producers `push`, `end` or `fail` it; the consumer iterates. `return()` (a client
 * unsubscribing, a socket closing) runs the cleanups at once, even while a `next()` waits,
 * which an async generator cannot do. (@repeaterjs/repeater has the same semantics but
 * starts only on the first `next()` and bounds pending pushes by throwing; here the setup
 * runs before the stream is handed out and a slow consumer ends with RESYNC_REQUIRED.)
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  private ending = false;
  private closed = false;
  private error: unknown = null;
  private readonly cleanups: Array<() => void> = [];

  get isClosed(): boolean {
    return this.closed || this.ending;
  }

  /** Runs `fn` when the stream ends for any reason (at once if it already has). */
  onClose(fn: () => void): void {
    if (this.closed || this.ending) runSafely(fn);
    else this.cleanups.push(fn);
  }

  push(value: T): void {
    if (this.ending || this.closed) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value, done: false });
      return;
    }
    this.queue.push(value);
    if (this.queue.length > MAX_QUEUED_EVENTS) {
      this.queue.length = 0;
      this.fail(new ResyncRequiredError('Too many undelivered events; reload the history and subscribe again.'));
    }
  }

  /** Completes after what is queued has been delivered. */
  end(): void {
    this.finish(null);
  }

  /** Delivers what is queued, then rejects the next `next()` with the error. */
  fail(error: unknown): void {
    this.finish(error);
  }

  private finish(error: unknown): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.error = error;
    this.cleanup();
    if (this.waiter) this.settleWaiter();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    if (this.error !== null) {
      const error = this.error;
      this.error = null;
      waiter.reject(error);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.closed || this.ending) {
      this.closed = true;
      if (this.error !== null) {
        const error = this.error;
        this.error = null;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.error = null;
    this.ending = true;
    this.closed = true;
    this.cleanup();
    this.settleWaiter();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void error;
    return this.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private cleanup(): void {
    for (const fn of this.cleanups.splice(0)) runSafely(fn);
  }
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanups only remove listeners; one failing must not keep the others from running.
  }
}
