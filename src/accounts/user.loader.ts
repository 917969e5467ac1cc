import type { RequestContext } from '../shared/context';
import type { UserSnapshot } from '../realtime/snapshots';
import { User } from './user.entity';
import { userSnapshot } from './user.types';

/** Users by id, batched per request: one query for every `owner`, `author`, `peer`... in a response. */
export function userLoader(ctx: RequestContext) {
  return ctx.loaders.get<string, UserSnapshot | null>('users:byId', async (ids) => {
    const users = await ctx.em.find(User, { id: { $in: [...ids] } });
    const byId = new Map(users.map((user) => [user.id, userSnapshot(user)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
