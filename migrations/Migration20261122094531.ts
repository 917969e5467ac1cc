import { Migration } from '@mikro-orm/migrations';

// The initial schema, and the channel named `public` that every new user joins.
export class Migration20261122094531 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "error_log" ("id" uuid not null, "at" timestamptz not null default now(), "operation" text null, "user_id" uuid null, "request_id" text null, "message" text not null, "stack" text null, constraint "error_log_pkey" primary key ("id"));`);

    this.addSql(`create table "users" ("id" uuid not null, "email" text not null, "username" text not null, "username_key" text not null, "display_name" text not null, "bio" text null, "password_hash" text not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    this.addSql(`alter table "users" add constraint "users_username_key_unique" unique ("username_key");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "user_id" uuid not null, "token_hash" text not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz not null default now(), "expires_at" timestamptz not null, "revoked_at" timestamptz null, "ip" text null, "user_agent" text null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "channels" ("id" uuid not null, "name" text not null, "description" text null, "kind" text check ("kind" in ('PUBLIC', 'PRIVATE', 'DIRECT')) not null default 'PUBLIC', "owner_id" uuid null, "last_seq" bigint not null default 0, "member_count" int not null default 0, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "last_activity_at" timestamptz not null default now(), constraint "channels_pkey" primary key ("id"));`);
    this.addSql(`alter table "channels" add constraint "channels_name_unique" unique ("name");`);

    this.addSql(`create table "messages" ("id" uuid not null, "channel_id" uuid not null, "seq" bigint not null, "author_id" uuid not null, "body" text null, "client_message_id" text null, "created_at" timestamptz not null default now(), "edited_at" timestamptz null, "deleted_at" timestamptz null, "upvotes" int not null default 0, "downvotes" int not null default 0, constraint "messages_pkey" primary key ("id"));`);
    this.addSql(`alter table "messages" add constraint "messages_author_id_client_message_id_unique" unique ("author_id", "client_message_id");`);
    this.addSql(`alter table "messages" add constraint "messages_channel_id_seq_unique" unique ("channel_id", "seq");`);

    this.addSql(`create table "memberships" ("channel_id" uuid not null, "user_id" uuid not null, "role" text check ("role" in ('OWNER', 'MEMBER')) not null default 'MEMBER', "joined_at" timestamptz not null default now(), "last_read_seq" bigint not null default 0, constraint "memberships_pkey" primary key ("channel_id", "user_id"));`);
    this.addSql(`create index "memberships_user_id_channel_id_index" on "memberships" ("user_id", "channel_id");`);

    this.addSql(`create table "activity_log" ("id" bigserial primary key, "user_id" uuid not null, "action" text check ("action" in ('SIGNUP', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'PASSWORD_CHANGED', 'CHANNEL_CREATED', 'CHANNEL_JOINED', 'CHANNEL_LEFT', 'CHANNEL_DELETED', 'DIRECT_OPENED', 'MESSAGE_DELETED')) not null, "channel_id" uuid null, "at" timestamptz not null default now(), "ip" text null, "user_agent" text null);`);
    this.addSql(`create index "activity_log_user_id_id_index" on "activity_log" ("user_id", "id");`);

    this.addSql(`create table "votes" ("message_id" uuid not null, "user_id" uuid not null, "value" smallint not null, constraint "votes_pkey" primary key ("message_id", "user_id"));`);
    this.addSql(`create index "votes_user_id_index" on "votes" ("user_id");`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "channels" add constraint "channels_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "messages" add constraint "messages_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "messages" add constraint "messages_author_id_foreign" foreign key ("author_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "memberships" add constraint "memberships_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "activity_log" add constraint "activity_log_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "votes" add constraint "votes_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "votes" add constraint "votes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`insert into "channels" ("id", "name", "description", "kind") values (gen_random_uuid(), 'public', 'The channel everyone joins.', 'PUBLIC') on conflict ("name") do nothing;`);
  }

}
