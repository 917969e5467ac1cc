import type { RequestScope } from '../shared/context';
import type { SqlPool } from '../shared/sql';
import { editsOf, votesOf } from './message.queries';
import { type MessageEditType, VoteValue, voteValue } from './message.types';

/** Message.edits holds at most this many earlier bodies, the newest (its cost is counted at this cap). */
export const MAX_LISTED_EDITS = 20;

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

  /** Earlier bodies per message id, newest first: one query for a whole page. */
  edits(scope: RequestScope) {
    return scope.loaders.get<string, MessageEditType[]>('messages:edits', async (messageIds) => {
      const byId = new Map<string, MessageEditType[]>(messageIds.map((id) => [id, []]));
      for (const row of await editsOf(this.sql, messageIds, MAX_LISTED_EDITS)) byId.get(row.message_id)?.push({ body: row.body, editedAt: row.edited_at });
      return messageIds.map((id) => byId.get(id) ?? []);
    });
  }
}
