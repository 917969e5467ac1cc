import { randomUUID } from 'node:crypto';
import type { ErrorDetails, ErrorSink } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { SqlPool } from '../shared/sql';
import { insertErrorLog } from './ops.queries';

/**
 * Stores each unexpected error in `error_log` and logs it; returns the id clients see as
 * `extensions.errorId`. Storing is best effort: a failing database must not hide the error.
 */
export class ErrorRecorder implements ErrorSink {
  private readonly pending = new Set<Promise<void>>();
  /** Unexpected errors recorded since start (for /metrics). */
  recorded = 0;

  constructor(
    private readonly sql: SqlPool,
    private readonly logger: Logger,
  ) {}

  record(error: unknown, details: ErrorDetails = {}): string {
    const id = randomUUID();
    this.recorded += 1;
    const err = error instanceof Error ? error : new Error(String(error));
    this.logger.error({ errorId: id, operation: details.operation, userId: details.userId, requestId: details.requestId, err }, 'unexpected error');
    const write = insertErrorLog(this.sql, {
      id,
      operation: details.operation?.slice(0, 200) ?? null,
      userId: details.userId ?? null,
      requestId: details.requestId ?? null,
      message: err.message.slice(0, 2000),
      stack: err.stack?.slice(0, 8000) ?? null,
    })
      .then(
        () => undefined,
        (storeError: Error) => this.logger.warn({ errorId: id, err: storeError.message }, 'could not store error log entry'),
      )
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
    return id;
  }

  /** Waits for pending writes (before shutdown, and in tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
