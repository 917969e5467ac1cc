import type { SqlClient } from '../shared/sql';
import { type ActivityDetails, insertActivity } from './account.queries';
import { ActivityAction } from './activity.entity';

export { ActivityAction, type ActivityDetails };

/** Adds an entry to the user's activity log (within the caller's transaction when `db` is one). */
export function recordActivity(db: SqlClient, userId: string, action: ActivityAction, details: ActivityDetails = {}): Promise<void> {
  return insertActivity(db, userId, action, details);
}
