import type { RequestContext } from '../shared/context';
import type { UserSnapshot } from '../domain/snapshots';
import { isUuid } from '../shared/ids';
import { type UserRow, USER_COLUMNS, userRowSnapshot } from '../channels/channel.rows';

/**
 * Users by id, batched per request (one lookup per id for every `owner`, `author`, `peer`...
 * in a response) and across the requests of the moment (one statement for all of them).
 */
export function userLoader(ctx: RequestContext) {
  return ctx.loaders.get<string, UserSnapshot | null>('users:byId', (ids) => usersById(ctx).loadMany(ids));
}

function usersById(ctx: RequestContext) {
  return ctx.sql.batchLoader<string, UserSnapshot | null>('users_by_id', async (ids) => {
    const wanted = [...new Set(ids.filter(isUuid))];
    const rows = wanted.length > 0 ? await ctx.sql.query<UserRow>(`select ${USER_COLUMNS} from users u where u.id = any($1::uuid[])`, [wanted], 'users_by_id') : [];
    const byId = new Map(rows.map((row) => [row.id, userRowSnapshot(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
