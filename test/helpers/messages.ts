// Factories and queries for the messages suites. Channels and memberships beyond `public`
// are made directly through the ORM (keeping channels.member_count right).
import type { App } from '../../src/app';
import { Channel, ChannelKind, DEFAULT_CHANNEL_NAME } from '../../src/channels/channel.entity';
import { MemberRole, Membership } from '../../src/channels/membership.entity';
import type { ChannelTopicEvent } from '../../src/domain/topics';
import { Topic } from '../../src/domain/topics';
import { gql, gqlOk, type GraphQLResponse } from './graphql';
import { uniqueName } from './factories';

export const MESSAGE_FIELDS = `
  id body createdAt editedAt deleted upvotes downvotes score myVote
  author { id username }
  channel { id }
`;

export const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
export const EDIT = `mutation($id: ID!, $body: String!) { editMessage(messageId: $id, body: $body) { ${MESSAGE_FIELDS} } }`;
export const DELETE = `mutation($id: ID!) { deleteMessage(messageId: $id) { ${MESSAGE_FIELDS} } }`;
export const VOTE = `mutation($id: ID!, $value: VoteValue!) { vote(messageId: $id, value: $value) { ${MESSAGE_FIELDS} } }`;
export const HISTORY = `query($channelId: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(channelId: $channelId, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { ${MESSAGE_FIELDS} } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

export interface TestMessage {
  id: string;
  body: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  upvotes: number;
  downvotes: number;
  score: number;
  myVote: 'UP' | 'DOWN' | 'NONE';
  author: { id: string; username: string };
  channel: { id: string };
}

export interface TestPage {
  edges: Array<{ cursor: string; node: TestMessage }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export async function publicChannelId(app: App): Promise<string> {
  const channel = await app.services.orm.em.fork().findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME });
  return channel.id;
}

/** A channel owned by `ownerId` (a member), with the given other members. */
export async function createChannelDirectly(app: App, options: { kind?: ChannelKind; ownerId: string; memberIds?: string[] }): Promise<string> {
  const em = app.services.orm.em.fork();
  const memberIds = [options.ownerId, ...(options.memberIds ?? [])];
  const channel = em.create(Channel, {
    name: uniqueName('chan').toLowerCase(),
    kind: options.kind ?? ChannelKind.PRIVATE,
    owner: options.ownerId,
    memberCount: memberIds.length,
  });
  for (const userId of memberIds) {
    em.create(Membership, { channel, user: userId, role: userId === options.ownerId ? MemberRole.OWNER : MemberRole.MEMBER });
  }
  await em.flush();
  return channel.id;
}

export async function sendMessage(url: string, token: string, channelId: string, body: string, clientMessageId?: string): Promise<TestMessage> {
  const data = await gqlOk<{ sendMessage: TestMessage }>(url, SEND, { input: { channelId, body, clientMessageId } }, { token });
  return data.sendMessage;
}

export function sendMessageRaw(url: string, token: string, input: Record<string, unknown>): Promise<GraphQLResponse<{ sendMessage: TestMessage }>> {
  return gql(url, SEND, { input }, { token });
}

export async function history(url: string, token: string, variables: Record<string, unknown>): Promise<TestPage> {
  const data = await gqlOk<{ messages: TestPage }>(url, HISTORY, variables, { token });
  return data.messages;
}

/** Stored seqs of a channel, ascending. */
export async function storedSeqs(app: App, channelId: string): Promise<number[]> {
  const rows = await app.services.orm.em
    .fork()
    .getConnection()
    .execute<{ seq: string }[]>('select seq from messages where channel_id = ? order by seq', [channelId]);
  return rows.map((row) => Number(row.seq));
}

/** Collects the events published on a channel's topic (from now on). */
export async function recordChannelEvents(app: App, channelId: string): Promise<{ events: ChannelTopicEvent[]; stop(): void; waitFor(count: number): Promise<void> }> {
  const events: ChannelTopicEvent[] = [];
  const waiters: Array<() => void> = [];
  const stop = await app.services.bus.listen<ChannelTopicEvent>(Topic.channel(channelId), (event) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    events,
    stop,
    async waitFor(count: number) {
      const deadline = Date.now() + 5000;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} events, got ${events.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}
