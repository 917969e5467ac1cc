import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V3 } from './Migration20261201210000';

// Conversations (issue 15): threads and edit history.
// - messages.thread_root_id: set on thread replies (threads are flat: always the root).
// - threads: one summary row per root from its first reply or first follower on;
//   thread_participants: each replier once with their latest reply; thread_follows: who
//   follows a thread and their read marker in it (a channel seq).
// - message_edits: the body before each edit (written in the edit's transaction, deleted in
//   the deletion's).
// - send_messages takes the thread root of each send (p_roots, null for a channel message).
//   Every earlier rule is kept (membership, idempotency keys per author and channel, timeouts,
//   blocks, slow mode, the key-race guard). A reply whose root is not a live, top-level
//   message of the channel answers 'thread_gone' and stores nothing; the roots are locked
//   (FOR SHARE) so a deletion waits for the batch. In the same transaction a reply updates its
//   thread's summary, its participants and followers: with the thread's first reply the
//   root's author follows; every replier follows, their read marker at their own reply.
// The partial indexes of history and threads are built CONCURRENTLY by Migration20261202100100.
export const SEND_MESSAGES_V4 = `
create or replace function send_messages(p_channel uuid, p_ids uuid[], p_authors uuid[], p_bodies text[], p_keys text[], p_roots uuid[])
returns table (
  status text, id uuid, channel_id uuid, seq bigint, author_id uuid, body text,
  created_at timestamptz, edited_at timestamptz, deleted_at timestamptz, upvotes int, downvotes int,
  thread_root_id uuid,
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
  v_new_roots uuid[] := '{}';
  v_roots jsonb := '{}';
  v_seen jsonb := '{}';
  v_existing jsonb;
  v_key text;
  v_inserted int;
begin
  select c.last_seq, c.kind, c.slow_mode_seconds into v_last, v_kind, v_slow from channels c where c.id = p_channel for update;
  if not found then
    return query select 'no_channel'::text, null::uuid, null::uuid, null::bigint, null::uuid, null::text,
      null::timestamptz, null::timestamptz, null::timestamptz, null::int, null::int, null::uuid, null::text, null::text, null::text, null::timestamptz, null::int
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
  if p_roots is not null and exists (select 1 from unnest(p_roots) r where r is not null) then
    select coalesce(jsonb_object_agg(live.id::text, true), '{}') into v_roots
      from (select msg.id from messages msg
             where msg.id in (select r from unnest(p_roots) r where r is not null)
               and msg.channel_id = p_channel and msg.thread_root_id is null and msg.deleted_at is null
             for share of msg) live;
  end if;
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
    if p_roots[i] is not null and not (v_roots ? p_roots[i]::text) then
      v_status[i] := 'thread_gone';
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
    v_new_roots := v_new_roots || p_roots[i];
  end loop;
  if array_length(v_new_ids, 1) > 0 then
    insert into messages (id, channel_id, seq, author_id, body, client_message_id, thread_root_id)
      select n.id, p_channel, n.seq, n.author_id, n.body, n.client_message_id, n.thread_root_id
        from unnest(v_new_ids, v_new_seqs, v_new_authors, v_new_bodies, v_new_keys, v_new_roots) as n(id, seq, author_id, body, client_message_id, thread_root_id)
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
    if exists (select 1 from unnest(v_new_roots) r where r is not null) then
      -- The thread's first reply: the root's author follows (unless they chose not to already).
      insert into thread_follows (user_id, root_id, following, read_seq)
        select msg.author_id, msg.id, true, 0 from messages msg
         where msg.id in (select r from unnest(v_new_roots) r where r is not null)
           and not exists (select 1 from threads t where t.root_id = msg.id and t.reply_count > 0)
        on conflict (user_id, root_id) do nothing;
      insert into threads (root_id, channel_id, reply_count, last_reply_at, last_reply_seq, activity_at)
        select n.root, p_channel, count(*), now(), max(n.seq), now()
          from unnest(v_new_roots, v_new_seqs) as n(root, seq) where n.root is not null group by n.root
        on conflict (root_id) do update set reply_count = threads.reply_count + excluded.reply_count,
          last_reply_at = excluded.last_reply_at, last_reply_seq = excluded.last_reply_seq, activity_at = excluded.activity_at;
      insert into thread_participants (root_id, user_id, last_reply_seq)
        select n.root, n.author, max(n.seq)
          from unnest(v_new_roots, v_new_seqs, v_new_authors) as n(root, seq, author) where n.root is not null group by n.root, n.author
        on conflict (root_id, user_id) do update set last_reply_seq = greatest(thread_participants.last_reply_seq, excluded.last_reply_seq);
      -- Every replier follows, having read the thread up to their own reply.
      insert into thread_follows (user_id, root_id, following, read_seq)
        select n.author, n.root, true, max(n.seq)
          from unnest(v_new_roots, v_new_seqs, v_new_authors) as n(root, seq, author) where n.root is not null group by n.root, n.author
        on conflict (user_id, root_id) do update set following = true, read_seq = greatest(thread_follows.read_seq, excluded.read_seq);
    end if;
  end if;
  return query
    select r.status, msg.id, msg.channel_id, msg.seq, msg.author_id, msg.body,
           msg.created_at, msg.edited_at, msg.deleted_at, msg.upvotes, msg.downvotes, msg.thread_root_id,
           u.username, u.display_name, u.bio, u.created_at, r.retry
      from unnest(v_status, v_targets, v_retry) with ordinality as r(status, target, retry, ord)
      left join messages msg on msg.id = r.target
      left join users u on u.id = msg.author_id
     order by r.ord;
end
$fn$;`;

