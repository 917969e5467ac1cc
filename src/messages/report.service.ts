import { randomUUID } from 'node:crypto';
import { ActivityAction, recordActivity } from '../accounts/activity';
import type { ChannelAccessControl } from '../channels/access';
import { ChannelKind } from '../channels/channel.entity';
import { isModerator } from '../channels/channel.service';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { type Connection, connectionOf, decodeCursor, encodeCursor, pageSize } from '../shared/relay';
import type { SqlPool } from '../shared/sql';
import { findMessage } from './message.queries';
import * as queries from './report.queries';

export const MAX_REPORT_REASON_LENGTH = 1000;
const REPORT_CURSOR = 'report';

/** Reports on messages: any reader reports a message once; the channel's owner and moderators list and resolve them. */
export class ReportService {
  constructor(
    private readonly sql: SqlPool,
    private readonly access: ChannelAccessControl,
  ) {}

  async report(scope: RequestScope, messageId: string, rawReason: string): Promise<boolean> {
    const viewerId = requireViewer(scope).userId;
    const reason = typeof rawReason === 'string' ? rawReason.trim() : '';
    if (reason.length === 0) throw new BadUserInputError('reason', 'Say why you report the message.');
    if (reason.length > MAX_REPORT_REASON_LENGTH) throw new BadUserInputError('reason', `reason is at most ${MAX_REPORT_REASON_LENGTH} characters.`);
    if (reason.includes('\u0000')) throw new BadUserInputError('reason', 'reason must not contain NUL characters.');
    const message = isUuid(messageId) ? await findMessage(this.sql, messageId) : null;
    const access = message ? await this.access.findVisible(viewerId, message.channelId) : null;
    if (!message || !access || message.deleted) throw new NotFoundError('Message');
    if (access.channel.kind === ChannelKind.DIRECT) throw new BadUserInputError('messageId', 'Direct conversations have no moderators; block the user instead.');
    await this.sql.transaction(async (tx) => {
      const id = await queries.insertReport(tx, { id: randomUUID(), messageId: message.id, channelId: message.channelId, reporterId: viewerId, reason });
      if (!id) throw new ConflictError('You already reported this message.', 'messageId');
      await recordActivity(tx, viewerId, ActivityAction.MESSAGE_REPORTED, { channelId: message.channelId, ip: scope.ip, userAgent: scope.userAgent });
    });
    return true;
  }

  /** The channel's reports, oldest first. */
  async list(scope: RequestScope, channelId: string, first: number | null | undefined, after: string | null | undefined): Promise<Connection<queries.ReportRecord>> {
    const viewerId = requireViewer(scope).userId;
    const limit = pageSize(first, 'first');
    const position = after === null || after === undefined ? null : decodeReportCursor(after);
    await this.requireModerator(viewerId, channelId);
    const rows = await queries.reportPage(this.sql, channelId.toLowerCase(), position, limit + 1);
    const edges = rows.slice(0, limit).map((node) => ({ cursor: encodeCursor(REPORT_CURSOR, `${node.position}|${node.id}`), node }));
    return connectionOf(edges, { hasNextPage: rows.length > limit, hasPreviousPage: position !== null });
  }

  /** Removes the report. */
  async resolve(scope: RequestScope, reportId: string): Promise<boolean> {
    const viewerId = requireViewer(scope).userId;
    const channelId = isUuid(reportId) ? await queries.reportChannel(this.sql, reportId) : null;
    if (!channelId) throw new NotFoundError('Report');
    // Those who may not see the channel learn nothing of its reports.
    if (!(await this.access.findVisible(viewerId, channelId))) throw new NotFoundError('Report');
    await this.requireModerator(viewerId, channelId);
    await this.sql.transaction(async (tx) => {
      if (!(await queries.deleteReport(tx, reportId))) throw new NotFoundError('Report');
      await recordActivity(tx, viewerId, ActivityAction.REPORT_RESOLVED, { channelId, ip: scope.ip, userAgent: scope.userAgent });
    });
    return true;
  }

  private async requireModerator(viewerId: string, channelId: string): Promise<void> {
    const { channel, membership } = await this.access.requireMember(viewerId, channelId);
    if (channel.kind === ChannelKind.DIRECT) throw new BadUserInputError('channelId', 'Direct conversations have no moderation.');
    if (!isModerator(membership.role)) throw new ForbiddenError("Only the channel's owner and moderators see its reports.");
  }
}

function decodeReportCursor(cursor: string): { position: string; id: string } {
  const [position, id] = decodeCursor(REPORT_CURSOR, cursor, 'after').split('|');
  // PostgreSQL's own text form of a timestamptz, e.g. 2026-12-01 20:50:01.123456+00.
  if (!id || !isUuid(id) || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test(position)) {
    throw new BadUserInputError('after', 'after is not a valid cursor.');
  }
  return { position, id };
}
