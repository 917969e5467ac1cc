import { randomUUID } from 'node:crypto';
import type { MessageSnapshot } from '../domain/snapshots';
import type { SessionCheckClaim } from '../shared/context';
import { BadUserInputError, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError } from '../shared/errors';
import type { SqlClient, SqlPool } from '../shared/sql';
import { authoredSnapshot, type BatchSessionChecks, sendMessages, sendMessagesWith, type SendRow } from './message.queries';

export interface SendRequest {
  authorId: string;
  body: string;
  clientMessageId: string | null;
  /** The root of the thread the message replies in (checked again under the channel's lock), or null. */
  threadRootId: string | null;
  /** What the send hooks prepared for this send before it joined a batch (SendHooks.prepareSend). */
  prepared?: unknown;
  /**
   * The request's session check, carried by the batch's statement: the send is stored only if
   * the session is live then (UNAUTHENTICATED otherwise), and the check is settled either way.
   */
  session?: SessionCheckClaim | null;
}

/** Work to do once a transaction has committed (events, deliveries), or null. */
export type AfterCommit = (() => Promise<void>) | null;

/**
 * A feature above messages that writes along with each batch of sends (attention: mentions and
 * notifications), wired in by app.ts. With it, a batch is one transaction: send_messages, then
 * `stored` with the messages it created.
 */
export interface SendHooks {
  stored(tx: SqlClient, channelId: string, created: ReadonlyArray<{ message: MessageSnapshot; prepared: unknown }>): Promise<AfterCommit>;
  /**
   * The same writes as `stored`, inside the batch's own statement, when they need nothing
   * written before them for these sends (`prepared` of each); null when they do. Then the
   * batch is that one autocommitted statement instead of a transaction of several.
   */
  storedInStatement?(prepared: readonly unknown[]): SendStatementPart | null;
}

/** Writes a hook adds to a batch's send statement (SendHooks.storedInStatement). */
export interface SendStatementPart {
  /** Names the statement (prepared once per connection): one name per SQL text. */
  name: string;
  /**
   * Common table expressions over `created` (message_id, author_id, thread_root_id of the
   * batch's new messages) and the channel id's placeholder `channel`; the last one, `notified`,
   * returns one row per write (json-ready).
   */
  ctes(created: string, channel: string): string;
  /** When `notified` returned rows: what to do after commit with them and the batch's new messages. */
  stored(rows: unknown[], created: MessageSnapshot[]): AfterCommit;
}

interface Pending extends SendRequest {
  id: string;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

/** A batch's statement: committed, with its rows and the hooks' work after commit, or failed. */
type Committed = { rows: SendRow[]; afterCommit: AfterCommit } | { error: unknown };

export interface SendResult {
  message: MessageSnapshot;
  /** False when the clientMessageId had been used: the first message, nothing stored. */
  created: boolean;
}

/** At most this many messages share one transaction. */
const MAX_BATCH = 200;
/** A batch that lost a clientMessageId race is retried this many times before its sends fail. */
const MAX_ATTEMPTS = 3;

/** PostgreSQL's serialization_failure, raised by send_messages when a concurrent send took one of the batch's keys. */
const isKeyRace = (error: unknown) => (error as { code?: string }).code === '40001' && /key race/.test((error as Error).message);

/**
 * Group commit for sends: the sends to one channel that arrive while its previous batch is
 * committing go into the next batch, stored by one statement (send_messages in the
 * migrations: one row lock on the channel, membership and idempotency checks under it, one
 * multi-row INSERT, one WAL flush) with consecutive sequence numbers in arrival order.
 * An idle channel's send is committed at once: nothing waits for a timer.
 * Each send is answered as soon as its batch commits. `onCommitted` runs after each commit
 * with the new messages in seq order, one batch after the other, so the cache and the events
 * follow commit order and subscribers never see a gap to wait for; it does not hold up the
 * next batch's commit.
 */
export class SendBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private readonly followUps = new Map<string, Promise<void>>();
  private readonly batchListeners = new Set<(size: number) => void>();

  constructor(
    private readonly sql: SqlPool,
    private readonly onCommitted: (messages: MessageSnapshot[]) => Promise<void>,
    private readonly hooks: SendHooks | null = null,
  ) {}

