// Queries and factories for the channel suites.
import type { App } from '../../src/app';
import { Channel } from '../../src/channels/channel.entity';
import { Message } from '../../src/messages/message.entity';
import { User } from '../../src/accounts/user.entity';
import { gqlOk } from './graphql';
import { uniqueName, type TestUser } from './factories';

export const CHANNEL_FIELDS = `
  id name description kind createdAt memberCount isMember unreadCount
  owner { id username }
  peer { id username }
`;

export const CREATE = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { ${CHANNEL_FIELDS} } }`;
export const JOIN = `mutation($id: ID!) { joinChannel(channelId: $id) { ${CHANNEL_FIELDS} } }`;
export const LEAVE = `mutation($id: ID!) { leaveChannel(channelId: $id) }`;
export const INVITE = `mutation($id: ID!, $userId: ID!) { inviteToChannel(channelId: $id, userId: $userId) { ${CHANNEL_FIELDS} } }`;
export const REMOVE = `mutation($id: ID!, $userId: ID!) { removeFromChannel(channelId: $id, userId: $userId) { ${CHANNEL_FIELDS} } }`;
export const UPDATE = `mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { ${CHANNEL_FIELDS} } }`;
export const DELETE_CHANNEL = `mutation($id: ID!) { deleteChannel(channelId: $id) }`;
export const OPEN_DIRECT = `mutation($userId: ID!) { openDirectChannel(userId: $userId) { ${CHANNEL_FIELDS} } }`;
export const MARK_READ = `mutation($id: ID!, $messageId: ID) { markRead(channelId: $id, messageId: $messageId) { ${CHANNEL_FIELDS} } }`;
export const CHANNEL = `query($id: ID!) { channel(id: $id) { ${CHANNEL_FIELDS} } }`;
export const DIRECTORY = `query($search: String, $first: Int, $after: String) {
  channels(search: $search, first: $first, after: $after) {
    edges { cursor node { id name kind } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
export const MY_CHANNELS = `{ myChannels { ${CHANNEL_FIELDS} } }`;
export const MEMBERS = `query($id: ID!, $first: Int, $after: String) {
  channel(id: $id) {
    id
    members(first: $first, after: $after) {
      edges { cursor node { id username } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}`;

export interface TestChannel {
  id: string;
  name: string;
  description: string | null;
  kind: 'PUBLIC' | 'PRIVATE' | 'DIRECT';
  createdAt: string;
  memberCount: number;
  isMember: boolean;
  unreadCount: number;
  owner: { id: string; username: string } | null;
  peer: { id: string; username: string } | null;
}

/** A fresh, valid channel name. */
export function channelName(prefix = 'chan'): string {
  return uniqueName(prefix).toLowerCase();
}

/** Creates a channel through the API, as `user`. */
export async function createChannel(
  url: string,
  user: TestUser,
  input: { name?: string; description?: string | null; kind?: 'PUBLIC' | 'PRIVATE' } = {},
): Promise<TestChannel> {
  const data = await gqlOk<{ createChannel: TestChannel }>(url, CREATE, { input: { name: channelName(), ...input } }, { token: user.token });
  return data.createChannel;
}

/**
 * Stores a message the way the message service does: in a transaction, take the channel's next
 * sequence number (locking its row, bumping its activity time), then insert the message.
 */
export async function insertMessage(app: App, channelId: string, authorId: string, body = 'hello'): Promise<{ id: string; seq: number }> {
  return app.services.orm.em.fork().transactional(async (em) => {
    const rows = await em.execute<Array<{ last_seq: string }>>(
      'update channels set last_seq = last_seq + 1, last_activity_at = now() where id = ? returning last_seq',
      [channelId],
    );
    const seq = Number(rows[0].last_seq);
    const message = em.create(Message, { channel: em.getReference(Channel, channelId), author: em.getReference(User, authorId), seq, body });
    em.persist(message);
    return { id: message.id, seq };
  });
}

/** Marks a message deleted (a tombstone), as deleteMessage does. */
export async function tombstone(app: App, messageId: string): Promise<void> {
  await app.services.orm.em.getConnection().execute('update messages set body = null, deleted_at = now() where id = ?', [messageId]);
}

/** Rows of a table matching a condition, straight from the database. */
export async function countRows(app: App, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await app.services.orm.em.getConnection().execute<Array<{ count: string }>>(sql, params);
  return Number(rows[0].count);
}

// ---- Event bus listeners (the same Redis or in-process bus subscribers use) ----

export interface TopicRecorder<T = any> {
  readonly events: T[];
  /** Waits until an event matching `predicate` has arrived, and returns it. */
  waitFor(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): void;
}

const active = new Set<() => void>();

/** Records every event published on `topic` from now on; stopAllRecorders() in afterAll. */
export async function recordTopic<T = any>(app: App, topic: string): Promise<TopicRecorder<T>> {
  const events: T[] = [];
  const waiters = new Set<() => void>();
  const unsubscribe = await app.services.bus.listen<T>(topic, (event) => {
    events.push(event);
    for (const wake of [...waiters]) wake();
  });
  const stop = () => {
    active.delete(stop);
    unsubscribe();
  };
  active.add(stop);
  return {
    events,
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for an event on ${topic}; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
    },
    stop,
  };
}

export function stopAllRecorders(): void {
  for (const stop of [...active]) stop();
}
