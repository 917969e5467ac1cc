import type { SqlPool } from '../shared/sql';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, MESSAGE_COLUMNS, messageRowSnapshot, rowAuthor } from '../messages/message.rows';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';

/** Messages read per replay query. */
export const REPLAY_PAGE_SIZE = 200;

/** Larger than any seq: "no upper bound" in the batched statement. */
const NO_BOUND = '9223372036854775807';

interface ReplayRow extends AuthoredMessageRow {
  ord: string;
}

/**
 * Committed messages of a channel with afterSeq < seq (< beforeSeq when given), oldest
 * first, at most REPLAY_PAGE_SIZE, as MessageAdded events with the same snapshots live
 * events carry (author embedded, without email; deleted ones as tombstones). The replays of
 * concurrent subscriptions share one statement (a lateral keyset scan per range), and those
 * of the same range get the same event objects, so each replayed event is rendered once for
 * all of them (delivery.ts), like a live one.
 */
export function loadMessageEventsAfter(sql: SqlPool, channelId: string, afterSeq: number, options: { beforeSeq?: number } = {}): Promise<MessageAddedEvent[]> {
  return replayLoader(sql).load(`${channelId}|${afterSeq}|${options.beforeSeq ?? ''}`);
}

export type MessageAddedEvent = { type: 'MessageAdded'; message: MessageSnapshot };

function replayLoader(sql: SqlPool) {
  return sql.batchLoader<string, MessageAddedEvent[]>('replay', async (keys) => {
    const channels: string[] = [];
    const afters: string[] = [];
    const befores: string[] = [];
    for (const key of keys) {
      const [channelId, after, before] = key.split('|');
      channels.push(channelId);
      afters.push(after);
      befores.push(before === '' ? NO_BOUND : before);
    }
    const rows = await sql.query<ReplayRow>(
      `select k.ord, ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
         from unnest($1::uuid[], $2::bigint[], $3::bigint[]) with ordinality as k(channel_id, after_seq, before_seq, ord)
         cross join lateral (
           select * from messages x
            where x.channel_id = k.channel_id and x.seq > k.after_seq and x.seq < k.before_seq
            order by x.seq limit $4
         ) m
         join users u on u.id = m.author_id
        order by k.ord, m.seq`,
      [channels, afters, befores, REPLAY_PAGE_SIZE],
      'replay_after',
    );
    const pages: MessageAddedEvent[][] = keys.map(() => []);
    for (const row of rows) pages[Number(row.ord) - 1].push({ type: 'MessageAdded', message: messageRowSnapshot(row, rowAuthor(row)) });
    return pages;
  });
}
