import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V2 } from './Migration20261201204000';

// Moderation (issue 18). send_messages also refuses, in the same statement (no extra round trip):
//   'muted'   the member's timeout (memberships.muted_until) has not expired;
//   'blocked' a DIRECT channel whose other member blocked the sender (user_blocks);
//   'slow'    slow mode (channels.slow_mode_seconds > 0): a MEMBER whose last send
//             (memberships.last_sent_at, kept here) is younger than the interval; retry_after
//             is the whole seconds until they may send. Owners and moderators are exempt.
// A repeated clientMessageId (scoped to author and channel, Migration20261201204000) still
// answers 'repeat' first (it stores nothing).
/** send_messages with the moderation checks; Migration20261202100000 restores it on the way down. */
export const SEND_MESSAGES_V3 = `
create or replace function send_messages(p_channel uuid, p_ids uuid[], p_authors uuid[], p_bodies text[], p_keys text[])
returns table (
  status text, id uuid, channel_id uuid, seq bigint, author_id uuid, body text,
  created_at timestamptz, edited_at timestamptz, deleted_at timestamptz, upvotes int, downvotes int,
  author_username text, author_display_name text, author_bio text, author_created_at timestamptz,
  retry_after int
)
language plpgsql as $fn$
#variable_conflict use_column
declare
  v_last bigint;
  v_kind text;
  v_count int := coalesce(array_length(p_ids, 1), 0);
  v_slow int;
  v_members jsonb;
  v_member jsonb;
  v_blocked uuid[] := '{}';
  v_retry int[] := array_fill(null::int, array[v_count]);
  v_sent jsonb := '{}';
  v_last_sent double precision;
  v_now double precision := extract(epoch from now());
  v_status text[] := array_fill(null::text, array[v_count]);
  v_targets uuid[] := array_fill(null::uuid, array[v_count]);
  v_new_ids uuid[] := '{}';
  v_new_seqs bigint[] := '{}';
  v_new_authors uuid[] := '{}';
  v_new_bodies text[] := '{}';
  v_new_keys text[] := '{}';
  v_seen jsonb := '{}';
  v_existing jsonb;
  v_key text;
  v_inserted int;
begin
  select c.last_seq, c.kind, c.slow_mode_seconds into v_last, v_kind, v_slow from channels c where c.id = p_channel for update;
  if not found then
    return query select 'no_channel'::text, null::uuid, null::uuid, null::bigint, null::uuid, null::text,
      null::timestamptz, null::timestamptz, null::timestamptz, null::int, null::int, null::text, null::text, null::text, null::timestamptz, null::int
      from generate_series(1, v_count);
    return;
  end if;
  select coalesce(jsonb_object_agg(m.user_id::text, jsonb_build_object(
           'role', m.role, 'muted', coalesce(m.muted_until > now(), false), 'last', extract(epoch from m.last_sent_at))), '{}')
    into v_members
    from memberships m where m.channel_id = p_channel and m.user_id = any(p_authors);
  if v_kind = 'DIRECT' then
    select coalesce(array_agg(b.blocked_id), '{}') into v_blocked
      from user_blocks b join memberships m on m.channel_id = p_channel and m.user_id = b.blocker_id
     where b.blocked_id = any(p_authors);
  end if;
  select coalesce(jsonb_object_agg(msg.author_id::text || '|' || msg.client_message_id, msg.id), '{}') into v_existing
    from messages msg
    join unnest(p_authors, p_keys) as k(author_id, client_message_id)
      on msg.channel_id = p_channel and msg.author_id = k.author_id and msg.client_message_id = k.client_message_id;
  for i in 1 .. v_count loop
    v_member := v_members -> p_authors[i]::text;
    if v_member is null then
      v_status[i] := case when v_kind = 'PUBLIC' then 'not_member' else 'invisible' end;
      continue;
    end if;
    if p_keys[i] is not null then
      v_key := p_authors[i]::text || '|' || p_keys[i];
      if v_existing ? v_key then
        v_status[i] := 'repeat';
        v_targets[i] := (v_existing ->> v_key)::uuid;
        continue;
      end if;
      if v_seen ? v_key then
        v_status[i] := 'repeat';
        v_targets[i] := (v_seen ->> v_key)::uuid;
        continue;
      end if;
    end if;
    if (v_member ->> 'muted')::boolean then
      v_status[i] := 'muted';
      continue;
    end if;
    if p_authors[i] = any(v_blocked) then
      v_status[i] := 'blocked';
      continue;
    end if;
    if v_slow > 0 and v_member ->> 'role' = 'MEMBER' then
      v_last_sent := coalesce((v_sent ->> p_authors[i]::text)::double precision, (v_member ->> 'last')::double precision);
      if v_last_sent is not null and v_last_sent + v_slow > v_now then
        v_status[i] := 'slow';
        v_retry[i] := ceil(v_last_sent + v_slow - v_now)::int;
        continue;
      end if;
      v_sent := v_sent || jsonb_build_object(p_authors[i]::text, v_now);
    end if;
    if p_keys[i] is not null then
      v_seen := v_seen || jsonb_build_object(v_key, p_ids[i]);
    end if;
    v_last := v_last + 1;
    v_status[i] := 'created';
    v_targets[i] := p_ids[i];
    v_new_ids := v_new_ids || p_ids[i];
    v_new_seqs := v_new_seqs || v_last;
    v_new_authors := v_new_authors || p_authors[i];
    v_new_bodies := v_new_bodies || p_bodies[i];
    v_new_keys := v_new_keys || p_keys[i];
  end loop;
  if array_length(v_new_ids, 1) > 0 then
    insert into messages (id, channel_id, seq, author_id, body, client_message_id)
      select n.id, p_channel, n.seq, n.author_id, n.body, n.client_message_id
        from unnest(v_new_ids, v_new_seqs, v_new_authors, v_new_bodies, v_new_keys) as n(id, seq, author_id, body, client_message_id)
      on conflict (channel_id, author_id, client_message_id) do nothing;
    get diagnostics v_inserted = row_count;
    if v_inserted <> array_length(v_new_ids, 1) then
      raise exception 'send_messages: key race' using errcode = '40001';
    end if;
    update channels set last_seq = v_last, last_activity_at = now() where channels.id = p_channel;
    if v_sent <> '{}' then
      update memberships set last_sent_at = now()
       where memberships.channel_id = p_channel and memberships.user_id in (select k::uuid from jsonb_object_keys(v_sent) k);
    end if;
  end if;
  return query
    select r.status, msg.id, msg.channel_id, msg.seq, msg.author_id, msg.body,
           msg.created_at, msg.edited_at, msg.deleted_at, msg.upvotes, msg.downvotes,
           u.username, u.display_name, u.bio, u.created_at, r.retry
      from unnest(v_status, v_targets, v_retry) with ordinality as r(status, target, retry, ord)
      left join messages msg on msg.id = r.target
      left join users u on u.id = msg.author_id
     order by r.ord;
end
$fn$;`;

