import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import { userSnapshot } from '../accounts/user.types';
import type { MessageSnapshot } from '../realtime/snapshots';
import { NotFoundError } from '../shared/errors';

export interface SendRequest {
  authorId: string;
  body: string;
  clientMessageId: string | null;
}

interface Pending extends SendRequest {
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

export interface SendResult {
  message: MessageSnapshot;
  /** False when the clientMessageId had been used: the first message, nothing stored. */
  created: boolean;
}

interface MessageRow {
  id: string;
  seq: string | number;
  author_id: string;
  body: string | null;
  client_message_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  upvotes: number;
  downvotes: number;
}

/** At most this many messages share one transaction. */
const MAX_BATCH = 200;

/** A concurrent send with the same clientMessageId (to another channel) won a race: retry one by one. */
class KeyRace extends Error {}

/**
 * Group commit for sends: the sends to one channel that arrive while its previous batch is
 * committing go into the next batch, stored by one transaction (one row lock on the channel,
 * one multi-row INSERT, one WAL flush) with consecutive sequence numbers in arrival order.
 * An idle channel's send is committed at once: nothing waits for a timer.
 * `onCommitted` runs after each commit with the new messages in seq order (the cache and
 * the events follow commit order, so subscribers never see a gap to wait for).
 */
export class SendBatcher {
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly orm: MikroORM,
    private readonly onCommitted: (messages: MessageSnapshot[]) => Promise<void>,
  ) {}

  send(channelId: string, request: SendRequest): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const queue = this.queues.get(channelId);
      const pending: Pending = { ...request, resolve, reject };
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(channelId, [pending]);
      void this.drain(channelId);
    });
  }

  private async drain(channelId: string): Promise<void> {
    const queue = this.queues.get(channelId)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await this.commitBatch(channelId, batch);
      } catch (error) {
        if (error instanceof KeyRace) {
          // Rare: another channel's send with the same key committed between our check and insert.
          for (const one of batch) await this.commitAlone(channelId, one);
        } else {
          for (const one of batch) one.reject(error);
        }
      }
    }
    this.queues.delete(channelId);
  }

  private async commitAlone(channelId: string, one: Pending): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.commitBatch(channelId, [one]);
      } catch (error) {
        if (!(error instanceof KeyRace) || attempt >= 3) return one.reject(error);
      }
    }
  }

  private async commitBatch(channelId: string, batch: Pending[]): Promise<void> {
    const em = this.orm.em.fork();
    const outcome = await em.transactional(async (tx) => {
      // The row lock orders batches (of every instance), so seqs are gapless in commit order.
      const [channel] = await tx.execute<{ last_seq: string | number }[]>('select last_seq from channels where id = ? for update', [channelId]);
      if (!channel) throw new NotFoundError('Channel'); // deleted meanwhile
      const keyed = batch.filter((one) => one.clientMessageId !== null);
      const existing = new Map<string, MessageRow>();
      if (keyed.length > 0) {
        const rows = await tx.execute<MessageRow[]>(
          `select * from messages where (author_id, client_message_id) in (${keyed.map(() => '(?, ?)').join(', ')})`,
          keyed.flatMap((one) => [one.authorId, one.clientMessageId]),
        );
        for (const row of rows) existing.set(`${row.author_id}|${row.client_message_id}`, row);
      }
      // Assign seqs in arrival order; a key repeated within the batch maps to its first send.
      let seq = Number(channel.last_seq);
      const now = new Date();
      const fresh: MessageRow[] = [];
      const rowFor: Array<{ row: MessageRow; created: boolean }> = [];
      const inBatch = new Map<string, MessageRow>();
      for (const one of batch) {
        const key = one.clientMessageId === null ? null : `${one.authorId}|${one.clientMessageId}`;
        const previous = key ? (existing.get(key) ?? inBatch.get(key)) : undefined;
        if (previous) {
          rowFor.push({ row: previous, created: false });
          continue;
        }
        seq += 1;
        const row: MessageRow = {
          id: randomUUID(),
          seq,
          author_id: one.authorId,
          body: one.body,
          client_message_id: one.clientMessageId,
          created_at: now,
          edited_at: null,
          deleted_at: null,
          upvotes: 0,
          downvotes: 0,
        };
        if (key) inBatch.set(key, row);
        fresh.push(row);
        rowFor.push({ row, created: true });
      }
      if (fresh.length > 0) {
        const inserted = await tx.execute<{ id: string }[]>(
          `insert into messages (id, channel_id, seq, author_id, body, client_message_id, created_at)
           values ${fresh.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
           on conflict (author_id, client_message_id) do nothing
           returning id`,
          fresh.flatMap((row) => [row.id, channelId, row.seq, row.author_id, row.body, row.client_message_id, row.created_at]),
        );
        if (inserted.length !== fresh.length) throw new KeyRace();
        await tx.execute('update channels set last_seq = ?, last_activity_at = now() where id = ?', [seq, channelId]);
      }
      return { rowFor, fresh };
    });

    // Authors for every message of the batch, in one query.
    const authorIds = [...new Set(outcome.rowFor.map(({ row }) => row.author_id))];
    const authors = new Map((await em.find(User, { id: { $in: authorIds } })).map((user) => [user.id, { ...userSnapshot(user), email: null }]));
    const snapshot = (row: MessageRow): MessageSnapshot => {
      const deleted = row.deleted_at !== null;
      return {
        id: row.id,
        channelId,
        seq: Number(row.seq),
        authorId: row.author_id,
        author: authors.get(row.author_id),
        body: deleted ? null : row.body,
        createdAt: new Date(row.created_at),
        editedAt: row.edited_at ? new Date(row.edited_at) : null,
        deleted,
        upvotes: row.upvotes,
        downvotes: row.downvotes,
      };
    };
    const snapshots = new Map(outcome.rowFor.map(({ row }) => [row.id, snapshot(row)]));
    if (outcome.fresh.length > 0) await this.onCommitted(outcome.fresh.map((row) => snapshots.get(row.id)!));
    outcome.rowFor.forEach(({ row, created }, index) => batch[index].resolve({ message: snapshots.get(row.id)!, created }));
  }
}
