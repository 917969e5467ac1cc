import type { RequestContext } from '../shared/context';
import { VoteValue, voteValue } from './message.types';

/** The viewer's own vote per message id: one query for a whole page. */
export function myVoteLoader(ctx: RequestContext) {
  const viewerId = ctx.viewer?.userId ?? null;
  return ctx.loaders.get<string, VoteValue>(`messages:myVote:${viewerId}`, async (messageIds) => {
    if (!viewerId) return messageIds.map(() => VoteValue.NONE);
    const rows = await ctx.em.execute<{ message_id: string; value: number }[]>(
      'select message_id, value from votes where user_id = ? and message_id in (?)',
      [viewerId, [...messageIds]],
    );
    const byId = new Map(rows.map((row) => [row.message_id, voteValue(Number(row.value))]));
    return messageIds.map((id) => byId.get(id) ?? VoteValue.NONE);
  });
}
