import type { RequestScope } from '../shared/context';
import type { SqlPool } from '../shared/sql';
import { votesOf } from './message.queries';
import { VoteValue, voteValue } from './message.types';

/** Per-request loaders for message fields. */
export class MessageLoaders {
  constructor(private readonly sql: SqlPool) {}

  /** The viewer's own vote per message id: one query for a whole page. */
  myVotes(scope: RequestScope) {
    const viewerId = scope.viewer?.userId ?? null;
    return scope.loaders.get<string, VoteValue>(`messages:myVote:${viewerId}`, async (messageIds) => {
      if (!viewerId) return messageIds.map(() => VoteValue.NONE);
      const byId = await votesOf(this.sql, viewerId, messageIds);
      return messageIds.map((id) => voteValue(byId.get(id)));
    });
  }
}
