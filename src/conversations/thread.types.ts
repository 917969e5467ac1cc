import { Field, Int, ObjectType } from 'type-graphql';
import type { MessageSnapshot } from '../domain/snapshots';
import { MessageType } from '../messages/message.types';
import { connectionTypes, encodeCursor } from '../shared/relay';
import type { ThreadSummary } from './thread.queries';

/** What a Thread resolves from: the stored summary and its root message. */
export interface ThreadView extends ThreadSummary {
  root: MessageSnapshot;
}

// `participants`, `following` and `unreadCount` are field resolvers (thread.resolver.ts).
@ObjectType('Thread', { simpleResolvers: true })
export class ThreadType implements ThreadView {
  rootId!: string;
  channelId!: string;

  @Field(() => MessageType, { description: 'The message that started it.' })
  root!: MessageSnapshot;

  @Field(() => Int)
  replyCount!: number;

  @Field(() => Date, { nullable: true })
  lastReplyAt!: Date | null;
}

export const { EdgeType: ThreadEdge, ConnectionType: ThreadConnection } = connectionTypes('Thread', ThreadType);

/** myThreads cursors: the thread's activity time (microseconds) and its root id. */
export const THREAD_CURSOR = 'thr';

export function threadCursor(activityMicros: string, rootId: string): string {
  return encodeCursor(THREAD_CURSOR, `${activityMicros}:${rootId}`);
}
