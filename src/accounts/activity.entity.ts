import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './user.entity';

export enum ActivityAction {
  SIGNUP = 'SIGNUP',
  LOGIN = 'LOGIN',
  LOGIN_FAILED = 'LOGIN_FAILED',
  LOGOUT = 'LOGOUT',
  PASSWORD_CHANGED = 'PASSWORD_CHANGED',
  CHANNEL_CREATED = 'CHANNEL_CREATED',
  CHANNEL_JOINED = 'CHANNEL_JOINED',
  CHANNEL_LEFT = 'CHANNEL_LEFT',
  CHANNEL_DELETED = 'CHANNEL_DELETED',
  DIRECT_OPENED = 'DIRECT_OPENED',
  MESSAGE_DELETED = 'MESSAGE_DELETED',
  MEMBER_ROLE_CHANGED = 'MEMBER_ROLE_CHANGED',
  MEMBER_REMOVED = 'MEMBER_REMOVED',
  MEMBER_BANNED = 'MEMBER_BANNED',
  MEMBER_UNBANNED = 'MEMBER_UNBANNED',
  MEMBER_MUTED = 'MEMBER_MUTED',
  SLOW_MODE_CHANGED = 'SLOW_MODE_CHANGED',
  USER_BLOCKED = 'USER_BLOCKED',
  USER_UNBLOCKED = 'USER_UNBLOCKED',
  MESSAGE_REPORTED = 'MESSAGE_REPORTED',
  REPORT_RESOLVED = 'REPORT_RESOLVED',
}

/** The per-user activity log from the design notes. */
@Entity({ tableName: 'activity_log' })
@Index({ properties: ['user', 'id'] })
export class ActivityEntry {
  [OptionalProps]?: 'channelId' | 'at' | 'ip' | 'userAgent';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => User, { deleteRule: 'cascade', index: false })
  user!: User;

  @Enum({ items: () => ActivityAction, type: 'text' })
  action!: ActivityAction;

  /** Kept as a plain id: the log outlives deleted channels. */
  @Property({ type: 'uuid', nullable: true })
  channelId: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  at: Date = new Date();

  @Property({ type: 'text', nullable: true })
  ip: string | null = null;

  @Property({ type: 'text', nullable: true })
  userAgent: string | null = null;
}
