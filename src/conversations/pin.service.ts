import type { ChannelAccessControl } from '../channels/access';
import type { MessageSnapshot } from '../domain/snapshots';
import { Topic } from '../domain/topics';
import type { EventBus } from '../realtime/event-bus';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import type { ActionThrottle } from '../shared/rate-limit';
import type { SqlPool } from '../shared/sql';
import * as queries from './pin.queries';
import { requireWritableMessage } from './writable-message';

export interface PinDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  throttle: ActionThrottle;
  bus: EventBus;
}

/** Pins a channel keeps at most (the area's rule). */
export const MAX_PINS_PER_CHANNEL = 50;

/** Pins: any member pins or unpins (idempotent), at most MAX_PINS_PER_CHANNEL per channel. */
export class PinService {
  private readonly loaders: ReturnType<typeof queries.pinLoaders>;

  constructor(private readonly deps: PinDeps) {
    this.loaders = queries.pinLoaders(deps.sql);
  }

  /** Pins the message; pinning it again changes nothing. The pin past the cap is BAD_USER_INPUT on `messageId`. */
  async pin(scope: RequestScope, messageId: string): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    await this.deps.throttle.check('vote', viewerId);
    const message = await requireWritableMessage(this.deps, viewerId, messageId);
    const outcome = await this.deps.sql.transaction((tx) => queries.pinMessage(tx, message.channelId, message.id, viewerId, MAX_PINS_PER_CHANNEL));
    if (outcome === 'full') throw new BadUserInputError('messageId', `A channel keeps at most ${MAX_PINS_PER_CHANNEL} pinned messages: unpin one first.`);
    return this.after(message, outcome);
  }

  /** Unpins the message; unpinning one not pinned changes nothing. */
  async unpin(scope: RequestScope, messageId: string): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    await this.deps.throttle.check('vote', viewerId);
    const message = await requireWritableMessage(this.deps, viewerId, messageId);
    return this.after(message, await queries.unpinMessage(this.deps.sql, message.id));
  }

  private async after(message: MessageSnapshot, outcome: queries.PinOutcome): Promise<MessageSnapshot> {
    // Deleted since it was read: a deleted message takes no pins.
    if (outcome === 'gone') throw new NotFoundError('Message');
    // Message.pinned is read when the event renders, after this commit.
    if (outcome === 'changed') await this.deps.bus.publish(Topic.channel(message.channelId), { type: 'MessageUpdated', message });
    return message;
  }

  /** Whether the message is pinned (batched with every lookup of the moment). */
  isPinned(messageId: string): Promise<boolean> {
    return this.loaders.pinned.load(messageId);
  }

  /** The channel's pinned messages, most recently pinned first. */
  pinnedMessages(channelId: string): Promise<MessageSnapshot[]> {
    return this.loaders.pinnedMessages.load(channelId);
  }
}