  /** Sends one message to a channel (by its lowercase id). */
  send(channelId: string, request: SendRequest): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const pending: Pending = { ...request, id: randomUUID(), resolve, reject };
      const queue = this.queues.get(channelId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(channelId, [pending]);
      void this.drain(channelId);
    });
  }

  /** Calls `listener` with the size of every batch committed (for /metrics). */
  onBatch(listener: (size: number) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Resolves when the follow-ups (cache, events) of every batch committed so far have run. */
  async settled(): Promise<void> {
    await Promise.all([...this.followUps.values()]);
  }

  /**
   * Commits the channel's batches one after the other. The next batch's statement goes out as
   * soon as the previous one has committed, before that one's sends are answered: answering
   * a batch runs the start of each send's response, and every send waiting in the queue
   * waited for it too (0.6 of a 4.1 ms cycle with 11 sends a batch over HTTP).
   */
  private async drain(channelId: string): Promise<void> {
    const queue = this.queues.get(channelId)!;
    let batch = queue.splice(0, MAX_BATCH);
    let stored = this.commit(channelId, batch);
    for (;;) {
      const outcome = await stored;
      const next = queue.length > 0 ? queue.splice(0, MAX_BATCH) : null;
      if (!next) {
        this.answer(channelId, batch, outcome);
        break;
      }
      stored = this.commit(channelId, next);
      // pg's pool writes the statement in a process.nextTick callback it has just scheduled;
      // answered at once, the sends' responses (promise callbacks, which all run first) would
      // go before it. Answers keep batch order: the next ones wait for a round trip.
      const answered = batch;
      process.nextTick(() => this.answer(channelId, answered, outcome));
      batch = next;
    }
    this.queues.delete(channelId);
  }

  /** Stores a batch, retried when it lost a clientMessageId race; never rejects. */
  private async commit(channelId: string, batch: Pending[]): Promise<Committed> {
    const hooked: { afterCommit: AfterCommit } = { afterCommit: null };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const rows = await this.store(channelId, batch, (after) => (hooked.afterCommit = after));
        return { rows, afterCommit: hooked.afterCommit };
      } catch (error) {
        // Rare: another channel's send with one of these keys committed between the check and the insert.
        if (isKeyRace(error) && attempt < MAX_ATTEMPTS) continue;
        return { error };
      }
    }
  }

  /** Answers each send of a committed (or failed) batch, and queues the batch's follow-ups. */
  private answer(channelId: string, batch: Pending[], outcome: Committed): void {
    if ('error' in outcome) {
      for (const one of batch) {
        one.session?.fail();
        one.reject(outcome.error);
      }
      return;
    }
    const { rows, afterCommit } = outcome;
    for (const listener of this.batchListeners) listener(batch.length);
    const created: MessageSnapshot[] = [];
    rows.forEach((row, index) => {
      const one = batch[index];
      one.session?.decided(row.status !== 'signed_out');
      switch (row.status) {
        case 'signed_out':
          return one.reject(new UnauthenticatedError());
        // A channel the sender may not see looks exactly like a missing one.
        case 'no_channel':
        case 'invisible':
          return one.reject(new NotFoundError('Channel'));
        case 'not_member':
          return one.reject(new ForbiddenError('Join the channel first.'));
        case 'muted':
          return one.reject(new ForbiddenError('You are timed out in this channel.'));
        case 'blocked':
          // The sender learns nothing more than that they cannot send here.
          return one.reject(new ForbiddenError('You cannot send messages in this conversation.'));
        case 'thread_gone':
          return one.reject(new BadUserInputError('threadId', 'The thread was deleted.'));
        case 'slow':
          return one.reject(new RateLimitedError(Number(row.retry_after), 'Slow mode: wait before sending again.'));
        default: {
          // Events carry no email (the User.email resolver loads the viewer's own).
          const message = authoredSnapshot(row);
          if (row.status === 'created') created.push(message);
          one.resolve({ message, created: row.status === 'created' });
        }
      }
    });
    if (created.length > 0) this.followUp(channelId, created, afterCommit);
  }

  /**
   * One statement on its own; with hooks, the statement and the hooks' writes: in the same
   * statement when they can be (a batch without mentions: one round trip and no transaction,
   * 4,680 -> 5,580 sends/s over graphql-ws at 32 clients when it first was), else in one
   * transaction.
   */
  private async store(channelId: string, batch: Pending[], setAfterCommit: (after: AfterCommit) => void): Promise<SendRow[]> {
    const hooks = this.hooks;
    const checks = sessionChecks(batch);
    if (!hooks) return sendMessages(this.sql, channelId, batch, checks);
    const part = hooks.storedInStatement?.(batch.map((one) => one.prepared));
    if (part) {
      const { rows, partRows } = await sendMessagesWith(this.sql, channelId, batch, part, checks);
      // Most batches write nothing more (no follower, no one at level ALL): no snapshots to make for it.
      if (partRows.length > 0) setAfterCommit(part.stored(partRows, rows.flatMap((row) => (row.status === 'created' ? [authoredSnapshot(row)] : []))));
      return rows;
    }
    return this.sql.transaction(async (tx) => {
      const rows = await sendMessages(tx, channelId, batch, checks);
      const created = rows.flatMap((row, index) => (row.status === 'created' ? [{ message: authoredSnapshot(row), prepared: batch[index].prepared }] : []));
      if (created.length > 0) setAfterCommit(await hooks.stored(tx, channelId, created));
      return rows;
    });
  }

  private followUp(channelId: string, messages: MessageSnapshot[], afterCommit: AfterCommit): void {
    const previous = this.followUps.get(channelId) ?? Promise.resolve();
    const next = previous
      .then(() => Promise.all([this.onCommitted(messages), afterCommit?.()]))
      .then(() => undefined)
      .catch(() => undefined);
    this.followUps.set(channelId, next);
    void next.then(() => {
      if (this.followUps.get(channelId) === next) this.followUps.delete(channelId);
    });
  }
}

/** The session checks a batch's statement makes, or null when none of its sends carries one. */
function sessionChecks(batch: readonly Pending[]): BatchSessionChecks | null {
  const carried = batch.find((one) => one.session)?.session;
  return carried ? { sessionIds: batch.map((one) => one.session?.sessionId ?? null), liveness: carried.liveness } : null;
}
