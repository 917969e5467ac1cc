import type { UserSnapshot } from '../domain/snapshots';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { SqlClient, SqlPool } from '../shared/sql';
import * as queries from './account.queries';
import { ActivityAction, recordActivity } from './activity';

/** Whether one user blocked another (for the DIRECT channel rules). */
export interface BlockList {
  isBlocked(db: SqlClient, blockerId: string, blockedId: string): Promise<boolean>;
}

/**
 * Blocking: a blocked user cannot open a DIRECT channel with the blocker nor send in their
 * existing one (send_messages reads user_blocks). Nothing tells the blocked user.
 */
export class BlockService implements BlockList {
  constructor(private readonly sql: SqlPool) {}

  isBlocked(db: SqlClient, blockerId: string, blockedId: string): Promise<boolean> {
    return queries.isBlocked(db, blockerId, blockedId);
  }

  /** True (also when already blocked). */
  async block(scope: RequestScope, userId: string): Promise<boolean> {
    const viewerId = requireViewer(scope).userId;
    const target = await this.requireOther(viewerId, userId);
    await this.sql.transaction(async (tx) => {
      if (await queries.insertBlock(tx, viewerId, target)) await recordActivity(tx, viewerId, ActivityAction.USER_BLOCKED, { ip: scope.ip, userAgent: scope.userAgent });
    });
    return true;
  }

  /** True when there was a block to lift. */
  async unblock(scope: RequestScope, userId: string): Promise<boolean> {
    const viewerId = requireViewer(scope).userId;
    const target = await this.requireOther(viewerId, userId);
    return this.sql.transaction(async (tx) => {
      const removed = await queries.deleteBlock(tx, viewerId, target);
      if (removed) await recordActivity(tx, viewerId, ActivityAction.USER_UNBLOCKED, { ip: scope.ip, userAgent: scope.userAgent });
      return removed;
    });
  }

  list(scope: RequestScope): Promise<UserSnapshot[]> {
    return queries.blockedUsers(this.sql, requireViewer(scope).userId);
  }

  private async requireOther(viewerId: string, userId: string): Promise<string> {
    if (!isUuid(userId)) throw new NotFoundError('User');
    const id = userId.toLowerCase();
    if (id === viewerId.toLowerCase()) throw new BadUserInputError('userId', 'You cannot block yourself.');
    if (!(await queries.findUserById(this.sql, id))) throw new NotFoundError('User');
    return id;
  }
}
