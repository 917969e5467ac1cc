import { Migration } from '@mikro-orm/migrations';

// notification_counts (Migration20261202160000) is kept by statement-level triggers, which
// PostgreSQL fires for every INSERT, UPDATE or DELETE on notifications, also one that touched
// no row: every send runs the insert of its notifications, and most notify no one. Each firing
// called notification_counts_apply, an SQL function, which PostgreSQL plans afresh at every
// call: an INSERT ... ON CONFLICT planned and run for nothing on each send. A send in a
// 2,000-member channel (pgbench, 4 clients, the send statement as the server runs it) took
// 3.0 ms of PostgreSQL CPU with it and 2.6 without. The triggers now return at once when the
// statement changed no unread notification; what they do otherwise is unchanged. The old
// definitions (for down()) are Migration20261202160000's, with `create or replace`.

const INSERT_V1 = `create or replace function notification_counts_after_insert() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, count(*)::int as delta from new_rows where read_at is null group by user_id) d;
  return null;
end $fn$;`;

const UPDATE_V1 = `create or replace function notification_counts_after_update() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, sum(delta)::int as delta
             from (select user_id, (read_at is null)::int as delta from new_rows
                   union all
                   select user_id, -(read_at is null)::int from old_rows) changes
            group by user_id) d;
  return null;
end $fn$;`;

const DELETE_V1 = `create or replace function notification_counts_after_delete() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, -count(*)::int as delta from old_rows where read_at is null group by user_id) d;
  return null;
end $fn$;`;

/** `fn` returning at once when `unchanged` (SQL over the transition tables) holds. */
function guarded(fn: string, unchanged: string): string {
  const guard = `begin\n  if ${unchanged} then return null; end if;\n`;
  if (!fn.includes('begin\n')) throw new Error('Migration20261203110000: no body to guard');
  return fn.replace('begin\n', guard);
}

const INSERT_V2 = guarded(INSERT_V1, 'not exists (select from new_rows where read_at is null)');
// An update changes a count only where a row's read_at went from null to set or back.
const UPDATE_V2 = guarded(UPDATE_V1, 'not exists (select from new_rows where read_at is null) and not exists (select from old_rows where read_at is null)');
const DELETE_V2 = guarded(DELETE_V1, 'not exists (select from old_rows where read_at is null)');

export class Migration20261203110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(INSERT_V2);
    this.addSql(UPDATE_V2);
    this.addSql(DELETE_V2);
  }

  override async down(): Promise<void> {
    this.addSql(INSERT_V1);
    this.addSql(UPDATE_V1);
    this.addSql(DELETE_V1);
  }
}
