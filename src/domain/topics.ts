// One topic per channel and one per user: a subscriber only ever receives what is meant for it.
// Plus two instance-level control topics: session revocations, which every instance checks
// against its own index of open sockets, and profile changes, which every instance drops from
// its copy of profiles (one lookup per event; both are rare).
import type { ChannelSnapshot, MessageSnapshot, NotificationSnapshot, UserSnapshot } from './snapshots';

export const Topic = {
  /** Everything `channelEvents` delivers for one channel. */
  channel: (channelId: string) => `channel:${channelId}`,
  /** Per-user events: membership changes, which the inbox follows. */
  user: (userId: string) => `user:${userId}`,
  /** A user's new notifications (the `notifications` subscription), on every instance. */
  notifications: (userId: string) => `notifications:${userId}`,
  /** Revoked sessions, for every instance (it closes its sockets opened with them). */
  sessions: () => 'sessions',
  /** Changed user profiles, for every instance (it drops its copy of them). */
  profiles: () => 'profiles',
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
  | { type: 'ChannelDeleted'; channelId: string }
  /** A member's read marker moved forward to `lastRead` (coalesced per member, src/attention). */
  | { type: 'MessagesSeen'; channel: ChannelSnapshot; user: UserSnapshot; lastRead: MessageSnapshot };

export type MessageAddedEvent = Extract<ChannelTopicEvent, { type: 'MessageAdded' }>;

/**
 * Events on a user's topic. The inbox follows the channel topics of the user's channels;
 * these tell it (and open channelEvents streams) when that set changes.
 */
export type UserTopicEvent =
  /** The user joined or was added to a channel (including a DIRECT channel someone opened with them). */
  | { type: 'MembershipAdded'; channelId: string }
  /** The user left or was removed: the inbox stops following the channel. */
  | { type: 'MembershipRemoved'; channelId: string };

/** Events on a user's notifications topic. */
export type NotificationTopicEvent = { type: 'NotificationCreated'; notification: NotificationSnapshot };

/** Events on the sessions topic. */
export type SessionTopicEvent =
  /** Sessions revoked (logout, password change): sockets opened with them close. */
  { type: 'SessionsRevoked'; userId: string; sessionIds: string[] };

/** Events on the profiles topic. */
export type ProfileTopicEvent =
  /** The user's profile (display name, bio) changed: instances read it again. */
  { type: 'ProfileChanged'; userId: string };
