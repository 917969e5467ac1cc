// Plain, serializable views of entities: what resolvers return and what events carry.
// GraphQL object types resolve from these; per-viewer fields are computed per request.

export interface UserSnapshot {
  id: string;
  username: string;
  displayName: string;
  bio: string | null;
  /** Present only where it may be shown to the viewer; field resolvers decide. */
  email?: string | null;
  createdAt: Date;
}

export interface ChannelSnapshot {
  id: string;
  name: string;
  description: string | null;
  kind: 'PUBLIC' | 'PRIVATE' | 'DIRECT';
  ownerId: string | null;
  createdAt: Date;
  memberCount: number;
  lastSeq: number;
  /** Slow mode: a MEMBER sends at most one message per this many seconds (0: off). */
  slowModeSeconds: number;
  /** For DIRECT channels: the two participants' ids. */
  directUserIds?: [string, string] | null;
}

export interface MessageSnapshot {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  /** The author, embedded so an event renders without a database read. */
  author?: UserSnapshot;
  body: string | null;
  createdAt: Date;
  editedAt: Date | null;
  deleted: boolean;
  upvotes: number;
  downvotes: number;
  /** Set on thread replies: the root message of their thread (absent or null otherwise). */
  threadRootId?: string | null;
  /**
   * 0 when sent; every committed edit, deletion and vote change adds one (in commit order,
   * under the message's row lock). Subscribers drop an update older than one they have.
   * Absent reads as 0.
   */
  version?: number;
}

export type NotificationKindName = 'MENTION' | 'THREAD_REPLY' | 'MESSAGE';

/** One notification of one user, with its message (and that message's author). */
export interface NotificationSnapshot {
  id: string;
  userId: string;
  kind: NotificationKindName;
  message: MessageSnapshot;
  createdAt: Date;
  read: boolean;
}

/** A user as events carry it: without the email (payloads travel through Redis to every subscriber). */
export function eventUser(user: UserSnapshot): UserSnapshot {
  return { ...user, email: null };
}
