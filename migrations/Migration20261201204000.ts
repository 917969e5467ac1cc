import { Migration } from '@mikro-orm/migrations';

// Idempotency keys (clientMessageId) are scoped to (author, channel): a key reused in another
// channel is a new message there, and a key can no longer return (or reveal) a message of a
// channel the author was removed from. The unique constraint becomes (channel_id, author_id,
// client_message_id) and send_messages (Migration20261201090000) looks keys up in its own
// channel only. Every send to a channel runs under that channel's row lock, so two batches can
// no longer race for one key; the 'key race' check stays as a guard.
export class Migration20261201204000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "messages" drop constraint "messages_author_id_client_message_id_unique";');
    this.addSql(
      'alter table "messages" add constraint "messages_channel_id_author_id_client_message_id_unique" unique ("channel_id", "author_id", "client_message_id");',
    );
    this.addSql(SEND_MESSAGES_V2);
  }
}

/** send_messages with idempotency keys per (author, channel); Migration20261201210000 restores it on the way down. */
export const SEND_MESSAGES_V2 = `
create or replace function send_messages(p_channel uuid, p_ids uuid[], p_authors uuid[], p_bodies text[], p_keys text[])
returns table (
  status text, id uuid, channel_id uuid, seq bigint, author_id uuid, body text,
  created_at timestamptz, edited_at timestamptz, deleted_at timestamptz, upvotes int, downvotes int,
  author_username text, author_display_name text, author_bio text, author_created_at timestamptz
)
language plpgsql as $fn$
#variable_conflict use_column
declare
  v_last bigint;
  v_kind text;
  v_count int := coalesce(array_length(p_ids, 1), 0);
  v_members uuid[];
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
  select c.last_seq, c.kind into v_last, v_kind from channels c where c.id = p_channel for update;
  if not found then
    return query select 'no_channel'::text, null::uuid, null::uuid, null::bigint, null::uuid, null::text,
      null::timestamptz, null::timestamptz, null::timestamptz, null::int, null::int, null::text, null::text, null::text, null::timestamptz
      from generate_series(1, v_count);
    return;
  end if;
  select coalesce(array_agg(m.user_id), '{}') into v_members
    from memberships m where m.channel_id = p_channel and m.user_id = any(p_authors);
  select coalesce(jsonb_object_agg(msg.author_id::text || '|' || msg.client_message_id, msg.id), '{}') into v_existing
    from messages msg
    join unnest(p_authors, p_keys) as k(author_id, client_message_id)
      on msg.channel_id = p_channel and msg.author_id = k.author_id and msg.client_message_id = k.client_message_id;
  for i in 1 .. v_count loop
    if not (p_authors[i] = any(v_members)) then
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
  end if;
  return query
    select r.status, msg.id, msg.channel_id, msg.seq, msg.author_id, msg.body,
           msg.created_at, msg.edited_at, msg.deleted_at, msg.upvotes, msg.downvotes,
           u.username, u.display_name, u.bio, u.created_at
      from unnest(v_status, v_targets) with ordinality as r(status, target, ord)
      left join messages msg on msg.id = r.target
      left join users u on u.id = msg.author_id
     order by r.ord;
end
$fn$;`;