export class Migration20261202100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "thread_participants" ("root_id" uuid not null, "user_id" uuid not null, "last_reply_seq" bigint not null, constraint "thread_participants_pkey" primary key ("root_id", "user_id"));`);
    this.addSql(`create index "thread_participants_root_id_last_reply_seq_index" on "thread_participants" ("root_id", "last_reply_seq");`);
    this.addSql(`create table "thread_follows" ("user_id" uuid not null, "root_id" uuid not null, "following" boolean not null default true, "read_seq" bigint not null default 0, constraint "thread_follows_pkey" primary key ("user_id", "root_id"));`);
    this.addSql(`create index "thread_follows_root_id_index" on "thread_follows" ("root_id");`);
    this.addSql(`create table "threads" ("root_id" uuid not null, "channel_id" uuid not null, "reply_count" int not null default 0, "last_reply_at" timestamptz null, "last_reply_seq" bigint not null default 0, "activity_at" timestamptz not null default now(), constraint "threads_pkey" primary key ("root_id"));`);
    this.addSql(`create table "message_edits" ("id" bigserial primary key, "message_id" uuid not null, "body" text not null, "edited_at" timestamptz not null default now());`);
    this.addSql(`create index "message_edits_message_id_id_index" on "message_edits" ("message_id", "id");`);

    this.addSql(`alter table "thread_participants" add constraint "thread_participants_root_id_foreign" foreign key ("root_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "thread_participants" add constraint "thread_participants_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "thread_follows" add constraint "thread_follows_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "thread_follows" add constraint "thread_follows_root_id_foreign" foreign key ("root_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "threads" add constraint "threads_root_id_foreign" foreign key ("root_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "threads" add constraint "threads_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_edits" add constraint "message_edits_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);

    // Nullable, no default: adding it rewrites nothing. NOT VALID then VALIDATE: the check of
    // existing rows (all null) takes no lock that blocks sends.
    this.addSql(`alter table "messages" add column "thread_root_id" uuid null;`);
    this.addSql(`alter table "messages" add constraint "messages_thread_root_id_foreign" foreign key ("thread_root_id") references "messages" ("id") on update cascade on delete cascade not valid;`);
    this.addSql(`alter table "messages" validate constraint "messages_thread_root_id_foreign";`);

    this.addSql('drop function if exists send_messages(uuid, uuid[], uuid[], text[], text[]);');
    this.addSql(SEND_MESSAGES_V4);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists send_messages(uuid, uuid[], uuid[], text[], text[], uuid[]);');
    this.addSql(SEND_MESSAGES_V3);
    this.addSql(`alter table "messages" drop constraint if exists "messages_thread_root_id_foreign";`);
    this.addSql(`alter table "messages" drop column "thread_root_id";`);
    this.addSql(`drop table if exists "message_edits" cascade;`);
    this.addSql(`drop table if exists "threads" cascade;`);
    this.addSql(`drop table if exists "thread_follows" cascade;`);
    this.addSql(`drop table if exists "thread_participants" cascade;`);
  }
}