export class Migration20261201210000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "message_reports" ("id" uuid not null, "message_id" uuid not null, "channel_id" uuid not null, "reporter_id" uuid not null, "reason" text not null, "created_at" timestamptz not null default now(), constraint "message_reports_pkey" primary key ("id"));`);
    this.addSql(`create index "message_reports_channel_id_created_at_id_index" on "message_reports" ("channel_id", "created_at", "id");`);
    this.addSql(`alter table "message_reports" add constraint "message_reports_message_id_reporter_id_unique" unique ("message_id", "reporter_id");`);

    this.addSql(`create table "channel_bans" ("channel_id" uuid not null, "user_id" uuid not null, "expires_at" timestamptz null, "reason" text null, "banned_by" uuid null, "created_at" timestamptz not null default now(), constraint "channel_bans_pkey" primary key ("channel_id", "user_id"));`);

    this.addSql(`create table "user_blocks" ("blocker_id" uuid not null, "blocked_id" uuid not null, "created_at" timestamptz not null default now(), constraint "user_blocks_pkey" primary key ("blocker_id", "blocked_id"));`);
    this.addSql(`create index "user_blocks_blocked_id_index" on "user_blocks" ("blocked_id");`);

    this.addSql(`alter table "message_reports" add constraint "message_reports_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_reports" add constraint "message_reports_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_reports" add constraint "message_reports_reporter_id_foreign" foreign key ("reporter_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "channel_bans" add constraint "channel_bans_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "channel_bans" add constraint "channel_bans_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_blocks" add constraint "user_blocks_blocker_id_foreign" foreign key ("blocker_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_blocks" add constraint "user_blocks_blocked_id_foreign" foreign key ("blocked_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "memberships" drop constraint if exists "memberships_role_check";`);

    this.addSql(`alter table "activity_log" drop constraint if exists "activity_log_action_check";`);

    this.addSql(`alter table "channels" add column "slow_mode_seconds" int not null default 0;`);

    this.addSql(`alter table "memberships" add column "muted_until" timestamptz null, add column "last_sent_at" timestamptz null;`);
    this.addSql(`alter table "memberships" add constraint "memberships_role_check" check("role" in ('OWNER', 'MODERATOR', 'MEMBER'));`);

    this.addSql(`alter table "activity_log" add constraint "activity_log_action_check" check("action" in ('SIGNUP', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'PASSWORD_CHANGED', 'CHANNEL_CREATED', 'CHANNEL_JOINED', 'CHANNEL_LEFT', 'CHANNEL_DELETED', 'DIRECT_OPENED', 'MESSAGE_DELETED', 'MEMBER_ROLE_CHANGED', 'MEMBER_REMOVED', 'MEMBER_BANNED', 'MEMBER_UNBANNED', 'MEMBER_MUTED', 'SLOW_MODE_CHANGED', 'USER_BLOCKED', 'USER_UNBLOCKED', 'MESSAGE_REPORTED', 'REPORT_RESOLVED'));`);

    this.addSql('drop function if exists send_messages(uuid, uuid[], uuid[], text[], text[]);');
    this.addSql(SEND_MESSAGES_V3);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists send_messages(uuid, uuid[], uuid[], text[], text[]);');
    this.addSql(SEND_MESSAGES_V2);
    this.addSql(`drop table if exists "message_reports" cascade;`);

    this.addSql(`drop table if exists "channel_bans" cascade;`);

    this.addSql(`drop table if exists "user_blocks" cascade;`);

    this.addSql(`alter table "activity_log" drop constraint if exists "activity_log_action_check";`);

    this.addSql(`alter table "memberships" drop constraint if exists "memberships_role_check";`);

    this.addSql(`alter table "activity_log" add constraint "activity_log_action_check" check("action" in ('SIGNUP', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'PASSWORD_CHANGED', 'CHANNEL_CREATED', 'CHANNEL_JOINED', 'CHANNEL_LEFT', 'CHANNEL_DELETED', 'DIRECT_OPENED', 'MESSAGE_DELETED'));`);

    this.addSql(`alter table "channels" drop column "slow_mode_seconds";`);

    this.addSql(`alter table "memberships" drop column "muted_until", drop column "last_sent_at";`);

    this.addSql(`alter table "memberships" add constraint "memberships_role_check" check("role" in ('OWNER', 'MEMBER'));`);
  }

}
