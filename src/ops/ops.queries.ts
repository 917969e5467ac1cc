// Every SQL statement of ops: the error_log table, and the readiness probe.
import type { SqlClient } from '../shared/sql';

export interface ErrorLogRow {
  id: string;
  operation: string | null;
  userId: string | null;
  requestId: string | null;
  message: string;
  stack: string | null;
}

export async function insertErrorLog(db: SqlClient, entry: ErrorLogRow): Promise<void> {
  await db.query('insert into error_log (id, at, operation, user_id, request_id, message, stack) values ($1, now(), $2, $3, $4, $5, $6)', [
    entry.id,
    entry.operation,
    entry.userId,
    entry.requestId,
    entry.message,
    entry.stack,
  ]);
}

/** One round trip to PostgreSQL. */
export async function ping(db: SqlClient): Promise<void> {
  await db.query('select 1');
}
