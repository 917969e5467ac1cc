import { Migration } from '@mikro-orm/migrations';

// Attention: the viewer's unread notification count is read from notification_counts, kept
// exact by statement-level triggers on notifications (transition tables: one grouped upsert per
// statement, so an @channel to 10,000 members adds one statement, not 10,000). Counting the
// unread rows on every call scanned up to every unread index entry of the user (0.23 of a
// history page's rate at 50,000 unread). Upserts run in user-id order so concurrent statements
// over the same users lock their rows in one order (no deadlock). The triggers are created
// before the backfill, in one transaction whose lock on notifications holds writes meanwhile.
export class Migration20261202160000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "notification_counts" ("user_id" uuid not null, "unread" int not null default 0, constraint "notification_counts_pkey" primary key ("user_id"));`);
    this.addSql(`alter table "notification_counts" add constraint "notification_counts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`
create function notification_counts_apply(p_user uuid[], p_delta int[]) returns void language sql as $fn$
  insert into notification_counts as c (user_id, unread)
  select d.user_id, d.delta from unnest(p_user, p_delta) as d(user_id, delta) where d.delta <> 0 order by d.user_id
  on conflict (user_id) do update set unread = c.unread + excluded.unread
$fn$;`);
    this.addSql(`
create function notification_counts_after_insert() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, count(*)::int as delta from new_rows where read_at is null group by user_id) d;
  return null;
end $fn$;`);
    this.addSql(`
create function notification_counts_after_update() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, sum(delta)::int as delta
             from (select user_id, (read_at is null)::int as delta from new_rows
                   union all
                   select user_id, -(read_at is null)::int from old_rows) changes
            group by user_id) d;
  return null;
end $fn$;`);
    this.addSql(`
create function notification_counts_after_delete() returns trigger language plpgsql as $fn$
begin
  perform notification_counts_apply(array_agg(user_id order by user_id), array_agg(delta order by user_id))
     from (select user_id, -count(*)::int as delta from old_rows where read_at is null group by user_id) d;
  return null;
end $fn$;`);
    this.addSql(`create trigger notification_counts_insert after insert on notifications referencing new table as new_rows for each statement execute function notification_counts_after_insert();`);
    this.addSql(`create trigger notification_counts_update after update on notifications referencing old table as old_rows new table as new_rows for each statement execute function notification_counts_after_update();`);
    this.addSql(`create trigger notification_counts_delete after delete on notifications referencing old table as old_rows for each statement execute function notification_counts_after_delete();`);
    this.addSql(`insert into notification_counts (user_id, unread) select user_id, count(*) from notifications where read_at is null group by user_id;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists notification_counts_insert on notifications;');
    this.addSql('drop trigger if exists notification_counts_update on notifications;');
    this.addSql('drop trigger if exists notification_counts_delete on notifications;');
    this.addSql('drop function if exists notification_counts_after_insert();');
    this.addSql('drop function if exists notification_counts_after_update();');
    this.addSql('drop function if exists notification_counts_after_delete();');
    this.addSql('drop function if exists notification_counts_apply(uuid[], int[]);');
    this.addSql('drop table if exists "notification_counts" cascade;');
  }
}
