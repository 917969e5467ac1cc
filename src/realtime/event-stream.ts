import { ResyncRequiredError } from '../shared/errors';

/** More undelivered events than this means the client cannot keep up: it must reload and resubscribe. */
export const MAX_QUEUED_EVENTS = 5000;

/** Where a stream in push mode delivers: synchronously, in order, nothing after end or error. */
export interface StreamSink<T> {
  next(value: T): void;
  complete(): void;
  error(error: unknown): void;
}

/**
 * A push-based stream with cleanup, the transport-agnostic shape of every live stream:
 * producers `push`, `end` or `fail` it. A consumer either iterates it (an async iterator, for
 * graphql-js and tests) or attaches a sink (`drainTo`), which receives every value in the
 * same turn it is pushed: the graphql-ws server (protocol.ts) does that, so delivering an
 * event to thousands of subscribers costs no promise per subscriber. `return()` (a client
 * unsubscribing, a socket closing) runs the cleanups at once, even while a `next()` waits,
 * which an async generator cannot do. (@repeaterjs/repeater has pull semantics only and
 * starts on the first `next()`; here the setup runs before the stream is handed out and a
 * slow consumer ends with RESYNC_REQUIRED.)
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private queue: T[] | null = null;
  private waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  private sink: StreamSink<T> | null = null;
  private ending = false;
  private closed = false;
  private error: unknown = null;
  private cleanups: Array<() => void> | null = null;
  private released = false;

  get isClosed(): boolean {
    return this.closed || this.ending;
  }

  /** Runs `fn` when the stream ends for any reason (at once if it already has). */
  onClose(fn: () => void): void {
    if (this.closed || this.ending) runSafely(fn);
    else (this.cleanups ??= []).push(fn);
  }

  push(value: T): void {
    if (this.ending || this.closed) return;
    if (this.sink) {
      this.sink.next(value);
      return;
    }
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value, done: false });
      return;
    }
    const queue = (this.queue ??= []);
    queue.push(value);
    if (queue.length > MAX_QUEUED_EVENTS) {
      queue.length = 0;
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

  /**
   * Push mode: what is queued, then every later value, goes to `sink` as it comes; the end
   * or the error follows the last value. Returns false (and delivers nothing) when the
   * stream was already returned.
   */
  drainTo(sink: StreamSink<T>): boolean {
    if (this.closed) return false;
    const queued = this.queue;
    this.queue = null;
    if (queued) for (const value of queued) sink.next(value);
    if (this.ending) {
      this.closed = true;
      const error = this.error;
      this.error = null;
      if (error !== null) sink.error(error);
      else sink.complete();
      return true;
    }
    this.sink = sink;
    return true;
  }

  private finish(error: unknown): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.error = error;
    this.cleanup();
    if (this.sink) {
      const sink = this.sink;
      this.sink = null;
      this.closed = true;
      this.error = null;
      if (error !== null) sink.error(error);
      else sink.complete();
      return;
    }
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
    if (this.queue && this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false });
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
    this.queue = null;
    this.error = null;
    this.sink = null;
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

  /** Subclasses release what they hold here (runs once, when the stream ends for any reason). */
  protected finished(): void {}

  private cleanup(): void {
    const cleanups = this.cleanups;
    this.cleanups = null;
    if (cleanups) for (const fn of cleanups) runSafely(fn);
    if (this.released) return;
    this.released = true;
    try {
      this.finished();
    } catch {
      // Releasing must not fail the stream's end.
    }
  }
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanups only remove listeners; one failing must not keep the others from running.
  }
}
