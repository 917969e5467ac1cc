// Every SQL statement on message_reports.
import type { MessageSnapshot } from '../domain/snapshots';
import type { SqlClient } from '../shared/sql';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, authoredSnapshot, MESSAGE_COLUMNS } from './message.queries';

export interface ReportRecord {
  id: string;
  channelId: string;
  reporterId: string;
  reason: string;
  createdAt: Date;
  /** created_at as PostgreSQL prints it (microseconds): the keyset position of the report. */
  position: string;
  message: MessageSnapshot;
}

/** Null when the reporter had already reported the message. */
export async function insertReport(db: SqlClient, report: { id: string; messageId: string; channelId: string; reporterId: string; reason: string }): Promise<string | null> {
  const rows = await db.query<{ id: string }>(
    `insert into message_reports (id, message_id, channel_id, reporter_id, reason) values ($1, $2, $3, $4, $5)
     on conflict (message_id, reporter_id) do nothing returning id`,
    [report.id, report.messageId, report.channelId, report.reporterId, report.reason],
  );
  return rows[0]?.id ?? null;
}

/** The channel of a report, or null when there is no such report. */
export async function reportChannel(db: SqlClient, reportId: string): Promise<string | null> {
  const rows = await db.query<{ channel_id: string }>('select channel_id from message_reports where id = $1', [reportId]);
  return rows[0]?.channel_id ?? null;
}

export async function deleteReport(db: SqlClient, reportId: string): Promise<boolean> {
  const rows = await db.query('delete from message_reports where id = $1 returning id', [reportId]);
  return rows.length > 0;
}

/** A channel's reports, oldest first, after the (created_at, id) keyset position when given, with their messages. */
export async function reportPage(db: SqlClient, channelId: string, after: { position: string; id: string } | null, limit: number): Promise<ReportRecord[]> {
  const values: unknown[] = [channelId];
  const keyset = after ? ` and (r.created_at, r.id) > ($${values.push(after.position)}::timestamptz, $${values.push(after.id)}::uuid)` : '';
  const rows = await db.query<AuthoredMessageRow & { report_id: string; reporter_id: string; reason: string; reported_at: Date; position: string }>(
    `select r.id as report_id, r.reporter_id, r.reason, r.created_at as reported_at, r.created_at::text as position, ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from message_reports r
       join messages m on m.id = r.message_id
       join users u on u.id = m.author_id
      where r.channel_id = $1${keyset}
      order by r.created_at, r.id
      limit $${values.push(limit)}`,
    values,
  );
  return rows.map((row) => ({
    id: row.report_id,
    channelId: channelId,
    reporterId: row.reporter_id,
    reason: row.reason,
    createdAt: row.reported_at,
    position: row.position,
    message: authoredSnapshot(row),
  }));
}
