// One topic per channel and one per user: a subscriber only ever receives what is meant for it.
import type { ChannelSnapshot, MessageSnapshot, UserSnapshot } from './snapshots';

export const Topic = {
  /** Everything `channelEvents` delivers for one channel. */
  channel: (channelId: string) => `channel:${channelId}`,
  /** Per-user control and inbox events (new messages elsewhere, membership changes, revocations). */
  user: (userId: string) => `user:${userId}`,
} as const;

/** Events on a channel's topic; every payload is self-contained (no database read per subscriber). */
export type ChannelTopicEvent =
  | { type: 'MessageAdded'; message: MessageSnapshot }
  | { type: 'MessageUpdated'; message: MessageSnapshot }
  | { type: 'MessageDeleted'; message: MessageSnapshot }
  | { type: 'MemberJoined'; channel: ChannelSnapshot; user: UserSnapshot }
  | { type: 'MemberLeft'; channel: ChannelSnapshot; user: UserSnapshot }
  | { type: 'UserTyping'; channel: ChannelSnapshot; user: UserSnapshot }
  | { type: 'ChannelUpdated'; channel: ChannelSnapshot }
  | { type: 'ChannelDeleted'; channelId: string };

/**
 * Events on a user's topic. The inbox follows the channel topics of the user's channels;
 * these tell it (and open channelEvents streams) when that set changes.
 */
export type UserTopicEvent =
  /** The user joined or was added to a channel (including a DIRECT channel someone opened with them). */
  | { type: 'MembershipAdded'; channelId: string }
  /** The user left or was removed: their streams of that channel complete. */
  | { type: 'MembershipRemoved'; channelId: string }
  /** Sessions revoked: sockets opened with them close. */
  | { type: 'SessionsRevoked'; sessionIds: string[] };
