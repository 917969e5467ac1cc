import type { UserSnapshot } from '../domain/snapshots';
import { type RequestScope, viewerRow } from '../shared/context';
import { isUuid } from '../shared/ids';
import type { SqlClient, SqlPool } from '../shared/sql';
import { findUserById, usersByIdLoader } from './account.queries';
import type { ProfileCache } from './profile-cache';

/**
 * Users by id for every feature: from this instance's copy of profiles when it has them
 * (profile-cache.ts), else batched per request (one lookup per id for every `owner`,
 * `author`, `peer`... in a response) and across the requests of the moment (one statement).
 */
export class UserDirectory {
  constructor(
    private readonly sql: SqlPool,
    /** Null: every lookup reads PostgreSQL. */
    private readonly profiles: ProfileCache | null = null,
  ) {}

  /** The request's loader (prime it with users read otherwise). */
  loader(scope: RequestScope) {
    const created = !scope.loaders.has('users:byId');
    const loader = scope.loaders.get<string, UserSnapshot | null>('users:byId', async (ids) => {
      const wanted = ids.filter(isUuid);
      const epoch = this.profiles?.epoch ?? 0;
      const found = wanted.length > 0 ? await usersByIdLoader(this.sql).loadMany(wanted) : [];
      const byId = new Map<string, UserSnapshot | Error | null>(wanted.map((id, index) => [id, found[index]]));
      this.profiles?.fill(found.filter((user): user is UserSnapshot => Boolean(user) && !(user instanceof Error)), epoch);
      return ids.map((id) => byId.get(id) ?? null);
    });
    // The viewer's row came with the session (one statement); a write in the request clears it with the rest.
    const own = viewerRow(scope);
    if (created && own && scope.viewer && own.id === scope.viewer.userId) loader.prime(own.id, own);
    return loader;
  }

  load(scope: RequestScope, userId: string): Promise<UserSnapshot | null> {
    const known = this.copied(scope, userId);
    return known ? Promise.resolve(known) : this.loader(scope).load(userId);
  }

  /** The users found among `ids` (missing ones left out), in no particular order. */
  async loadMany(scope: RequestScope, ids: readonly string[]): Promise<UserSnapshot[]> {
    const known: UserSnapshot[] = [];
    let unknown: string[] | null = null;
    for (const id of ids) {
      const user = this.copied(scope, id);
      if (user) known.push(user);
      else (unknown ??= []).push(id);
    }
    if (unknown === null) return known;
    // The viewer's own row is primed in the request's loader: not a statement either.
    for (const user of await this.loader(scope).loadMany(unknown)) if (user && !(user instanceof Error)) known.push(user);
    return known;
  }

  /**
   * This instance's copy of a profile, except the viewer's own: that one came with the
   * session, read in this request (fresher than a copy another instance's change may not have
   * reached yet), and is primed in the request's loader.
   */
  private copied(scope: RequestScope, userId: string): UserSnapshot | undefined {
    if (viewerRow(scope)?.id === userId) return undefined;
    return this.profiles?.get(userId);
  }

  /** After a profile change committed: every instance reads the profile again. */
  changed(userId: string): Promise<void> {
    return this.profiles?.changed(userId) ?? Promise.resolve();
  }

  /** A fresh read, in the caller's transaction when `db` is one. */
  async find(db: SqlClient, userId: string): Promise<UserSnapshot | null> {
    return isUuid(userId) ? findUserById(db, userId) : null;
  }
}
