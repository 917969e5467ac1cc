import type { ChannelAccessControl } from '../channels/access';
import type { MessageSnapshot } from '../domain/snapshots';
import { Topic } from '../domain/topics';
import type { EventBus } from '../realtime/event-bus';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import type { ActionThrottle } from '../shared/rate-limit';
import type { SqlPool } from '../shared/sql';
import * as queries from './reaction.queries';
import type { ReactionGroupSnapshot } from './reaction.queries';
import { requireWritableMessage } from './writable-message';

export interface ReactionDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  throttle: ActionThrottle;
  bus: EventBus;
}

// The area's emoji rule. Unicode's own definition of an emoji, RGI_Emoji (basic emoji, skin
// tone modifiers, flags, keycaps, ZWJ sequences), is a property of the regex engine with the
// `v` flag (Node 20), so no emoji list of ours or a library's can fall behind it. Built with
// the RegExp constructor: TypeScript's ES2022 target refuses the `v` flag in a literal.
const UNICODE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const SHORTCODE = /^:[a-z0-9_+-]{1,32}:$/;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** True for one Unicode emoji (a single grapheme) or a `:shortcode:` of 1-32 characters [a-z0-9_+-]. */
export function isReactionEmoji(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  if (SHORTCODE.test(value)) return true;
  if (!UNICODE_EMOJI.test(value)) return false;
  // RGI_Emoji matches single emoji only; the grapheme count states the rule outright.
  const iterator = graphemes.segment(value)[Symbol.iterator]();
  iterator.next();
  return iterator.next().done === true;
}

/** The emoji as sent (never converted), or BAD_USER_INPUT on `emoji`. */
export function validateEmoji(value: string): string {
  if (!isReactionEmoji(value)) throw new BadUserInputError('emoji', 'The emoji must be one Unicode emoji or a :shortcode: of 1-32 characters from a-z, 0-9, _, + and -.');
  return value;
}

/** Reactions: add and remove (idempotent), the groups of messages, and whose they are. */
export class ReactionService {
  private readonly loaders: ReturnType<typeof queries.reactionLoaders>;

  constructor(private readonly deps: ReactionDeps) {
    this.loaders = queries.reactionLoaders(deps.sql);
  }

  /** Adds the viewer's reaction; adding it again changes nothing (and publishes nothing). */
  add(scope: RequestScope, messageId: string, emoji: string): Promise<MessageSnapshot> {
    return this.write(scope, messageId, emoji, 'add');
  }

  /** Removes the viewer's reaction; removing one not added changes nothing. */
  remove(scope: RequestScope, messageId: string, emoji: string): Promise<MessageSnapshot> {
    return this.write(scope, messageId, emoji, 'remove');
  }

  private async write(scope: RequestScope, messageId: string, rawEmoji: string, op: 'add' | 'remove'): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const emoji = validateEmoji(rawEmoji);
    // Reactions count against the vote limit: both are one-tap answers to a message. The
    // limit and the checks run side by side (neither writes); both must pass before the write.
    const [, message] = await Promise.all([this.deps.throttle.check('vote', viewerId), requireWritableMessage(this.deps, viewerId, messageId)]);
    // The changes of concurrent requests share one statement and commit (reaction.queries.ts).
    const written = await this.loaders.writes.load(`${op}|${message.id}|${viewerId}|${emoji}`);
    if (!written.live) throw new NotFoundError('Message');
    const snapshot = message;
    // Subscribers read the groups when they render the event, after this commit: the newest
    // event always shows the newest state, whatever order concurrent changes publish in.
    if (written.changed) await this.deps.bus.publish(Topic.channel(message.channelId), { type: 'MessageUpdated', message: snapshot });
    return snapshot;
  }

  /** A message's groups, in order of first use (batched with every lookup of the moment). */
  groups(messageId: string): Promise<ReactionGroupSnapshot[]> {
    return this.loaders.groups.load(messageId);
  }

  /**
   * Whether the viewer is in the group: from the group itself when it carries all its users
   * (synchronously: no promise per subscriber), else one lookup batched with every other of
   * the moment (every subscriber of an event too).
   */
  reactedBy(viewerId: string | null, group: ReactionGroupSnapshot): boolean | Promise<boolean> {
    if (!viewerId) return false;
    if (group.allUserIds) return group.allUserIds.includes(viewerId);
    return this.loaders.byUser.load(`${viewerId}|${group.messageId}`).then((mine) => mine.includes(group.emoji));
  }
}
