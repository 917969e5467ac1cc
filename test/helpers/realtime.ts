import type { App } from '../../src/app';
import { User } from '../../src/accounts/user.entity';
import { userSnapshot } from '../../src/accounts/user.types';
import { Channel } from '../../src/channels/channel.entity';
import { Message } from '../../src/messages/message.entity';
import { messageSnapshot } from '../../src/messages/message.types';
import type { MessageSnapshot } from '../../src/domain/snapshots';
import { Topic } from '../../src/domain/topics';
import { gqlOk } from './graphql';
import type { TestApp } from './app';

/** Every ChannelEvent member with the fields tests look at. */
export const CHANNEL_EVENTS = `
  subscription ($channelId: ID!, $after: String) {
    channelEvents(channelId: $channelId, after: $after) {
      __typename
      ... on MessageAdded { cursor message { id body deleted author { id username } } }
      ... on MessageUpdated { message { id body upvotes editedAt } }
      ... on MessageDeleted { message { id body deleted } }
      ... on MemberJoined { channel { id } user { id username } }
      ... on MemberLeft { channel { id } user { id } }
      ... on UserTyping { channel { id } user { id username } }
      ... on ChannelUpdated { channel { id description } }
      ... on ChannelDeleted { channelId }
    }
  }`;

export const INBOX = `subscription { inbox { cursor message { id body channel { id } author { id } } } }`;

/** Polls until `predicate` holds (deterministic waits instead of sleeps). */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until an instance has `count` live subscription streams (subscribed and replayed). */
export function waitForStreams(app: App, count: number): Promise<void> {
  return waitUntil(() => app.services.realtime.activeStreams >= count, `${count} live streams`);
}

/** Redis subscribers of one of this app's topics (0 means every listener is gone). */
export async function topicSubscribers(app: App, topic: string): Promise<number> {
  const redis = app.services.redis;
  if (!redis) throw new Error('needs Redis');
  const reply = (await redis.command.pubsub('NUMSUB', app.services.config.redisKeyPrefix + topic)) as [string, number];
  return Number(reply[1]);
}

export async function createChannel(server: TestApp, token: string, name: string, kind: 'PUBLIC' | 'PRIVATE' = 'PUBLIC'): Promise<string> {
  const data = await gqlOk<{ createChannel: { id: string } }>(
    server.url,
    'mutation ($input: CreateChannelInput!) { createChannel(input: $input) { id } }',
    { input: { name, kind } },
    { token },
  );
  return data.createChannel.id;
}

export async function sendMessage(server: TestApp, token: string, channelId: string, body: string): Promise<{ id: string }> {
  const data = await gqlOk<{ sendMessage: { id: string } }>(
    server.url,
    'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
    { input: { channelId, body } },
    { token },
  );
  return data.sendMessage;
}

export async function publicChannelId(app: App): Promise<string> {
  const channel = await app.services.orm.em.fork().findOneOrFail(Channel, { name: 'public' });
  return channel.id;
}

/**
 * Commits a message exactly as the message service does (seq from channels.last_seq under
 * the row lock) WITHOUT publishing it: for simulating a publish that is late or lost.
 */
export async function commitMessageSilently(app: App, channelId: string, authorId: string, body: string): Promise<MessageSnapshot> {
  const em = app.services.orm.em.fork();
  return em.transactional(async (tx) => {
    const [{ last_seq: seq }] = await tx
      .getConnection()
      .execute<Array<{ last_seq: string | number }>>('update channels set last_seq = last_seq + 1, last_activity_at = now() where id = ? returning last_seq', [channelId], 'all', tx.getTransactionContext());
    const author = await tx.findOneOrFail(User, { id: authorId });
    const message = tx.create(Message, { channel: tx.getReference(Channel, channelId), author, seq: Number(seq), body });
    await tx.flush();
    return messageSnapshot(message, userSnapshot(author));
  });
}

/** Publishes a committed message's MessageAdded, as the message service does after commit. */
export function publishMessageAdded(app: App, message: MessageSnapshot): Promise<void> {
  return app.services.bus.publish(Topic.channel(message.channelId), { type: 'MessageAdded', message });
}
