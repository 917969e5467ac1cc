import type { UserSnapshot } from '../domain/snapshots';
import type { RequestScope } from '../shared/context';
import { isUuid } from '../shared/ids';
import type { SqlClient, SqlPool } from '../shared/sql';
import { findUserById, usersByIdLoader } from './account.queries';

/**
 * Users by id for every feature: batched per request (one lookup per id for every `owner`,
 * `author`, `peer`... in a response) and across the requests of the moment (one statement).
 */
export class UserDirectory {
  constructor(private readonly sql: SqlPool) {}

  /** The request's loader (prime it with users read otherwise). */
  loader(scope: RequestScope) {
    const created = !scope.loaders.has('users:byId');
    const loader = scope.loaders.get<string, UserSnapshot | null>('users:byId', async (ids) => {
      const wanted = ids.filter(isUuid);
      const found = wanted.length > 0 ? await usersByIdLoader(this.sql).loadMany(wanted) : [];
      const byId = new Map<string, UserSnapshot | Error | null>(wanted.map((id, index) => [id, found[index]]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    // The viewer's row came with the session (one statement); a write in the request clears it with the rest.
    if (created && scope.viewerUser && scope.viewer && scope.viewerUser.id === scope.viewer.userId) loader.prime(scope.viewerUser.id, scope.viewerUser);
    return loader;
  }

  load(scope: RequestScope, userId: string): Promise<UserSnapshot | null> {
    return this.loader(scope).load(userId);
  }

  /** The users found among `ids` (missing ones left out). */
  async loadMany(scope: RequestScope, ids: readonly string[]): Promise<UserSnapshot[]> {
    const found = await this.loader(scope).loadMany(ids);
    return found.filter((user): user is UserSnapshot => Boolean(user) && !(user instanceof Error));
  }

  /** A fresh read, in the caller's transaction when `db` is one. */
  async find(db: SqlClient, userId: string): Promise<UserSnapshot | null> {
    return isUuid(userId) ? findUserById(db, userId) : null;
  }
}
