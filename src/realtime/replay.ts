import type { MikroORM } from '@mikro-orm/postgresql';
import { userSnapshot } from '../accounts/user.types';
import { Message } from '../messages/message.entity';
import { messageSnapshot } from '../messages/message.types';
import type { MessageSnapshot, UserSnapshot } from './snapshots';

/** Messages read per replay query. */
export const REPLAY_PAGE_SIZE = 200;

/**
 * Committed messages of a channel with afterSeq < seq (< beforeSeq when given), oldest
 * first, as the same snapshots live events carry (author embedded; deleted ones as
 * tombstones; authors without email). Its own EntityManager fork: replay runs outside any request.
 */
export async function loadMessagesAfter(
  orm: MikroORM,
  channelId: string,
  afterSeq: number,
  options: { beforeSeq?: number; limit?: number } = {},
): Promise<MessageSnapshot[]> {
  const em = orm.em.fork();
  const seq = options.beforeSeq !== undefined ? { $gt: afterSeq, $lt: options.beforeSeq } : { $gt: afterSeq };
  const rows = await em.find(Message, { channel: channelId, seq }, { orderBy: { seq: 'asc' }, limit: options.limit ?? REPLAY_PAGE_SIZE, populate: ['author'] });
  return rows.map((row) => messageSnapshot(row, eventUser(userSnapshot(row.author))));
}

/** Users inside event payloads carry no email: payloads travel through Redis to every subscriber. */
export function eventUser(user: UserSnapshot): UserSnapshot {
  return { ...user, email: null };
}
